package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

func TestSignVerify(t *testing.T) {
	body := []byte(`{"event":"message.sent"}`)
	sig := Sign("k3y", 1700000000, body)
	tests := []struct {
		name   string
		secret string
		ts     int64
		body   string
		sig    string
		ok     bool
	}{
		{"same", "k3y", 1700000000, string(body), sig, true},
		{"other secret", "key", 1700000000, string(body), sig, false},
		{"other time", "k3y", 1700000001, string(body), sig, false},
		{"other body", "k3y", 1700000000, `{"event":"message.failed"}`, sig, false},
		{"not hex", "k3y", 1700000000, string(body), "zz", false},
	}
	for _, tt := range tests {
		if got := Verify(tt.secret, tt.ts, []byte(tt.body), tt.sig); got != tt.ok {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.ok)
		}
	}
	// A known vector, so that receivers written from the documentation agree:
	// HMAC-SHA256("secret", "{}" + "0").
	// Computed with Python's hmac module.
	if got := Sign("secret", 0, []byte("{}")); got != "a86df3c82972e27d4bf212d5691b650faa09d057f19915542945266904f5e22e" {
		t.Fatalf("Sign = %s", got)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	s := New(nil, Options{FirstRetry: 10 * time.Second, MaxDelay: time.Hour})
	tests := []struct {
		n    int
		base time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {5, 160 * time.Second}, {20, time.Hour}}
	for _, tt := range tests {
		d := s.backoff(tt.n)
		lo, hi := tt.base*8/10, tt.base*12/10
		if d < lo || d > hi {
			t.Errorf("backoff(%d) = %v, want within ±20%% of %v", tt.n, d, tt.base)
		}
	}
}

func TestNativeNames(t *testing.T) {
	for _, e := range Events() {
		if n, ok := NativeName(e); !ok || n != e {
			t.Errorf("NativeName(%q) = %q, %v", e, n, ok)
		}
	}
	if n, ok := NativeName("sms:delivered"); !ok || n != EventDelivered {
		t.Errorf("sms:delivered -> %q %v", n, ok)
	}
	if _, ok := NativeName("sms:exploded"); ok {
		t.Error("unknown name accepted")
	}
}

// receiver is a webhook endpoint that fails the first failures requests.
type receiver struct {
	mu       sync.Mutex
	failures int
	got      []http.Header
	bodies   [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req.Header.Clone())
	r.bodies = append(r.bodies, b)
	if r.failures > 0 {
		r.failures--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestDeliverRetriesThenSucceedsSigned(t *testing.T) {
	rcv := &receiver{failures: 2}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	clock, now := testClock()
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"), now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond, FirstRetry: time.Minute, MaxDelay: time.Hour})
	hook, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventSent, "sms:sent"}, Secret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := s.Enqueue(ctx, Event{Name: EventSent, Data: map[string]string{"id": "m1"}, SMSGate: map[string]string{"messageId": "m1"}}); err != nil {
		t.Fatal(err)
	}
	// Two deliveries (native and SMSGate names); each fails twice, then the
	// clock moves past the backoff and both succeed.
	waitFor(t, func() bool { return st.attemptsTotal() >= 2 })
	for i := 0; i < 3; i++ {
		clock.Add(int64(2 * time.Hour))
		waitFor(t, func() bool { return st.pendingCount() == 0 || st.attemptsTotal() >= 4+i })
	}
	waitFor(t, func() bool { return st.pendingCount() == 0 })

	ds := st.all()
	if len(ds) != 2 {
		t.Fatalf("%d deliveries, want 2", len(ds))
	}
	for _, d := range ds {
		if d.State != model.DeliveryDone || d.WebhookID != hook.ID {
			t.Errorf("delivery %s: state %s, webhook %v", d.Event, d.State, d.WebhookID)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.got) != 4 {
		t.Fatalf("receiver got %d requests, want 4 (2 refused + 2 accepted)", len(rcv.got))
	}
	for i, h := range rcv.got {
		ts, err := strconv.ParseInt(h.Get("X-Timestamp"), 10, 64)
		if err != nil {
			t.Fatalf("request %d: X-Timestamp %q", i, h.Get("X-Timestamp"))
		}
		if !Verify("s3cret", ts, rcv.bodies[i], h.Get("X-Signature")) {
			t.Errorf("request %d: bad signature", i)
		}
	}
	kinds := map[string]bool{}
	for _, b := range rcv.bodies {
		var env map[string]any
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		kinds[env["event"].(string)] = true
		if env["event"] == "sms:sent" && env["payload"].(map[string]any)["messageId"] != "m1" {
			t.Errorf("SMSGate envelope %s", b)
		}
		if env["event"] == EventSent && env["data"].(map[string]any)["id"] != "m1" {
			t.Errorf("native envelope %s", b)
		}
	}
	if !kinds[EventSent] || !kinds["sms:sent"] {
		t.Errorf("events delivered: %v", kinds)
	}
}

func TestDeliverGivesUpAfterMaxAge(t *testing.T) {
	rcv := &receiver{failures: 1 << 30}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	clock, now := testClock()
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"), now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond, MaxAge: 48 * time.Hour})
	if _, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventFailed}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := s.Enqueue(ctx, Event{Name: EventFailed, Data: "x"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && st.pendingCount() > 0; i++ {
		n := st.attemptsTotal()
		waitFor(t, func() bool { return st.attemptsTotal() > n || st.pendingCount() == 0 })
		clock.Add(int64(90 * time.Minute))
	}
	d := st.all()[0]
	if d.State != model.DeliveryFailed {
		t.Fatalf("state %s after %d attempts", d.State, d.Attempts)
	}
	if d.Attempts < 30 || d.LastError == "" {
		t.Errorf("attempts %d, last error %q", d.Attempts, d.LastError)
	}
	if d.UpdatedAt.Sub(d.CreatedAt) > 49*time.Hour {
		t.Errorf("kept trying for %v", d.UpdatedAt.Sub(d.CreatedAt))
	}
}

func TestDeliveriesSurviveRestart(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "g.db")
	clock, now := testClock()

	// First life: the event is persisted but the sender never runs (the
	// process dies before delivering).
	st := openStore(t, path, now)
	s := New(st.db, Options{Now: now})
	if _, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventReceived}, Secret: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(context.Background(), Event{Name: EventReceived, Data: map[string]string{"text": "hi"}}); err != nil {
		t.Fatal(err)
	}
	if n := s.Backlog(); n != 1 {
		t.Fatalf("backlog %d, want 1", n)
	}
	if err := st.db.Close(); err != nil {
		t.Fatal(err)
	}

	// Second life: a new process opens the same file and delivers it.
	clock.Add(int64(time.Second))
	st2 := openStore(t, path, now)
	s2 := New(st2.db, Options{Now: now, Poll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s2.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return s2.Backlog() == 0 })
	rcv.mu.Lock()
	n := len(rcv.bodies)
	rcv.mu.Unlock()
	if n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}
	hs, _ := s2.List(context.Background(), 0)
	ds, err := s2.Deliveries(context.Background(), hs[0].ID, 10)
	if err != nil || len(ds) != 1 || ds[0].State != model.DeliveryDone || ds[0].Attempts != 1 {
		t.Fatalf("deliveries %+v, %v", ds, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		h     model.Webhook
		field string
	}{
		{"ok", model.Webhook{URL: "https://crm.example/hook", Events: []string{"message.sent", "sms:received"}}, ""},
		{"relative url", model.Webhook{URL: "/hook", Events: []string{"message.sent"}}, "url"},
		{"ftp", model.Webhook{URL: "ftp://x/y", Events: []string{"message.sent"}}, "url"},
		{"no events", model.Webhook{URL: "http://x/y"}, "events"},
		{"bad event", model.Webhook{URL: "http://x/y", Events: []string{"message.lost"}}, "events"},
	}
	for _, tt := range tests {
		err := Validate(tt.h)
		var ie *InvalidError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field):
			t.Errorf("%s: err %v, want field %s", tt.name, err, tt.field)
		}
	}
}

type testStore struct{ db *store.DB }

func openStore(t *testing.T, path string, now func() time.Time) testStore {
	t.Helper()
	db, err := store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return testStore{db}
}

func (s testStore) all() []model.WebhookDelivery {
	var out []model.WebhookDelivery
	_ = s.db.View(func(tx *store.Tx) error {
		hs, _ := tx.Webhooks()
		for _, h := range hs {
			ds, _ := tx.WebhookDeliveries(h.ID, 1000, 100000)
			out = append(out, ds...)
		}
		return nil
	})
	return out
}

func (s testStore) pendingCount() int {
	n := 0
	_ = s.db.View(func(tx *store.Tx) error { n = tx.PendingDeliveries(); return nil })
	return n
}

func (s testStore) attemptsTotal() int {
	n := 0
	for _, d := range s.all() {
		n += d.Attempts
	}
	return n
}

func testClock() (*atomic.Int64, func() time.Time) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return &clock, func() time.Time { return time.Unix(0, clock.Load()) }
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBridgeDeliversModemStateFromTheBus(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	_, now := testClock()
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"), now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond})
	if _, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventModem}}); err != nil {
		t.Fatal(err)
	}
	svc := newGateway(t, st.db, now)
	bus := svc.Bus()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Bridge(ctx, svc) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	// modem.state changes no stored state, so it comes from the bus (best
	// effort). The bridge subscribes asynchronously: publish until it has
	// picked one up.
	waitFor(t, func() bool {
		rcv.mu.Lock()
		n := len(rcv.bodies)
		rcv.mu.Unlock()
		if n == 0 && s.Backlog() == 0 {
			bus.Publish(&gateway.ModemStateChanged{At: now(), Modem: "m1", State: "ready"})
		}
		return n >= 1
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var env struct {
		Event string
		Data  map[string]any
	}
	if err := json.Unmarshal(rcv.bodies[0], &env); err != nil {
		t.Fatal(err)
	}
	if env.Event != EventModem || env.Data["modem"] != "m1" || env.Data["state"] != "ready" {
		t.Fatalf("body %s", rcv.bodies[0])
	}
}

// TestRedeliverAfterFailure: a delivery that failed for good is queued
// again as a new delivery with the same body, and goes through once the
// receiver is fixed.
func TestRedeliverAfterFailure(t *testing.T) {
	rcv := &receiver{failures: 1 << 30}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	clock, now := testClock()
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"), now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond, MaxAge: time.Hour})
	h, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventFailed}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := s.Enqueue(ctx, Event{Name: EventFailed, Data: "x"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && st.pendingCount() > 0; i++ {
		n := st.attemptsTotal()
		waitFor(t, func() bool { return st.attemptsTotal() > n || st.pendingCount() == 0 })
		clock.Add(int64(30 * time.Minute))
	}
	failed := st.all()[0]
	if failed.State != model.DeliveryFailed {
		t.Fatalf("state %s", failed.State)
	}
	if _, err := s.Redeliver(ctx, h.ID, 12345); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}
	if _, err := s.Redeliver(ctx, 999, failed.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown webhook: %v", err)
	}
	rcv.mu.Lock()
	rcv.failures = 0
	rcv.mu.Unlock()
	nd, err := s.Redeliver(ctx, h.ID, failed.ID)
	if err != nil || nd.ID == failed.ID || string(nd.Payload) != string(failed.Payload) {
		t.Fatalf("redeliver: %+v %v", nd, err)
	}
	waitFor(t, func() bool {
		ds, _ := s.Deliveries(ctx, h.ID, 10)
		return len(ds) == 2 && ds[0].ID == nd.ID && ds[0].State == model.DeliveryDone && ds[1].State == model.DeliveryFailed
	})
}
