package webui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

func TestSendThenGet(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)

	r := e.do("POST", "/api/v1/messages", tok, map[string]any{
		"to": "07911 123123", "text": "Hello from the API", "status_report": true,
		"ref": map[string]string{"type": "applicant", "id": "123"},
	})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var sr api.SendResponse
	r.json(t, &sr)
	if len(sr.Messages) != 1 || len(sr.Errors) != 0 || sr.Replayed {
		t.Fatalf("answer %s", r.body)
	}
	m := sr.Messages[0]
	if m.To != "+447911123123" || m.Parts != 1 || m.Encoding == "" || m.State != model.StateQueued {
		t.Fatalf("message %+v", m)
	}

	g := e.do("GET", "/api/v1/messages/"+m.ID, tok, nil)
	if g.status != http.StatusOK {
		t.Fatalf("get %d: %s", g.status, g.body)
	}
	var mv api.MessageView
	g.json(t, &mv)
	if mv.ID != m.ID || mv.Number != "+447911123123" || mv.Text != "Hello from the API" || !mv.StatusReport ||
		mv.Ref == nil || mv.Ref.ID != "123" || len(mv.PartStates) != 1 || mv.PartStates[0].State != model.StateQueued {
		t.Fatalf("message view %s", g.body)
	}

	l := e.do("GET", "/api/v1/messages?state=queued", tok, nil)
	var lr api.List[api.MessageView]
	l.json(t, &lr)
	if l.status != 200 || len(lr.Items) != 1 || lr.Items[0].ID != m.ID {
		t.Fatalf("list %d: %s", l.status, l.body)
	}
	l = e.do("GET", "/api/v1/messages?number=%2B447911123123", tok, nil)
	l.json(t, &lr)
	if l.status != 200 || len(lr.Items) != 1 {
		t.Fatalf("list by number %d: %s", l.status, l.body)
	}
	l = e.do("GET", "/api/v1/messages?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), tok, nil)
	l.json(t, &lr)
	if l.status != 200 || len(lr.Items) != 0 {
		t.Fatalf("list since the future %d: %s", l.status, l.body)
	}
}

func TestSendRecipientErrors(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend)

	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123123", "banana", "+447911123124"}, "text": "hi"})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var sr api.SendResponse
	r.json(t, &sr)
	if len(sr.Messages) != 2 || len(sr.Errors) != 1 || sr.Errors[0].Index != 1 || sr.Errors[0].To != "banana" || sr.Errors[0].Code != "invalid_number" {
		t.Fatalf("answer %s", r.body)
	}

	r = e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"banana", "12"}, "text": "hi"})
	if r.status != http.StatusUnprocessableEntity || r.errCode(t) != "no_valid_recipients" {
		t.Fatalf("all bad: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"index":1`) {
		t.Errorf("details do not list the recipients: %s", r.body)
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend)
	body := map[string]any{"to": "+447911123123", "text": "once"}
	first := e.do("POST", "/api/v1/messages", tok, body, "Idempotency-Key", "k-1")
	second := e.do("POST", "/api/v1/messages", tok, body, "Idempotency-Key", "k-1")
	if first.status != 202 || second.status != 202 {
		t.Fatalf("%d %s / %d %s", first.status, first.body, second.status, second.body)
	}
	var a, b api.SendResponse
	first.json(t, &a)
	second.json(t, &b)
	if a.BatchID != b.BatchID || a.Messages[0].ID != b.Messages[0].ID || a.Replayed || !b.Replayed {
		t.Fatalf("first %s, repeat %s", first.body, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" {
		t.Error("no Idempotent-Replayed header")
	}
	other := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123123", "text": "twice?"}, "Idempotency-Key", "k-1")
	if other.status != http.StatusConflict || other.errCode(t) != "idempotency_key_reused" {
		t.Fatalf("reuse with another body: %d %s", other.status, other.body)
	}
}

func TestErrorPaths(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 2048}, gateway.Options{MaxRecipients: 3, MaxTextChars: 20})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, readOnly := e.user("rita", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	tests := []struct {
		name, method, path, token string
		body                      any
		hdr                       []string
		status                    int
		code                      string
		contains                  string
	}{
		{"no token", "GET", "/api/v1/messages", "", nil, nil, 401, "unauthorized", "Bearer"},
		{"bad token", "GET", "/api/v1/messages", "gsm_nope", nil, nil, 401, "unauthorized", ""},
		{"basic instead of bearer", "GET", "/api/v1/messages", "", nil, []string{"Authorization", "Basic YTpi"}, 401, "unauthorized", ""},
		{"scope", "POST", "/api/v1/messages", readOnly, `{"to":"+447911123123","text":"x"}`, nil, 403, "forbidden", `"send"`},
		{"admin scope", "GET", "/api/v1/webhooks", tok, nil, nil, 403, "forbidden", `"admin"`},
		{"malformed", "POST", "/api/v1/messages", tok, "{\n  \"to\": \"+447911123123\",\n  \"text\": \"x\"\n  \"user\": 1}", nil, 400, "invalid_json", "line 4, column 3"},
		{"truncated", "POST", "/api/v1/messages", tok, `{"to": "+44`, nil, 400, "invalid_json", "ends early"},
		{"empty", "POST", "/api/v1/messages", tok, "", nil, 400, "invalid_json", "empty"},
		{"trailing", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x"} {}`, nil, 400, "invalid_json", "after the JSON value"},
		{"unknown field", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x","colour":"red"}`, nil, 400, "unknown_field", `"colour"`},
		{"unknown nested field", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x","ref":{"type":"a","id":"1","x":2}}`, nil, 400, "unknown_field", `"x"`},
		{"wrong type", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":5}`, nil, 400, "invalid_field", `"text"`},
		{"to as number", "POST", "/api/v1/messages", tok, `{"to":447911123123,"text":"x"}`, nil, 400, "invalid_field", `"to"`},
		{"no text", "POST", "/api/v1/messages", tok, `{"to":"+447911123123"}`, nil, 400, "invalid_field", `"text"`},
		{"no to", "POST", "/api/v1/messages", tok, `{"text":"x"}`, nil, 400, "invalid_field", `"to"`},
		{"text too long", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"123456789012345678901"}`, nil, 413, "text_too_long", "21 characters"},
		{"too many", "POST", "/api/v1/messages", tok, `{"to":["1","2","3","4"],"text":"x"}`, nil, 413, "too_many_recipients", "limit is 3"},
		{"body too large", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"` + strings.Repeat("x", 3000) + `"}`, nil, 413, "body_too_large", "2048"},
		{"content type", "POST", "/api/v1/messages", tok, nil, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"expired", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x","expires_at":"2001-01-01T00:00:00Z"}`, nil, 400, "invalid_field", "expires_at"},
		{"bad time", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x","send_at":"tomorrow"}`, nil, 400, "invalid_json", ""},
		{"send as other user", "POST", "/api/v1/messages", tok, `{"to":"+447911123123","text":"x","user":"rita"}`, nil, 403, "forbidden", "another user"},
		{"bad id", "GET", "/api/v1/messages/xyz", tok, nil, nil, 404, "not_found", ""},
		{"missing id", "GET", "/api/v1/messages/00000000000000ff", tok, nil, nil, 404, "not_found", ""},
		{"bad state", "GET", "/api/v1/messages?state=lost", tok, nil, nil, 400, "invalid_field", "state"},
		{"bad limit", "GET", "/api/v1/messages?limit=0", tok, nil, nil, 400, "invalid_field", "limit"},
		{"bad since", "GET", "/api/v1/messages?since=yesterday", tok, nil, nil, 400, "invalid_field", "since"},
		{"bad cursor", "GET", "/api/v1/messages?cursor=zz", tok, nil, nil, 400, "invalid_field", "cursor"},
		{"bad number", "GET", "/api/v1/contacts/banana", tok, nil, nil, 422, "invalid_number", "banana"},
		{"unknown route", "GET", "/api/v1/nothing", tok, nil, nil, 404, "route_not_found", ""},
		{"method", "PATCH", "/api/v1/messages", tok, nil, nil, 405, "method_not_allowed", ""},
		{"other user's conversations", "GET", "/api/v1/conversations?user=rita", tok, nil, nil, 403, "forbidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != nil {
				body = tt.body
			}
			hdr := tt.hdr
			if tt.name == "content type" {
				body = "to=1"
			}
			r := e.do(tt.method, tt.path, tt.token, body, hdr...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if c := r.errCode(t); c != tt.code {
				t.Fatalf("code %q, want %q: %s", c, tt.code, r.body)
			}
			if !strings.Contains(string(r.body), tt.contains) {
				t.Fatalf("body %s does not contain %q", r.body, tt.contains)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{RatePerSecond: 0.001, RateBurst: 2})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	_, other := e.user("bob", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	for i := 0; i < 2; i++ {
		if r := e.do("GET", "/api/v1/failures", tok, nil); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	r := e.do("GET", "/api/v1/failures", tok, nil)
	if r.status != http.StatusTooManyRequests || r.errCode(t) != "rate_limited" {
		t.Fatalf("third: %d %s", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// The bucket is per token.
	if r := e.do("GET", "/api/v1/failures", other, nil); r.status != 200 {
		t.Fatalf("other token: %d %s", r.status, r.body)
	}
}

func TestConversationVisibility(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, bob := e.user("bob", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)

	if r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123001", "text": "from alice"}); r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/messages", bob, map[string]any{"to": "+447911123002", "text": "from bob"}); r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	numbers := func(token, query string) []string {
		t.Helper()
		r := e.do("GET", "/api/v1/conversations"+query, token, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var lr api.List[api.ConversationView]
		r.json(t, &lr)
		var out []string
		for _, c := range lr.Items {
			out = append(out, c.Number)
		}
		return out
	}
	tests := []struct {
		name, token, query, want string
	}{
		{"alice", alice, "", "+447911123001"},
		{"bob", bob, "", "+447911123002"},
		{"admin as alice", admin, "?user=alice", "+447911123001"},
	}
	for _, tt := range tests {
		if got := strings.Join(numbers(tt.token, tt.query), ","); got != tt.want {
			t.Errorf("%s: conversations %q, want %q", tt.name, got, tt.want)
		}
	}
	// Bob may not read Alice's thread.
	if r := e.do("GET", "/api/v1/conversations/+447911123001/messages", bob, nil); r.status != 404 {
		t.Errorf("bob reads alice's thread: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/api/v1/conversations/%2B447911123001/messages", alice, nil)
	var lr api.List[api.MessageView]
	r.json(t, &lr)
	if r.status != 200 || len(lr.Items) != 1 || lr.Items[0].Text != "from alice" {
		t.Errorf("alice's thread: %d %s", r.status, r.body)
	}
}

func TestCancelRetryConflict(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, bob := e.user("bob", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123123", "text": "later", "send_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	var sr api.SendResponse
	r.json(t, &sr)
	id := sr.Messages[0].ID
	if r := e.do("DELETE", "/api/v1/messages/"+id, bob, nil); r.status != 404 {
		t.Fatalf("bob cancels alice's message: %d %s", r.status, r.body)
	}
	c := e.do("DELETE", "/api/v1/messages/"+id, tok, nil)
	var mv api.MessageView
	c.json(t, &mv)
	if c.status != 200 || mv.State != model.StateCancelled {
		t.Fatalf("cancel: %d %s", c.status, c.body)
	}
	if c := e.do("DELETE", "/api/v1/messages/"+id, tok, nil); c.status != 409 || c.errCode(t) != "conflict" {
		t.Fatalf("cancel twice: %d %s", c.status, c.body)
	}
}

func TestContacts(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	r := e.do("PUT", "/api/v1/contacts/07911123123", tok, map[string]any{
		"name": "Ada Lovelace", "company": "Engines Ltd", "email": "ada@example.com",
		"phones":  []map[string]string{{"number": "07911 123124", "label": "home"}},
		"crm_url": "https://crm.example/applicants/123", "ref": map[string]string{"type": "applicant", "id": "123"},
	})
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	g := e.do("GET", "/api/v1/contacts/%2B447911123123", tok, nil)
	var c model.Contact
	g.json(t, &c)
	if g.status != 200 || c.Name != "Ada Lovelace" || c.Number != "+447911123123" || len(c.Phones) < 2 {
		t.Fatalf("get: %d %s", g.status, g.body)
	}
	if r := e.do("PUT", "/api/v1/contacts/07911123123", tok, map[string]any{"email": "not-an-address"}); r.status != 400 || r.errCode(t) != "invalid_field" {
		t.Fatalf("bad email: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/contacts/07911123123", tok, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/contacts/07911123123", tok, nil); r.status != 404 {
		t.Fatalf("get after delete: %d %s", r.status, r.body)
	}
}

func TestHealthReadyModems(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	if r := e.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	r := e.do("GET", "/readyz", "", nil)
	if r.status != 503 || !strings.Contains(string(r.body), "no modem") {
		t.Fatalf("readyz without modems: %d %s", r.status, r.body)
	}
	e.modems = []model.ModemStatus{{Name: "sim0", State: "ready", Registration: "home", Registered: true, SignalDBm: -71, SignalBars: 4}}
	if r := e.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz with a registered modem: %d %s", r.status, r.body)
	}
	m := e.do("GET", "/api/v1/modems", tok, nil)
	if m.status != 200 || !strings.Contains(string(m.body), `"signal_dbm":-71`) {
		t.Fatalf("modems: %d %s", m.status, m.body)
	}
	e.srv.Drain()
	if r := e.do("GET", "/readyz", "", nil); r.status != 503 || !strings.Contains(string(r.body), "shutting down") {
		t.Fatalf("readyz while draining: %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, Options{})
	e.modems = []model.ModemStatus{{Name: "sim0", Registration: "home", Registered: true, SignalDBm: -71}}
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend)
	e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123123", "+447911123124"}, "text": "hi"})
	r := e.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		"gsmgate_queue_depth 2", "gsmgate_messages_accepted_total 2", `gsmgate_modem_signal_dbm{modem="sim0"} -71`,
		`gsmgate_modem_registered{modem="sim0",registration="home"} 1`, "gsmgate_webhook_backlog 0",
		`gsmgate_messages_total{outcome="delivered"} 0`, "gsmgate_send_latency_seconds_bucket",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestCount(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	r := e.do("POST", "/api/v1/count", tok, map[string]string{"text": strings.Repeat("a", 161)})
	var cv api.CountView
	r.json(t, &cv)
	if r.status != 200 || cv.Parts != 2 || cv.Characters != 161 || cv.Encoding != "gsm7" {
		t.Fatalf("count: %d %s", r.status, r.body)
	}
	if cv.UnicodeForcing == nil || !strings.Contains(string(r.body), `"unicode_forcing":[]`) {
		t.Errorf("a GSM text should list no forcing characters as []: %s", r.body)
	}
	// ü is in the GSM alphabet; ß too; the emoji (code point 6) and the
	// Cyrillic letter (8) are not.
	r = e.do("POST", "/api/v1/count", tok, map[string]string{"text": "Grüße 😀 Ж"})
	cv = api.CountView{}
	r.json(t, &cv)
	want := []api.ForcingView{{Char: "😀", Index: 6}, {Char: "Ж", Index: 8}}
	if cv.Encoding != "ucs2" || !slices.Equal(cv.UnicodeForcing, want) {
		t.Fatalf("count unicode: %s, want unicode_forcing %+v", r.body, want)
	}
	if strings.Contains(string(r.body), "unicode_characters") {
		t.Errorf("the old field name is still there: %s", r.body)
	}
}

func TestWebhooksAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	r := e.do("POST", "/api/v1/webhooks", admin, map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"message.received", "message.failed"}, "secret": "s"})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var h api.WebhookView
	r.json(t, &h)
	if !h.HasSecret || len(h.Events) != 2 || strings.Contains(string(r.body), `"s"`) {
		t.Fatalf("created %s", r.body)
	}
	if r := e.do("POST", "/api/v1/webhooks", admin, map[string]any{"url": "x", "events": []string{"message.sent"}}); r.status != 400 || !strings.Contains(string(r.body), "url") {
		t.Fatalf("bad url: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/webhooks", admin, map[string]any{"url": "http://a/b", "events": []string{"nope"}}); r.status != 400 || !strings.Contains(string(r.body), "events") {
		t.Fatalf("bad event: %d %s", r.status, r.body)
	}
	l := e.do("GET", "/api/v1/webhooks", admin, nil)
	if l.status != 200 || !strings.Contains(string(l.body), h.ID) {
		t.Fatalf("list: %d %s", l.status, l.body)
	}
	g := e.do("GET", "/api/v1/webhooks/"+h.ID, admin, nil)
	if g.status != 200 {
		t.Fatalf("get: %d %s", g.status, g.body)
	}
	if d := e.do("DELETE", "/api/v1/webhooks/"+h.ID, admin, nil); d.status != 204 {
		t.Fatalf("delete: %d %s", d.status, d.body)
	}
	if g := e.do("GET", "/api/v1/webhooks/"+h.ID, admin, nil); g.status != 404 {
		t.Fatalf("get after delete: %d %s", g.status, g.body)
	}
}

func TestDrainRefusesSends(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	e.srv.Drain()
	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123123", "text": "x"})
	if r.status != 503 || r.errCode(t) != "shutting_down" || r.header.Get("Retry-After") == "" {
		t.Fatalf("send while draining: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/failures", tok, nil); r.status != 200 {
		t.Fatalf("reads while draining: %d", r.status)
	}
}

func TestIncludeMarketing(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123451", "text": "personal"})
	time.Sleep(2 * time.Millisecond) // IDs sort by millisecond
	e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123452", "+447911123453"}, "text": "open day!"})
	first := func(q string) string {
		t.Helper()
		r := e.do("GET", "/api/v1/conversations"+q, tok, nil)
		var lr api.List[api.ConversationView]
		r.json(t, &lr)
		if r.status != 200 || len(lr.Items) != 3 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		return lr.Items[0].Number
	}
	if n := first(""); n != "+447911123451" {
		t.Errorf("default (marketing ignored): first %s", n)
	}
	if n := first("?include_marketing=false"); n != "+447911123451" {
		t.Errorf("include_marketing=false: first %s", n)
	}
	if n := first("?include_marketing=true"); n == "+447911123451" {
		t.Errorf("include_marketing=true: the personal message is still first")
	}
	if r := e.do("GET", "/api/v1/conversations?include_marketing=maybe", tok, nil); r.status != 400 {
		t.Fatalf("not a bool: %d %s", r.status, r.body)
	}
}

// TestVisibilityModes: an incoming_and_outgoing user sees the whole
// conversation (a colleague's message and the reply); an outgoing_only user
// sees only what she sent.
func TestVisibilityModes(t *testing.T) {
	e := newEnv(t, Options{})
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, olga := e.user("olga", model.RoleStaff, model.VisibilityOwn, model.ScopeSend, model.ScopeRead)
	for _, tok := range []string{alice, olga} {
		if r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123456", "text": "from " + tok[:8]}); r.status != 202 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123456", Text: "the reply", Parts: 1}); err != nil {
		t.Fatal(err)
	}
	count := func(tok string) int {
		r := e.do("GET", "/api/v1/conversations/%2B447911123456/messages", tok, nil)
		var lr api.List[api.MessageView]
		r.json(t, &lr)
		return len(lr.Items)
	}
	if n := count(alice); n != 3 {
		t.Errorf("alice sees %d messages, want 3", n)
	}
	if n := count(olga); n != 1 {
		t.Errorf("olga (outgoing_only) sees %d messages, want 1", n)
	}
}

func TestAdminConversationLists(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123451", "text": "hi"})
	if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123452", Text: "who is this?", Parts: 1}); err != nil {
		t.Fatal(err)
	}
	list := func(tok, q string) (int, string) {
		r := e.do("GET", "/api/v1/conversations"+q, tok, nil)
		return r.status, string(r.body)
	}
	if st, b := list(admin, "?all=true"); st != 200 || !strings.Contains(b, "+447911123451") || !strings.Contains(b, "+447911123452") {
		t.Errorf("all: %d %s", st, b)
	}
	if st, b := list(admin, "?unassigned=true"); st != 200 || strings.Contains(b, "+447911123451") || !strings.Contains(b, "+447911123452") {
		t.Errorf("unassigned: %d %s", st, b)
	}
	for _, q := range []string{"?all=true", "?unassigned=true"} {
		if st, b := list(alice, q); st != 403 {
			t.Errorf("staff %s: %d %s", q, st, b)
		}
	}
}

// TestContactAllFields: a CRM can push every field the record card, saved
// searches and templates use, reads them back as it pushed them, and gets
// a 400 naming the field for each kind of bad value.
func TestContactAllFields(t *testing.T) {
	e := newEnv(t, Options{})
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	full := map[string]any{
		"name": "Ada Lovelace", "first_name": "Ada", "company": "Engines Ltd", "job_title": "Analyst",
		"email": "ada@example.com", "crm_url": "https://crm.example/applicants/123", "ref": map[string]string{"type": "applicant", "id": "123"},
		"tags": []string{" vip ", "london", "vip"}, "fields": map[string]string{"Plan": "gold", "renewal_2": "May", "empty": ""},
	}
	r := e.do("PUT", "/api/v1/contacts/07911123123", tok, full)
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	var got api.ContactView
	e.do("GET", "/api/v1/contacts/07911123123", tok, nil).json(t, &got)
	if got.FirstName != "Ada" || got.JobTitle != "Analyst" || !slices.Equal(got.Tags, []string{"vip", "london"}) ||
		len(got.Fields) != 2 || got.Fields["plan"] != "gold" || got.Fields["renewal_2"] != "May" || got.Ref == nil || got.Ref.ID != "123" {
		t.Fatalf("round trip: %+v", got)
	}
	// The pushed fields are the ones saved searches and templates read.
	if sr := e.do("PUT", "/api/v1/searches/vips", tok, map[string]any{"name": "VIPs", "query": map[string]string{"tag": "vip"}}); sr.status != 200 {
		t.Fatalf("saved search: %d %s", sr.status, sr.body)
	}
	var found struct {
		Items []api.ContactView `json:"items"`
	}
	if rr := e.do("GET", "/api/v1/searches/vips/contacts", tok, nil); rr.status != 200 {
		t.Fatalf("search: %d %s", rr.status, rr.body)
	} else if rr.json(t, &found); len(found.Items) != 1 || found.Items[0].Number != "+447911123123" {
		t.Fatalf("search by pushed tag: %s", rr.body)
	}
	pv := e.do("POST", "/api/v1/bulk/preview", tok, map[string]any{"numbers": []string{"+447911123123"}, "text": "Hi {first_name}, your {plan} plan renews in {Renewal_2}"})
	if pv.status != 200 || !strings.Contains(string(pv.body), "Hi Ada, your gold plan renews in May") {
		t.Fatalf("template from pushed fields: %d %s", pv.status, pv.body)
	}
	// A PUT replaces: fields left out are cleared.
	e.do("PUT", "/api/v1/contacts/07911123123", tok, map[string]any{"name": "Ada Lovelace"})
	got = api.ContactView{}
	e.do("GET", "/api/v1/contacts/07911123123", tok, nil).json(t, &got)
	if got.FirstName != "" || got.Tags != nil || got.Fields != nil {
		t.Fatalf("after a PUT without them: %+v", got)
	}

	long := strings.Repeat("x", 501)
	for _, tc := range []struct {
		name  string
		body  map[string]any
		code  string
		field string // the field the error names
	}{
		{"tags not a list", map[string]any{"tags": "vip"}, "invalid_field", "tags"},
		{"tag empty", map[string]any{"tags": []string{"a", " "}}, "invalid_field", "tags"},
		{"tag with a separator", map[string]any{"tags": []string{"a;b"}}, "invalid_field", "tags"},
		{"tag with a control character", map[string]any{"tags": []string{"a\tb"}}, "invalid_field", "tags"},
		{"tag too long", map[string]any{"tags": []string{strings.Repeat("t", 101)}}, "invalid_field", "tags"},
		{"too many tags", map[string]any{"tags": slices.Repeat([]string{"x"}, 101)}, "invalid_field", "tags"},
		{"fields not an object", map[string]any{"fields": []string{"a"}}, "invalid_field", "fields"},
		{"field value not a string", map[string]any{"fields": map[string]int{"a": 1}}, "invalid_field", "fields"},
		{"field name with a space", map[string]any{"fields": map[string]string{"my plan": "x"}}, "invalid_field", "fields.my plan"},
		{"field name starting with a digit", map[string]any{"fields": map[string]string{"2nd": "x"}}, "invalid_field", "fields.2nd"},
		{"field name of a standard field", map[string]any{"fields": map[string]string{"Company": "x"}}, "invalid_field", "fields.Company"},
		{"field names differing in case", map[string]any{"fields": map[string]string{"Plan": "a", "plan": "b"}}, "invalid_field", "fields.plan"},
		{"field value too long", map[string]any{"fields": map[string]string{"plan": long}}, "invalid_field", "fields.plan"},
		{"first name too long", map[string]any{"first_name": long}, "invalid_field", "first_name"},
		{"first name not a string", map[string]any{"first_name": 7}, "invalid_field", "first_name"},
		{"unknown field", map[string]any{"custom": map[string]string{"a": "b"}}, "unknown_field", "custom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", "/api/v1/contacts/07911123124", tok, tc.body)
			if r.status != 400 || r.errCode(t) != tc.code || !strings.Contains(string(r.body), `"`+tc.field) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	if r := e.do("GET", "/api/v1/contacts/07911123124", tok, nil); r.status != 404 {
		t.Fatalf("a refused PUT stored a contact: %d %s", r.status, r.body)
	}
}
