package webui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webui/api"
)

// simEnv is env plus a virtual modem on a simulated network, driven by the
// real gateway (dispatcher and inbox).
type simEnv struct {
	*env
	net *sim.Network
	sm  *sim.Modem
}

// newSimEnv starts the stack on a virtual modem; mo, when given, tunes the
// gateway's dispatcher (retry bounds are set for the tests either way).
func newSimEnv(t *testing.T, mo ...gateway.ModemOptions) *simEnv {
	t.Helper()
	return newSimEnvAt(t, filepath.Join(t.TempDir(), "gsmgate.db"), mo...)
}

// newSimEnvAt is newSimEnv with the database at path.
func newSimEnvAt(t *testing.T, path string, mo ...gateway.ModemOptions) *simEnv {
	t.Helper()
	// The tests poll: no rate limit in the way.
	e := newEnvAt(t, Options{RatePerSecond: 1e6, RateBurst: 1e6}, path)
	ctx, cancel := context.WithCancel(context.Background())
	n := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := n.AddModem(sim.ModemOptions{OwnNumber: "+447700900001", Latency: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := sm.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := modem.NewPool(modem.PoolConfig{
		Modem: modem.Config{CommandTimeout: 2 * time.Second, SendTimeout: 10 * time.Second, ProbeInterval: time.Second,
			PollInterval: time.Second, RedeliverAfter: time.Hour, SIMWait: 5 * time.Second, ResetWait: 5 * time.Second},
		RescanInterval: 100 * time.Millisecond, RetryMin: 50 * time.Millisecond, RetryMax: time.Second,
	}, log)
	if err := pool.Add(modem.Config{Port: "tcp://" + addr}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		o := gateway.ModemOptions{}
		if len(mo) > 0 {
			o = mo[0]
		}
		o.RetryMin, o.RetryMax, o.MaxAttempts = 20*time.Millisecond, 100*time.Millisecond, 3
		_ = e.svc.Run(ctx, pool, o)
	}()
	go func() { defer wg.Done(); _ = e.hooks.Run(ctx) }()
	go func() { defer wg.Done(); e.hooks.Bridge(ctx, e.svc) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	e.pool = pool
	se := &simEnv{env: e, net: n, sm: sm}
	waitFor(t, "a registered modem", func() bool {
		for _, m := range pool.Modems() {
			if m.State == modem.StateReady {
				return true
			}
		}
		return false
	})
	return se
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) message(t *testing.T, tok, id string) api.MessageView {
	t.Helper()
	r := e.do("GET", "/api/v1/messages/"+id, tok, nil)
	var mv api.MessageView
	r.json(t, &mv)
	return mv
}

// TestVirtualModemFlows: send with a status report (delivered), a
// multipart text, an inbound reply associated with the sender, a
// permanent failure listed in failures and retried to success, and a
// signed webhook for each event.
func TestVirtualModemFlows(t *testing.T) {
	e := newSimEnv(t)
	_, admin := e.user("root", model.RoleAdmin, model.VisibilityAll, model.ScopeAdmin)
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)

	var hookMu sync.Mutex
	var hookEvents []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		tsn, _ := strconv.ParseInt(r.Header.Get("X-Timestamp"), 10, 64)
		if !webhook.Verify("hook-secret", tsn, b, r.Header.Get("X-Signature")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		hookMu.Lock()
		hookEvents = append(hookEvents, string(b))
		hookMu.Unlock()
	}))
	defer rcv.Close()
	wr := e.do("POST", "/api/v1/webhooks", admin, map[string]any{"url": rcv.URL, "secret": "hook-secret",
		"events": []string{"message.sent", "message.delivered", "message.received", "message.failed"}})
	if wr.status != 201 {
		t.Fatalf("webhook: %d %s", wr.status, wr.body)
	}
	var hook api.WebhookView
	wr.json(t, &hook)

	// 1. A single message with a status report: sent, then delivered.
	r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "07911 123456", "text": "Your interview is at 10:00", "status_report": true})
	var sr api.SendResponse
	r.json(t, &sr)
	id := sr.Messages[0].ID
	waitFor(t, "delivered", func() bool { return e.message(t, alice, id).State == model.StateDelivered })
	mv := e.message(t, alice, id)
	if len(mv.PartStates) != 1 || mv.PartStates[0].MR == nil || mv.SentAt.IsZero() || mv.DeliveredAt.IsZero() {
		t.Fatalf("delivered message %+v", mv)
	}

	// 2. Multipart: three parts on the network, one message.
	long := strings.Repeat("This text is longer than one SMS. ", 10)
	r = e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123457", "text": long})
	r.json(t, &sr)
	if sr.Messages[0].Parts != 3 {
		t.Fatalf("parts %d", sr.Messages[0].Parts)
	}
	mid := sr.Messages[0].ID
	waitFor(t, "multipart sent", func() bool { return e.message(t, alice, mid).State == model.StateSent })
	got := 0
	for _, p := range e.net.Sent() {
		if p.To == "+447911123457" {
			got++
		}
	}
	if got != 3 {
		t.Fatalf("network got %d parts", got)
	}

	// 3. Inbound: the reply joins alice's conversation.
	if _, err := e.net.Inbound(e.sm, sim.InboundSMS{From: "+447911123456", Text: "I'll be there"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply in the thread", func() bool {
		r := e.do("GET", "/api/v1/conversations/07911123456/messages", alice, nil)
		return strings.Contains(string(r.body), "I'll be there")
	})

	// 4. A permanent error fails the message; retry sends it.
	e.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	r = e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123458", "text": "first try fails"})
	r.json(t, &sr)
	fid := sr.Messages[0].ID
	waitFor(t, "failed", func() bool { return e.message(t, alice, fid).State == model.StateFailed })
	if mv := e.message(t, alice, fid); mv.Error == "" {
		t.Fatalf("failure without a reason: %+v", mv)
	}
	f := e.do("GET", "/api/v1/failures", alice, nil)
	if !strings.Contains(string(f.body), fid) {
		t.Fatalf("failures: %s", f.body)
	}
	if r := e.do("POST", "/api/v1/messages/"+fid+"/retry", alice, nil); r.status != 202 {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	waitFor(t, "sent after retry", func() bool { return e.message(t, alice, fid).State == model.StateSent })
	if r := e.do("POST", "/api/v1/messages/"+fid+"/retry", alice, nil); r.status != 409 {
		t.Fatalf("retry of a sent message: %d %s", r.status, r.body)
	}

	// Webhooks: every kind arrived, signed.
	waitFor(t, "webhooks", func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		all := strings.Join(hookEvents, "\n")
		return strings.Contains(all, `"event":"message.delivered"`) && strings.Contains(all, `"event":"message.received"`) &&
			strings.Contains(all, `"event":"message.failed"`) && strings.Contains(all, `"event":"message.sent"`)
	})
	// The attempts are visible, newest first.
	var g resp
	waitFor(t, "every delivery made", func() bool {
		g = e.do("GET", "/api/v1/webhooks/"+hook.ID, admin, nil)
		var hv api.WebhookView
		g.json(t, &hv)
		for _, d := range hv.Deliveries {
			if d.State != model.DeliveryDone || d.Attempts != 1 || d.LastError != "" {
				return false
			}
		}
		return len(hv.Deliveries) >= 4
	})
}

// TestModemLeasedWhileSending: a modem reports leased while the dispatcher
// holds it for a send (here a slow one), and not once the send is done;
// the queue depth at the top is back to 0 then.
func TestModemLeasedWhileSending(t *testing.T) {
	e := newSimEnv(t)
	_, alice := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	modems := func() api.ModemList {
		t.Helper()
		var ml api.ModemList
		e.do("GET", "/api/v1/modems", alice, nil).json(t, &ml)
		if len(ml.Items) != 1 {
			t.Fatalf("modems %+v", ml)
		}
		return ml
	}
	if ml := modems(); ml.Items[0].Leased || ml.QueueDepth != 0 || ml.Items[0].SendMode != "store_and_send" {
		t.Fatalf("idle modem: %+v", ml)
	}
	// Slow enough to be seen by polling even on a loaded machine (600 ms
	// was missed there: the poll is an HTTP request), well inside the
	// send timeout.
	e.sm.SetFaults(sim.Faults{Latency: 3 * time.Second})
	r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123459", "text": "slow"})
	var sr api.SendResponse
	r.json(t, &sr)
	waitFor(t, "the modem leased", func() bool { return modems().Items[0].Leased })
	waitFor(t, "sent", func() bool { return e.message(t, alice, sr.Messages[0].ID).State == model.StateSent })
	waitFor(t, "the lease ended", func() bool { return !modems().Items[0].Leased })
	if ml := modems(); ml.QueueDepth != 0 {
		t.Fatalf("after the send: %+v", ml)
	}
}
