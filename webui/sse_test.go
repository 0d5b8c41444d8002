package webui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/api"
)

// TestEventsFilteredByReader: a staff token sees events of its own
// messages, not a colleague's; the stream is plain SSE.
func TestEventsFilteredByReader(t *testing.T) {
	e := newEnv(t, Options{})
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	_, bob := e.user("bob", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	later := time.Now().Add(time.Hour).Format(time.RFC3339)
	send := func(tok, to string) string {
		r := e.do("POST", "/api/v1/messages", tok, map[string]any{"to": to, "text": "x", "send_at": later})
		var sr api.SendResponse
		r.json(t, &sr)
		return sr.Messages[0].ID
	}
	bobs := send(bob, "+447911123451")
	alices := send(alice, "+447911123452")

	sc := e.events(t, alice)

	if r := e.do("DELETE", "/api/v1/messages/"+bobs, bob, nil); r.status != 200 {
		t.Fatalf("bob cancels: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/v1/messages/"+alices, alice, nil); r.status != 200 {
		t.Fatalf("alice cancels: %d %s", r.status, r.body)
	}
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			data = v
			break
		}
	}
	if event != "message.cancelled" {
		t.Fatalf("event %q (%s)", event, data)
	}
	if !strings.Contains(data, alices) || strings.Contains(data, bobs) {
		t.Fatalf("alice's first event is not about her message: %s", data)
	}
}

// TestModemEventCarriesOnlyWhatItKnows: a modem.state event says the
// modem's name, new state and reason, and no status fields it does not
// know (signal, registration, leased), which would read as zeros.
func TestModemEventCarriesOnlyWhatItKnows(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	sc := e.events(t, admin)
	e.svc.Bus().Publish(&gateway.ModemStateChanged{At: time.Now(), Modem: "sim0", State: "down", Detail: "unplugged"})
	var data string
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = v
			break
		}
	}
	var b struct {
		Type  string         `json:"type"`
		Modem map[string]any `json:"modem"`
	}
	if err := json.Unmarshal([]byte(data), &b); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if b.Type != "modem.state" || b.Modem["name"] != "sim0" || b.Modem["state"] != "down" || b.Modem["last_error"] != "unplugged" {
		t.Fatalf("event %s", data)
	}
	for _, k := range []string{"leased", "signal_bars", "registered", "registration"} {
		if _, ok := b.Modem[k]; ok {
			t.Errorf("modem.state event carries %q it does not know: %s", k, data)
		}
	}
}

// events opens /api/v1/events with tok and reads up to the preamble
// comment, which arrives first: past it the subscription exists, so an
// event published after this returns is on the stream. The stream is
// closed when the test ends; 10 s bound a test whose event never comes.
func (e *env) events(t *testing.T, tok string) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(res.Body)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), ":") {
		t.Fatalf("first line %q", sc.Text())
	}
	return sc
}
