package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

func newGateway(t *testing.T, db *store.DB, now func() time.Time) *gateway.Service {
	t.Helper()
	svc, err := gateway.New(db, clockFunc(now), nil, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// outgoing stores a one-part outgoing message and moves it through steps,
// each in its own transaction (as the dispatcher and the inbox do).
func outgoing(t *testing.T, db *store.DB, number string, steps ...func(tx *store.Tx, id model.ID) error) model.ID {
	t.Helper()
	m := model.Message{ID: db.NewID(), Direction: model.Outgoing, Number: number, Text: "hello " + number, UserID: 0}
	if err := db.Update(func(tx *store.Tx) error {
		return tx.InsertMessage(&m, []model.Part{{TPDU: []byte{1}, NextAttempt: db.Now()}})
	}); err != nil {
		t.Fatal(err)
	}
	for _, step := range steps {
		if err := db.Update(func(tx *store.Tx) error { return step(tx, m.ID) }); err != nil {
			t.Fatal(err)
		}
	}
	return m.ID
}

func sent(tx *store.Tx, id model.ID) error { _, err := tx.MarkSent(id, 1, "m1", 9); return err }
func delivered(tx *store.Tx, id model.ID) error {
	_, err := tx.MarkStatus(id, 1, true, "")
	return err
}
func failed(tx *store.Tx, id model.ID) error {
	_, err := tx.MarkFailed(id, 1, "the network refused the message")
	return err
}

// bodyEvents lists the deliveries a receiver got as "event id" strings.
func bodyEvents(t *testing.T, rcv *receiver) []string {
	t.Helper()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var out []string
	for _, b := range rcv.bodies {
		var env struct {
			Event   string
			Data    map[string]any
			Payload map[string]any
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		id := env.Data["id"]
		if env.Payload != nil {
			id = env.Payload["messageId"]
		}
		out = append(out, fmt.Sprintf("%s %v", env.Event, id))
	}
	sort.Strings(out)
	return out
}

func deliveryCount(t *testing.T, db *store.DB) int {
	t.Helper()
	n := 0
	if err := db.View(func(tx *store.Tx) error {
		hs, err := tx.Webhooks()
		for _, h := range hs {
			ds, err := tx.WebhookDeliveries(h.ID, 100000, 0)
			if err != nil {
				return err
			}
			n += len(ds)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func logLen(db *store.DB) int {
	n := 0
	_ = db.View(func(tx *store.Tx) error { n = tx.MessageEventCount(); return nil })
	return n
}

// The crash window: the gateway commits (an SMS received, a message sent,
// delivered, failed) and the process dies before any webhook sender ran.
// The next process delivers every one of them.
func TestEventsCommittedWhileNoSenderRanAreDelivered(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "g.db")
	_, now := testClock()

	db, err := store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	s := New(db, Options{Now: now})
	if _, err := s.Create(context.Background(), model.Webhook{URL: srv.URL,
		Events: []string{EventReceived, "sms:received", EventSent, EventDelivered, EventFailed}}); err != nil {
		t.Fatal(err)
	}
	in, err := newGateway(t, db, now).AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123456", Text: "yes please"})
	if err != nil {
		t.Fatal(err)
	}
	ok := outgoing(t, db, "+447911123457", sent, delivered)
	bad := outgoing(t, db, "+447911123458", failed)
	if err := db.Close(); err != nil { // the process dies here
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = New(db, Options{Now: now, Poll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	want := []string{
		EventDelivered + " " + ok.String(), EventFailed + " " + bad.String(), EventReceived + " " + in.ID.String(),
		EventSent + " " + ok.String(), "sms:received " + in.ID.String(),
	}
	sort.Strings(want)
	waitFor(t, func() bool { return len(bodyEvents(t, rcv)) >= len(want) && s.Backlog() == 0 })
	if got := bodyEvents(t, rcv); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %q,\nwant %q", got, want)
	}
	if n := logLen(db); n != 0 {
		t.Fatalf("%d log entries left after delivery", n)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for _, b := range rcv.bodies {
		var env struct {
			Event string
			Data  messageData
		}
		_ = json.Unmarshal(b, &env)
		if env.Event == EventReceived && (env.Data.Text != "yes please" || env.Data.Number != "+447911123456") {
			t.Errorf("received payload %s", b)
		}
		if env.Event == EventFailed && (env.Data.State != model.StateFailed || env.Data.Error != "the network refused the message") {
			t.Errorf("failed payload %s", b)
		}
	}
}

// Catch-up run again, concurrently, and again after a restart, enqueues
// each entry once per webhook; a webhook registered after the events gets
// none of them.
func TestCatchupEnqueuesEachEntryOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.db")
	_, now := testClock()
	db, err := store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	s := New(db, Options{Now: now})
	for range 2 {
		if _, err := s.Create(context.Background(), model.Webhook{URL: "http://127.0.0.1:1/", Events: []string{EventReceived}}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 3*catchupBatch + 5 // several batches
	if err := db.Update(func(tx *store.Tx) error {
		for i := range n {
			m := model.Message{ID: tx.NewID(), Direction: model.Incoming, Number: fmt.Sprintf("+4479111%05d", i), State: model.StateDelivered}
			if err := tx.InsertMessage(&m, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), model.Webhook{URL: "http://127.0.0.1:1/late", Events: []string{EventReceived}}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	counts := make([]int, 3)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.Catchup(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = c
		}()
	}
	wg.Wait()
	again, err := s.Catchup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if total := counts[0] + counts[1] + counts[2] + again; total != n || again != 0 {
		t.Fatalf("consumed %v then %d, want %d in all and 0 the second time", counts, again, n)
	}
	if got := deliveryCount(t, db); got != 2*n {
		t.Fatalf("%d deliveries, want %d (2 webhooks × %d events)", got, 2*n, n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart catches up again: there is nothing left to enqueue.
	db, err = store.Open(path, store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := New(db, Options{Now: now}).Catchup(context.Background())
	if err != nil || c != 0 {
		t.Fatalf("catch-up after restart consumed %d, %v", c, err)
	}
	if got := deliveryCount(t, db); got != 2*n {
		t.Fatalf("%d deliveries after restart, want %d", got, 2*n)
	}
}

// Events whose bus doorbell was dropped (the bridge's buffer full) are
// delivered all the same, each once.
func TestBusOverflowLosesNoDelivery(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	_, now := testClock()
	st := openStore(t, filepath.Join(t.TempDir(), "g.db"), now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond})
	if _, err := s.Create(context.Background(), model.Webhook{URL: srv.URL, Events: []string{EventReceived}}); err != nil {
		t.Fatal(err)
	}
	svc := newGateway(t, st.db, now)
	b := s.Subscribe(svc)
	for range 4096 {
		svc.Bus().Publish(&gateway.NotificationAdded{At: now()})
	}
	const n = 20
	var want []string
	for i := range n {
		m, err := svc.AcceptIncoming(context.Background(), gateway.Incoming{From: fmt.Sprintf("+4479111%05d", i), Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, EventReceived+" "+m.ID.String())
	}
	sort.Strings(want)
	// The subscription's goroutine moves events from the bus on its own
	// time: wait until it has counted the ones it could not keep.
	waitFor(t, func() bool { return b.sub.Dropped() >= n })

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.Run(ctx) }()
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, func() bool { return len(bodyEvents(t, rcv)) >= n && s.Backlog() == 0 })
	if got := bodyEvents(t, rcv); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %q,\nwant %q", got, want)
	}
}

// Consumed entries leave the log, and a steady flow of events does not
// grow the file: the pages of consumed entries are reused.
func TestEventLogIsPrunedAndDoesNotGrowTheFile(t *testing.T) {
	clock, now := testClock()
	path := filepath.Join(t.TempDir(), "g.db")
	st := openStore(t, path, now)
	db := st.db
	s := New(db, Options{Now: now})
	const msgs = 300
	var ids []model.ID
	if err := db.Update(func(tx *store.Tx) error {
		for i := range msgs {
			m := model.Message{ID: tx.NewID(), Direction: model.Outgoing, Number: fmt.Sprintf("+4479111%05d", i),
				Text: strings.Repeat("a long text ", 80)}
			if err := tx.InsertMessage(&m, []model.Part{{TPDU: []byte{1}, NextAttempt: now()}}); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A webhook that wants only modem.state: every message event is logged
	// and consumed, and no delivery is made, so the file holds messages and
	// the log only.
	if _, err := s.Create(context.Background(), model.Webhook{URL: "http://127.0.0.1:1/", Events: []string{EventModem}}); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	var after []int64
	for round := range 8 {
		// Each message fails then goes back to the outbox: one entry each.
		for i := 0; i < msgs; i += 50 {
			if err := db.Update(func(tx *store.Tx) error {
				for _, id := range ids[i : i+50] {
					if err := failed(tx, id); err != nil {
						return err
					}
					if _, err := tx.MarkRetry(id, 1, "", now()); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if n := logLen(db); n != msgs {
			t.Fatalf("round %d: %d entries logged, want %d", round, n, msgs)
		}
		c, err := s.Catchup(context.Background())
		if err != nil || c != msgs {
			t.Fatalf("round %d: consumed %d, %v", round, c, err)
		}
		if n := logLen(db); n != 0 {
			t.Fatalf("round %d: %d entries left", round, n)
		}
		clock.Add(int64(time.Second))
		after = append(after, size())
	}
	t.Logf("file sizes after each round: %v", after)
	if deliveryCount(t, db) != 0 {
		t.Fatal("deliveries made for a webhook that wants none of these events")
	}
	if after[len(after)-1] > after[1] {
		t.Fatalf("file grew from %d to %d bytes over rounds 2-8 (sizes %v)", after[1], after[len(after)-1], after)
	}
}

// A process that stores an incoming SMS and dies at once (os.Exit without
// closing the database or running a sender, as kill -9 would leave it): the
// next process delivers the webhook.
func TestReceivedEventSurvivesProcessDeath(t *testing.T) {
	if path := os.Getenv("GSMGATE_WEBHOOK_CRASH_DB"); path != "" {
		crashChild(path, os.Getenv("GSMGATE_WEBHOOK_CRASH_URL"))
		return
	}
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "g.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestReceivedEventSurvivesProcessDeath$")
	cmd.Env = append(os.Environ(), "GSMGATE_WEBHOOK_CRASH_DB="+path, "GSMGATE_WEBHOOK_CRASH_URL="+srv.URL)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: %v (want exit code 3 right after the commit); output %q", err, out)
	}
	id := strings.TrimSpace(string(out[strings.LastIndex(string(out), "stored ")+len("stored "):]))

	_, now := testClock()
	st := openStore(t, path, now)
	s := New(st.db, Options{Now: now, Poll: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return len(bodyEvents(t, rcv)) >= 1 && s.Backlog() == 0 })
	if got := bodyEvents(t, rcv); fmt.Sprint(got) != fmt.Sprint([]string{EventReceived + " " + id}) {
		t.Fatalf("delivered %q, want the received message %s once", got, id)
	}
}

func crashChild(path, url string) {
	_, now := testClock()
	db, err := store.Open(path, store.Options{Now: now})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	s := New(db, Options{Now: now})
	if _, err := s.Create(context.Background(), model.Webhook{URL: url, Events: []string{EventReceived}}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	svc, err := gateway.New(db, clockFunc(now), nil, gateway.Options{})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	m, err := svc.AcceptIncoming(context.Background(), gateway.Incoming{From: "+447911123456", Text: "call me"})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("stored " + m.ID.String())
	os.Exit(3)
}
