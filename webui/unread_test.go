package webui

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

// receive stores an incoming SMS as the inbox would after assembling it.
func (e *env) receive(t *testing.T, from, text string) {
	t.Helper()
	if _, err := e.svc.AcceptIncoming(context.Background(), gateway.Incoming{From: from, Text: text, Encoding: "gsm7", Parts: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadAndNotifications: conversation rows carry the token user's
// unread count, POST .../read clears it for that number and that user
// only, and the notifications listing and clearing act on the token's user.
func TestUnreadAndNotifications(t *testing.T) {
	e := newEnv(t, Options{})
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, bob := e.user("bob", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, sendOnly := e.user("sam", model.RoleStaff, model.VisibilityAll, model.ScopeSend)
	const numA, numB = "+447911123451", "+447911123452"
	for _, s := range []struct{ tok, to string }{{alice, numA}, {bob, numA}, {alice, numB}} {
		if r := e.do("POST", "/api/v1/messages", s.tok, map[string]any{"to": s.to, "text": "hi"}); r.status != http.StatusAccepted {
			t.Fatalf("send: %d %s", r.status, r.body)
		}
	}
	e.receive(t, numA, "one")
	e.receive(t, numA, "two")
	e.receive(t, numB, "three")

	unread := func(tok string) map[string]int {
		t.Helper()
		r := e.do("GET", "/api/v1/conversations", tok, nil)
		var l api.List[api.ConversationView]
		r.json(t, &l)
		out := map[string]int{}
		for _, c := range l.Items {
			out[c.Number] = c.Unread
		}
		return out
	}
	notifications := func(tok string) api.NotificationList {
		t.Helper()
		r := e.do("GET", "/api/v1/notifications", tok, nil)
		if r.status != http.StatusOK {
			t.Fatalf("notifications: %d %s", r.status, r.body)
		}
		var nl api.NotificationList
		r.json(t, &nl)
		return nl
	}
	check := func(who, tok string, want map[string]int, wantCount int) {
		t.Helper()
		got := unread(tok)
		for n, w := range want {
			if got[n] != w {
				t.Errorf("%s: unread %v, want %v", who, got, want)
				break
			}
		}
		if nl := notifications(tok); nl.Count != wantCount || len(nl.Items) != wantCount {
			t.Errorf("%s: notifications count %d with %d items, want %d", who, nl.Count, len(nl.Items), wantCount)
		}
	}
	check("alice", alice, map[string]int{numA: 2, numB: 1}, 3)
	check("bob", bob, map[string]int{numA: 2}, 2)
	if r := e.do("GET", "/api/v1/conversations", alice, nil); !strings.Contains(string(r.body), `"unread":2`) {
		t.Errorf("no unread field in the JSON: %s", r.body)
	}

	// The newest first, with what the UI needs to link to the message.
	nl := notifications(alice)
	if n := nl.Items[0]; n.Number != numB || n.Text != "three" || n.MessageID == "" || n.Kind != "message_received" || n.CreatedAt.IsZero() {
		t.Errorf("newest notification %+v", n)
	}
	// Paging: one at a time, the count stays the total.
	r := e.do("GET", "/api/v1/notifications?limit=1", alice, nil)
	var page1 api.NotificationList
	r.json(t, &page1)
	if page1.Count != 3 || len(page1.Items) != 1 || page1.NextCursor == "" {
		t.Fatalf("first page %s", r.body)
	}
	r = e.do("GET", "/api/v1/notifications?limit=1&cursor="+page1.NextCursor, alice, nil)
	var page2 api.NotificationList
	r.json(t, &page2)
	if len(page2.Items) != 1 || page2.Items[0].ID == page1.Items[0].ID {
		t.Fatalf("second page %s after %s", r.body, page1.Items[0].ID)
	}

	// Alice opens A (the number as typed): A drops to 0 for her, not for bob.
	r = e.do("POST", "/api/v1/conversations/07911%20123451/read", alice, nil)
	var cl api.Cleared
	r.json(t, &cl)
	if r.status != http.StatusOK || cl.Cleared != 2 {
		t.Fatalf("mark read: %d %s", r.status, r.body)
	}
	check("alice after reading A", alice, map[string]int{numA: 0, numB: 1}, 1)
	check("bob after alice read A", bob, map[string]int{numA: 2}, 2)
	// Again: nothing left to clear.
	if r := e.do("POST", "/api/v1/conversations/"+numA+"/read", alice, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), `"cleared":0`) {
		t.Fatalf("mark read twice: %d %s", r.status, r.body)
	}

	// Bob clears everything; alice keeps hers.
	r = e.do("DELETE", "/api/v1/notifications", bob, nil)
	r.json(t, &cl)
	if r.status != http.StatusOK || cl.Cleared != 2 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	check("bob after clearing", bob, map[string]int{numA: 0}, 0)
	check("alice after bob cleared", alice, map[string]int{numA: 0, numB: 1}, 1)

	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"read needs scope read", "POST", "/api/v1/conversations/" + numA + "/read", sendOnly, 403, "forbidden"},
		{"listing needs scope read", "GET", "/api/v1/notifications", sendOnly, 403, "forbidden"},
		{"clearing needs scope read", "DELETE", "/api/v1/notifications", sendOnly, 403, "forbidden"},
		{"no token", "GET", "/api/v1/notifications", "", 401, "unauthorized"},
		// Any sender the network gives is a conversation (a name too);
		// only an empty one is not.
		{"no number", "POST", "/api/v1/conversations/%20/read", alice, 422, "invalid_number"},
		{"bad cursor", "GET", "/api/v1/notifications?cursor=zz", alice, 400, "invalid_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.token, nil)
			if r.status != tc.status || r.errCode(t) != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
}

// TestModemsQueueDepth: with no modem to drain the outbox, GET
// /api/v1/modems and /metrics report the parts waiting, rising with each
// send and falling when one is cancelled; each modem says whether it is
// sending (leased), and the per-modem depth that was always 0 is gone.
func TestModemsQueueDepth(t *testing.T) {
	e := newEnv(t, Options{})
	e.modems = []model.ModemStatus{{Name: "sim0", State: "ready", Registration: "home", Registered: true,
		DirectFallbacks: map[string]int{"storage_full": 2}}}
	_, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	depth := func() api.ModemList {
		t.Helper()
		r := e.do("GET", "/api/v1/modems", tok, nil)
		if r.status != http.StatusOK {
			t.Fatalf("modems: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), `"queue_depth":0,"last`) || strings.Count(string(r.body), "queue_depth") != 1 {
			t.Errorf("queue_depth should appear once, at the top: %s", r.body)
		}
		if !strings.Contains(string(r.body), `"leased":false`) {
			t.Errorf("no leased flag: %s", r.body)
		}
		if !strings.Contains(string(r.body), `"direct_fallbacks":{"storage_full":2}`) {
			t.Errorf("no direct_fallbacks: %s", r.body)
		}
		var ml api.ModemList
		r.json(t, &ml)
		return ml
	}
	metric := func() string {
		t.Helper()
		return string(e.do("GET", "/metrics", "", nil).body)
	}
	if d := depth().QueueDepth; d != 0 {
		t.Fatalf("empty outbox: depth %d", d)
	}
	r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": "+447911123123", "text": "one part"})
	if r.status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	var first api.SendResponse
	r.json(t, &first)
	if d := depth().QueueDepth; d != 1 {
		t.Fatalf("after one single-part send: depth %d, want 1", d)
	}
	long := strings.Repeat("This text is longer than one SMS. ", 10) // 3 parts
	r = e.do("POST", "/api/v1/messages", tok, map[string]any{"to": []string{"+447911123124", "+447911123125"}, "text": long})
	if r.status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	if d := depth().QueueDepth; d != 7 {
		t.Fatalf("after two 3-part messages: depth %d, want 7", d)
	}
	m := metric()
	if !strings.Contains(m, "gsmgate_queue_depth 7") || !strings.Contains(m, `gsmgate_modem_leased{modem="sim0"} 0`) {
		t.Errorf("/metrics: queue depth or leased flag missing:\n%s", m)
	}
	if !strings.Contains(m, `gsmgate_store_send_fallbacks_total{modem="sim0",reason="storage_full"} 2`) {
		t.Errorf("/metrics: store-and-send fallbacks missing:\n%s", m)
	}
	if strings.Contains(m, "gsmgate_modem_queue_depth") {
		t.Error("/metrics still exports the per-modem queue depth")
	}
	if r := e.do("DELETE", "/api/v1/messages/"+first.Messages[0].ID, tok, nil); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if d := depth().QueueDepth; d != 6 {
		t.Fatalf("after cancelling the single part: depth %d, want 6", d)
	}
	if !strings.Contains(metric(), "gsmgate_queue_depth 6") {
		t.Error("/metrics depth did not fall to 6")
	}
}

// TestInboundMessageState: a received message reads as direction "in" with
// the stored state "delivered" (it was delivered to us), in the thread and
// by id; the documents say so.
func TestInboundMessageState(t *testing.T) {
	e := newEnv(t, Options{})
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	const num = "+447911123451"
	if r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": num, "text": "hi"}); r.status != http.StatusAccepted {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	e.receive(t, num, "hello back")
	r := e.do("GET", "/api/v1/conversations/"+num+"/messages", alice, nil)
	var l api.List[api.MessageView]
	r.json(t, &l)
	if len(l.Items) != 2 {
		t.Fatalf("thread %s", r.body)
	}
	out, in := l.Items[0], l.Items[1]
	if out.Direction != "out" || out.State != model.StateQueued {
		t.Errorf("outgoing %+v", out)
	}
	if in.Direction != "in" || in.State != model.StateDelivered || in.Text != "hello back" {
		t.Errorf("incoming %+v", in)
	}
	if mv := e.message(t, alice, in.ID); mv.Direction != "in" || mv.State != model.StateDelivered {
		t.Errorf("incoming by id %+v", mv)
	}
	doc := string(e.do("GET", "/api/v1/openapi.json", "", nil).body)
	if !strings.Contains(doc, "For an incoming message (direction in) the state is always delivered") {
		t.Error("openapi.json does not say what state means for an incoming message")
	}
}
