package webui

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/webui/api"
)

// adminRoutes are the admin API's operations with a valid body each.
func adminRoutes(userID string) [][3]any {
	return [][3]any{
		{"GET", "/api/v1/users", nil},
		{"POST", "/api/v1/users", map[string]any{"name": "eve", "password": "long enough"}},
		{"PATCH", "/api/v1/users/" + userID, map[string]any{"role": "admin"}},
		{"POST", "/api/v1/users/" + userID + "/password", map[string]any{"password": "long enough"}},
		{"GET", "/api/v1/tokens", nil},
		{"POST", "/api/v1/tokens", map[string]any{"name": "x", "scopes": []string{"read"}}},
		{"DELETE", "/api/v1/tokens/0000000000000001", nil},
		{"GET", "/api/v1/settings", nil},
		{"PATCH", "/api/v1/settings", map[string]any{"retention_days": 5}},
		{"GET", "/api/v1/unassigned", nil},
		{"POST", "/api/v1/unassigned/+447911123451/assign", map[string]any{"user_id": userID}},
		{"GET", "/api/v1/audit", nil},
		{"POST", "/api/v1/webhooks/0000000000000001/deliveries/0000000000000001/redeliver", nil},
	}
}

// TestAdminRoutesRefuseNonAdmins: a staff token (even with every scope it
// may have) gets 403 on every admin route; so does an admin-scoped token
// whose user was demoted since, and a disabled admin's token gets 401.
func TestAdminRoutesRefuseNonAdmins(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	staff, staffTok := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	demoted, demotedTok := e.user("dora", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	gone, goneTok := e.user("gus", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	if r := e.do("PATCH", "/api/v1/users/"+demoted.ID.String(), adminTok, map[string]any{"role": "staff"}); r.status != 200 {
		t.Fatalf("demote: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/api/v1/users/"+gone.ID.String(), adminTok, map[string]any{"disabled": true}); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	for _, rt := range adminRoutes(staff.ID.String()) {
		method, path := rt[0].(string), rt[1].(string)
		for who, tc := range map[string]struct {
			tok  string
			want int
			code string
		}{
			"staff": {staffTok, 403, "forbidden"}, "demoted admin": {demotedTok, 403, "forbidden"},
			"disabled admin": {goneTok, 401, "unauthorized"}, "no token": {"", 401, "unauthorized"},
		} {
			r := e.do(method, path, tc.tok, rt[2])
			if r.status != tc.want || r.errCode(t) != tc.code {
				t.Errorf("%s %s as %s: %d %s, want %d", method, path, who, r.status, r.body, tc.want)
			}
		}
	}
	if u, _ := e.svc.User(context.Background(), staff.ID); u.Role != model.RoleStaff {
		t.Fatalf("a refused request changed the user: %+v", u)
	}
}

func TestAdminUsersAPI(t *testing.T) {
	e := newEnv(t, Options{})
	ada, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	r := e.do("POST", "/api/v1/users", adminTok, map[string]any{"name": "bob", "password": "bob's password", "visibility": "outgoing_only"})
	var bob api.UserView
	r.json(t, &bob)
	if r.status != 201 || bob.Role != model.RoleStaff || bob.Visibility != model.VisibilityOwn || bob.Disabled {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		body any
		want int
		code string
	}{
		{map[string]any{"name": "BOB", "password": "long enough"}, 409, "conflict"},
		{map[string]any{"name": "short", "password": "pw"}, 400, "invalid_field"},
		{map[string]any{"name": "x", "password": "long enough", "role": "root"}, 400, "invalid_field"},
		{map[string]any{"name": "x", "password": "long enough", "visibility": "all"}, 400, "invalid_field"},
		{map[string]any{"name": "x", "password": "long enough", "admin": true}, 400, "unknown_field"},
		{"{", 400, "invalid_json"},
	} {
		if r := e.do("POST", "/api/v1/users", adminTok, tc.body); r.status != tc.want || r.errCode(t) != tc.code {
			t.Errorf("create %v: %d %s, want %d %s", tc.body, r.status, r.body, tc.want, tc.code)
		}
	}
	var list api.List[api.UserView]
	e.do("GET", "/api/v1/users", adminTok, nil).json(t, &list)
	if len(list.Items) != 2 || strings.Contains(string(e.do("GET", "/api/v1/users", adminTok, nil).body), "password") {
		t.Fatalf("list: %+v", list)
	}
	r = e.do("PATCH", "/api/v1/users/"+bob.ID, adminTok, map[string]any{"visibility": "incoming_and_outgoing", "include_marketed": true, "role": "admin"})
	r.json(t, &bob)
	if r.status != 200 || bob.Visibility != model.VisibilityAll || !bob.IncludeMarketed || bob.Role != model.RoleAdmin {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		path string
		body any
		want int
		code string
	}{
		{"/api/v1/users/ffffffffffffffff", map[string]any{"role": "staff"}, 404, "not_found"},
		{"/api/v1/users/not-an-id", map[string]any{"role": "staff"}, 404, "not_found"},
		{"/api/v1/users/" + bob.ID, map[string]any{"name": "robert"}, 400, "unknown_field"},
		{"/api/v1/users/" + bob.ID, map[string]any{"visibility": "some"}, 400, "invalid_field"},
	} {
		if r := e.do("PATCH", tc.path, adminTok, tc.body); r.status != tc.want || r.errCode(t) != tc.code {
			t.Errorf("patch %s %v: %d %s, want %d", tc.path, tc.body, r.status, r.body, tc.want)
		}
	}
	if r := e.do("POST", "/api/v1/users/"+bob.ID+"/password", adminTok, map[string]any{"password": "a fresh password"}); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if _, err := e.svc.Login(context.Background(), "bob", "a fresh password"); err != nil {
		t.Fatalf("login after reset: %v", err)
	}
	for _, b := range []any{map[string]any{"password": "short"}, map[string]any{}} {
		if r := e.do("POST", "/api/v1/users/"+bob.ID+"/password", adminTok, b); r.status != 400 {
			t.Errorf("reset with %v: %d %s", b, r.status, r.body)
		}
	}
	// Bob steps down; Ada is then the last admin and may neither demote
	// nor disable herself.
	if r := e.do("PATCH", "/api/v1/users/"+bob.ID, adminTok, map[string]any{"role": "staff"}); r.status != 200 {
		t.Fatalf("demote bob: %d %s", r.status, r.body)
	}
	for _, b := range []map[string]any{{"role": "staff"}, {"disabled": true}} {
		r := e.do("PATCH", "/api/v1/users/"+ada.ID.String(), adminTok, b)
		if r.status != 409 || r.errCode(t) != "conflict" || !strings.Contains(string(r.body), "last enabled admin") {
			t.Errorf("last admin %v: %d %s", b, r.status, r.body)
		}
	}
	// A disabled user's token is refused at its next request.
	_, bobTok, err := e.svc.CreateToken(context.Background(), model.ID(mustID(t, bob.ID)), "bob", []model.Scope{model.ScopeRead}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/v1/conversations", bobTok, nil); r.status != 200 {
		t.Fatalf("bob before: %d", r.status)
	}
	if r := e.do("PATCH", "/api/v1/users/"+bob.ID, adminTok, map[string]any{"disabled": true}); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/conversations", bobTok, nil); r.status != 401 {
		t.Fatalf("disabled bob's token: %d", r.status)
	}
	if _, err := e.svc.Login(context.Background(), "bob", "a fresh password"); err == nil {
		t.Fatal("disabled bob logged in")
	}
}

func mustID(t *testing.T, s string) model.ID {
	t.Helper()
	id, err := model.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestVisibilityChangeIsImmediate: switching a user to outgoing_only
// changes what their token reads at the next request.
func TestVisibilityChangeIsImmediate(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	sam, samTok := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	if r := e.do("POST", "/api/v1/messages", samTok, map[string]any{"to": "+447911123451", "text": "hi", "send_at": time.Now().Add(time.Hour).Format(time.RFC3339)}); r.status != 202 {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123451", Text: "reply to sam"}); err != nil {
		t.Fatal(err)
	}
	texts := func() []string {
		var l api.List[api.MessageView]
		r := e.do("GET", "/api/v1/conversations/%2B447911123451/messages", samTok, nil)
		r.json(t, &l)
		var out []string
		for _, m := range l.Items {
			out = append(out, m.Text)
		}
		return out
	}
	if got := texts(); len(got) != 2 {
		t.Fatalf("before: %q", got)
	}
	if r := e.do("PATCH", "/api/v1/users/"+sam.ID.String(), adminTok, map[string]any{"visibility": "outgoing_only"}); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if got := texts(); len(got) != 1 || got[0] != "hi" {
		t.Fatalf("after outgoing_only: %q", got)
	}
}

func TestAdminTokensAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	sam, _ := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	r := e.do("POST", "/api/v1/tokens", adminTok, map[string]any{"user_id": sam.ID.String(), "name": "crm", "scopes": []string{"send", "read"}})
	var nt api.NewTokenView
	r.json(t, &nt)
	if r.status != 201 || !strings.HasPrefix(nt.Secret, gateway.TokenPrefix) || nt.Token.User != "sam" || !strings.HasPrefix(nt.Secret, nt.Token.Prefix) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/tokens", adminTok, map[string]any{"name": "mine", "scopes": []string{"admin"}})
	var own api.NewTokenView
	r.json(t, &own)
	if r.status != 201 || own.Token.User != "ada" {
		t.Fatalf("own token: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		body any
		code string
	}{
		{map[string]any{"user_id": sam.ID.String(), "name": "x", "scopes": []string{"admin"}}, "invalid_field"},
		{map[string]any{"name": "x", "scopes": []string{}}, "invalid_field"},
		{map[string]any{"name": "x", "scopes": []string{"root"}}, "invalid_field"},
		{map[string]any{"name": "", "scopes": []string{"read"}}, "invalid_field"},
		{map[string]any{"user_id": "ffffffffffffffff", "name": "x", "scopes": []string{"read"}}, "invalid_field"},
		{map[string]any{"name": "x", "scopes": []string{"read"}, "expires_at": "2001-01-01T00:00:00Z"}, "invalid_field"},
	} {
		if r := e.do("POST", "/api/v1/tokens", adminTok, tc.body); r.status != 400 || r.errCode(t) != tc.code {
			t.Errorf("create %v: %d %s", tc.body, r.status, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/conversations", nt.Secret, nil); r.status != 200 {
		t.Fatalf("new token: %d %s", r.status, r.body)
	}
	var list api.List[api.TokenView]
	r = e.do("GET", "/api/v1/tokens", adminTok, nil)
	r.json(t, &list)
	var found *api.TokenView
	for i := range list.Items {
		if list.Items[i].ID == nt.Token.ID {
			found = &list.Items[i]
		}
	}
	if found == nil || found.LastUsedAt.IsZero() || strings.Contains(string(r.body), nt.Secret) {
		t.Fatalf("list (last use, no secret): %s", r.body)
	}
	if r := e.do("DELETE", "/api/v1/tokens/"+nt.Token.ID, adminTok, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/conversations", nt.Secret, nil); r.status != 401 {
		t.Fatalf("revoked token's next request: %d", r.status)
	}
	if r := e.do("DELETE", "/api/v1/tokens/"+nt.Token.ID, adminTok, nil); r.status != 404 {
		t.Fatalf("revoke twice: %d", r.status)
	}
}

func TestSettingsAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin, model.ScopeSend)
	var set api.SettingsView
	r := e.do("GET", "/api/v1/settings", adminTok, nil)
	r.json(t, &set)
	if r.status != 200 || set.DefaultCountry != "GB" || set.DefaultVisibility != model.VisibilityAll {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	later := time.Now().Add(time.Hour).Format(time.RFC3339)
	if r := e.do("POST", "/api/v1/messages", adminTok, map[string]any{"to": "0151 23456789", "text": "x", "send_at": later}); r.status == 202 {
		t.Fatalf("a German national number under GB was accepted: %s", r.body)
	}
	r = e.do("PATCH", "/api/v1/settings", adminTok, map[string]any{"default_country": "DE", "retention_days": 90})
	r.json(t, &set)
	if r.status != 200 || set.DefaultCountry != "DE" || set.RetentionDays != 90 || set.DefaultVisibility != model.VisibilityAll {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/messages", adminTok, map[string]any{"to": "0151 23456789", "text": "x", "send_at": later})
	if r.status != 202 || !strings.Contains(string(r.body), "+4915123456789") {
		t.Fatalf("send under DE: %d %s", r.status, r.body)
	}
	for _, b := range []map[string]any{{"default_country": "XX1"}, {"retention_days": -1}, {"default_visibility": "all"}, {"colour": "red"}} {
		if r := e.do("PATCH", "/api/v1/settings", adminTok, b); r.status != 400 {
			t.Errorf("patch %v: %d %s", b, r.status, r.body)
		}
	}
}

func TestUnassignedAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	sam, samTok := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeRead)
	for _, text := range []string{"hello?", "anyone?"} {
		if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123451", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	var l api.List[api.ConversationView]
	e.do("GET", "/api/v1/unassigned", adminTok, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Number != "+447911123451" {
		t.Fatalf("unassigned: %+v", l)
	}
	for _, tc := range []struct {
		path string
		body any
		want int
	}{
		{"/api/v1/unassigned/%2B447911123452/assign", map[string]any{"user_id": sam.ID.String()}, 404},
		{"/api/v1/unassigned/%2B447911123451/assign", map[string]any{}, 400},
		{"/api/v1/unassigned/%2B447911123451/assign", map[string]any{"user_id": "ffffffffffffffff"}, 400},
	} {
		if r := e.do("POST", tc.path, adminTok, tc.body); r.status != tc.want {
			t.Errorf("assign %s %v: %d %s", tc.path, tc.body, r.status, r.body)
		}
	}
	r := e.do("POST", "/api/v1/unassigned/%2B447911123451/assign", adminTok, map[string]any{"user_id": sam.ID.String()})
	var as api.AssignedView
	r.json(t, &as)
	if r.status != 200 || as.Messages != 2 {
		t.Fatalf("assign: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/unassigned", adminTok, nil).json(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("still unassigned: %+v", l)
	}
	e.do("GET", "/api/v1/conversations", samTok, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Count != 2 {
		t.Fatalf("sam's conversations: %+v", l)
	}
}

// TestAuditAPI: the log lists who did what; nobody can change it (no
// route writes it).
func TestAuditAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	e.do("POST", "/api/v1/users", adminTok, map[string]any{"name": "bob", "password": "long enough"})
	e.do("PATCH", "/api/v1/settings", adminTok, map[string]any{"retention_days": 7})
	var l api.List[api.AuditView]
	r := e.do("GET", "/api/v1/audit?limit=1", adminTok, nil)
	r.json(t, &l)
	if r.status != 200 || len(l.Items) != 1 || l.Items[0].Action != "setting.changed" || l.Items[0].Actor != "ada" || l.NextCursor == "" {
		t.Fatalf("audit page 1: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/audit?cursor="+l.NextCursor, adminTok, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Action != "user.created" || l.Items[0].Target != "bob" {
		t.Fatalf("audit page 2: %+v", l)
	}
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if r := e.do(m, "/api/v1/audit", adminTok, map[string]any{}); r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/v1/audit: %d", m, r.status)
		}
	}
	if r := e.do("GET", "/api/v1/audit?cursor=nope", adminTok, nil); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
}

func TestRedeliverAPI(t *testing.T) {
	e := newEnv(t, Options{})
	_, adminTok := e.user("ada", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_, staffTok := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	var h api.WebhookView
	r := e.do("POST", "/api/v1/webhooks", adminTok, map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"message.failed"}})
	r.json(t, &h)
	if err := e.hooks.Enqueue(context.Background(), webhookEvent("message.failed")); err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/api/v1/webhooks/"+h.ID, adminTok, nil).json(t, &h)
	if len(h.Deliveries) != 1 {
		t.Fatalf("deliveries: %+v", h.Deliveries)
	}
	first := h.Deliveries[0].ID
	path := "/api/v1/webhooks/" + h.ID + "/deliveries/" + first + "/redeliver"
	if r := e.do("POST", path, staffTok, nil); r.status != 403 {
		t.Fatalf("staff redelivers: %d", r.status)
	}
	r = e.do("POST", path, adminTok, nil)
	var d api.DeliveryView
	r.json(t, &d)
	if r.status != 202 || d.ID == first || d.State != model.DeliveryPending || d.Event != "message.failed" {
		t.Fatalf("redeliver: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/v1/webhooks/"+h.ID, adminTok, nil).json(t, &h)
	if len(h.Deliveries) != 2 || h.Deliveries[0].ID != d.ID {
		t.Fatalf("after: %+v", h.Deliveries)
	}
	for _, p := range []string{
		"/api/v1/webhooks/" + h.ID + "/deliveries/ffffffffffffffff/redeliver",
		"/api/v1/webhooks/" + h.ID + "/deliveries/zz/redeliver",
		"/api/v1/webhooks/ffffffffffffffff/deliveries/" + first + "/redeliver",
	} {
		if r := e.do("POST", p, adminTok, nil); r.status != 404 {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
}

func webhookEvent(name string) webhook.Event {
	return webhook.Event{Name: name, Data: map[string]string{"x": "y"}}
}
