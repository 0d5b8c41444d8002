package webui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/webui/api"
)

// TestExpiryIsAnEvent: a message that expires while no modem can send it
// raises message.failed (state expired) on the event stream, one sms:failed
// webhook, and gsmgate_messages_total{outcome="expired"}, as /failures
// lists it. The expiry is found when the modem comes back and the
// dispatcher looks at the due part (the path that used to be silent).
func TestExpiryIsAnEvent(t *testing.T) {
	e := newSimEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.srv.RunMetrics(ctx)
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)

	var mu sync.Mutex
	var hooks []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, string(b))
		mu.Unlock()
	}))
	defer rcv.Close()
	if r := e.do("POST", "/api/v1/webhooks", admin, map[string]any{"url": rcv.URL, "events": []string{"message.failed"}}); r.status != 201 {
		t.Fatalf("webhook: %d %s", r.status, r.body)
	}

	e.sm.SetNetwork(false)
	waitFor(t, "the modem to lose the network", func() bool {
		ms := e.pool.Modems()
		return len(ms) == 1 && ms[0].State != modem.StateReady
	})
	sc := e.events(t, alice)
	// Two seconds leave a loaded machine time to accept the send before
	// its expiry.
	expiry := time.Now().Add(2 * time.Second)
	r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123451", "text": "too late",
		"expires_at": expiry.Format(time.RFC3339Nano)})
	var sr api.SendResponse
	r.json(t, &sr)
	if r.status != 202 {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	id := sr.Messages[0].ID
	time.Sleep(time.Until(expiry) + 100*time.Millisecond) // past the expiry, while no modem can send
	e.sm.SetNetwork(true)

	var events []string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok && strings.HasPrefix(v, "message.") {
			events = append(events, v)
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(v, `"expired"`) {
			var b api.Event
			if err := json.Unmarshal([]byte(v), &b); err != nil || b.Message == nil || b.Message.ID != id {
				t.Fatalf("expiry event %s (%v)", v, err)
			}
			break
		}
	}
	if len(events) != 1 || events[0] != "message.failed" {
		t.Errorf("events %v, want one message.failed for the expiry", events)
	}
	waitFor(t, "the expiry webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hooks) == 1
	})
	if !strings.Contains(hooks[0], `"expired"`) || !strings.Contains(hooks[0], id) {
		t.Errorf("webhook %s", hooks[0])
	}
	waitFor(t, "the expired outcome on /metrics", func() bool {
		return strings.Contains(string(e.do("GET", "/metrics", "", nil).body), `gsmgate_messages_total{outcome="expired"} 1`)
	})
	var fl api.List[api.MessageView]
	e.do("GET", "/api/v1/failures", alice, nil).json(t, &fl)
	if len(fl.Items) != 1 || fl.Items[0].ID != id || fl.Items[0].State != model.StateExpired {
		t.Errorf("failures %+v", fl.Items)
	}
}
