package webui

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

// TestColleagueMessageAndEventsSeenTogether: the one visibility gate. A
// colleague in the conversation (incoming_and_outgoing) can read another
// colleague's outgoing message and gets its status events; an
// outgoing_only colleague gets neither.
func TestColleagueMessageAndEventsSeenTogether(t *testing.T) {
	e := newEnv(t, Options{})
	scopes := []model.Scope{model.ScopeSend, model.ScopeRead}
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, scopes...)
	_, bob := e.user("bob", model.RoleStaff, model.VisibilityAll, scopes...)
	_, carol := e.user("carol", model.RoleStaff, model.VisibilityOwn, scopes...)
	later := time.Now().Add(time.Hour).Format(time.RFC3339)
	send := func(tok, to string) string {
		r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": to, "text": "x", "send_at": later})
		var sr api.SendResponse
		r.json(t, &sr)
		if r.status != 202 {
			t.Fatalf("send: %d %s", r.status, r.body)
		}
		return sr.Messages[0].ID
	}
	const shared = "+447911123451"
	send(alice, shared) // alice is in the conversation
	send(carol, shared) // so is carol, but she sees only her own
	bobs := send(bob, shared)
	carols := send(carol, "+447911123452")

	streams := map[string]*bufio.Scanner{"alice": e.events(t, alice), "carol": e.events(t, carol)}
	if r := e.do("DELETE", "/api/v1/messages/"+bobs, bob, nil); r.status != 200 {
		t.Fatalf("bob cancels: %d %s", r.status, r.body)
	}
	// A last event both may see closes the check: what came before it on a
	// stream is all that stream will get of bob's cancel.
	if r := e.do("DELETE", "/api/v1/messages/"+carols, carol, nil); r.status != 200 {
		t.Fatalf("carol cancels: %d %s", r.status, r.body)
	}
	for name, tok := range map[string]string{"alice": alice, "carol": carol} {
		readable := e.do("GET", "/api/v1/messages/"+bobs, tok, nil).status == http.StatusOK
		sawEvent := false
		sc := streams[name]
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			if strings.Contains(line, bobs) {
				sawEvent = true
			}
			if strings.Contains(line, carols) || name == "alice" && sawEvent {
				break
			}
		}
		if want := name == "alice"; readable != want || sawEvent != want {
			t.Errorf("%s: reads bob's message %v, gets its event %v; want both %v", name, readable, sawEvent, want)
		}
	}
}
