package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// This file runs the dispatcher and the inbox against virtual modems over a
// real pty or TCP, through the real modem driver and Pool, on a real bbolt
// file.

// shiftClock is the wall clock moved forward by a settable offset, so that a
// test can jump a day ahead while timers still run on real time.
type shiftClock struct{ off atomic.Int64 }

func (c *shiftClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *shiftClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// attempt is one SendPart call seen by recModems.
type attempt struct {
	modem string
	err   error
}

// recModems records every SendPart that goes through it.
type recModems struct {
	inner    Modems
	mu       sync.Mutex
	attempts []attempt
	gaps     []time.Duration // idle time between a send's answer and the next send on the same modem
	last     map[string]time.Time
	started  chan time.Time // when not nil, receives each SendPart's start
	starts   []string       // the TPDU of every SendPart, in the order they started
	// begun is the TPDU of every part in the order a modem began it: its
	// +CMGW with store-and-send (the +CMSS comes after a committed slot),
	// its +CMGS otherwise. Claim order shows here, not in starts, where a
	// part stored first is overtaken by direct sends of the other modem.
	begun []string
}

func (r *recModems) Acquire(ctx context.Context, want func(modem.Status) bool) (Sender, func(), error) {
	s, release, err := r.inner.Acquire(ctx, want)
	if err != nil {
		return nil, nil, err
	}
	return &recSender{Sender: s, r: r}, release, nil
}

func (r *recModems) Modems() []modem.Status     { return r.inner.Modems() }
func (r *recModems) Events() <-chan modem.Event { return r.inner.Events() }

func (r *recModems) log() []attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]attempt(nil), r.attempts...)
}

type recSender struct {
	Sender
	r       *recModems
	written []byte // the TPDU of the last WritePart, recorded when +CMSS sends it
}

func (s *recSender) SendPart(ctx context.Context, tpdu []byte) (int, error) {
	s.r.mu.Lock()
	s.r.begun = append(s.r.begun, string(tpdu)) // a +CMGS: the part begins here
	s.r.mu.Unlock()
	return s.record(tpdu, func() (int, error) { return s.Sender.SendPart(ctx, tpdu) })
}

// record runs one send (+CMGS or +CMSS) and records it as an attempt.
func (s *recSender) record(tpdu []byte, send func() (int, error)) (int, error) {
	start := time.Now()
	s.r.mu.Lock()
	if t, ok := s.r.last[s.ID()]; ok {
		s.r.gaps = append(s.r.gaps, start.Sub(t))
	}
	delete(s.r.last, s.ID())
	s.r.starts = append(s.r.starts, string(tpdu))
	started := s.r.started
	s.r.mu.Unlock()
	if started != nil {
		started <- start
	}
	mr, err := send()
	s.r.mu.Lock()
	s.r.attempts = append(s.r.attempts, attempt{s.ID(), err})
	if err == nil {
		s.r.last[s.ID()] = time.Now()
	}
	s.r.mu.Unlock()
	return mr, err
}

// The store-and-send half of the modem passes through; +CMSS is recorded
// as SendPart is.

func (s *recSender) stores() (StoreSender, bool) {
	ss, ok := s.Sender.(StoreSender)
	return ss, ok
}

func (s *recSender) SendMode() modem.SendMode {
	if ss, ok := s.stores(); ok {
		return ss.SendMode()
	}
	return modem.SendDirect
}

func (s *recSender) WritePart(ctx context.Context, tpdu []byte) (modem.Slot, error) {
	ss, _ := s.stores()
	s.written = tpdu
	s.r.mu.Lock()
	s.r.begun = append(s.r.begun, string(tpdu))
	s.r.mu.Unlock()
	return ss.WritePart(ctx, tpdu)
}

func (s *recSender) SendStored(ctx context.Context, slot modem.Slot) (int, error) {
	ss, _ := s.stores()
	return s.record(s.written, func() (int, error) { return ss.SendStored(ctx, slot) })
}

func (s *recSender) ReadStored(ctx context.Context, slot modem.Slot, tpdu []byte) (modem.StoredOutcome, error) {
	ss, _ := s.stores()
	return ss.ReadStored(ctx, slot, tpdu)
}

func (s *recSender) StoredOutgoing(ctx context.Context) ([]modem.Slot, error) {
	ss, _ := s.stores()
	return ss.StoredOutgoing(ctx)
}

func (s *recSender) DeleteStored(ctx context.Context, slot modem.Slot) error {
	ss, _ := s.stores()
	return ss.DeleteStored(ctx, slot)
}

func (s *recSender) MakeRoom(ctx context.Context) error {
	ss, _ := s.stores()
	return ss.MakeRoom(ctx)
}

// recSender passes the whole of store-and-send through.
var _ StoreSender = (*recSender)(nil)

type mrig struct {
	t     testing.TB
	net   *sim.Network
	sims  []*sim.Modem
	ports []string
	path  string
	db    *store.DB
	s     *Service
	clock *shiftClock
	user  model.User
	rec   *recModems
	pool  *modem.Pool
	stop  func()
	sub   *Subscription
	seen  []Event
	// notReady: start does not wait for the modems to be ready.
	notReady bool
	// sendTimeout, when set, replaces testPoolConfig's send timeout.
	sendTimeout time.Duration
	// direct turns store-and-send off (modem.Config.DirectSend).
	direct bool
	// scan: the pool finds the modems by scanning for their current pty
	// (a replugged modem appears at a new one), not at fixed ports.
	scan bool
}

func rigLog(t testing.TB) *slog.Logger {
	if os.Getenv("GSMGATE_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testPoolConfig is the pool's configuration in tests. The command and send
// timeouts are generous: under -race on two loaded cores a virtual modem's
// answer can take over a second, and a timeout that fires early turns a
// send into "unknown" (or a probe into a recovery) that the test did not
// ask for. A test of a send that is never answered sets mrig.sendTimeout.
func testPoolConfig() modem.PoolConfig {
	return modem.PoolConfig{
		Modem: modem.Config{CommandTimeout: 5 * time.Second, SendTimeout: 5 * time.Second, ProbeInterval: time.Second,
			PollInterval: time.Second, RedeliverAfter: time.Hour, SIMWait: 5 * time.Second, ResetWait: 5 * time.Second},
		RescanInterval: 100 * time.Millisecond, RetryMin: 50 * time.Millisecond, RetryMax: time.Second,
	}
}

// newMRig makes a network with n virtual modems served over transport
// ("pty" or "tcp") and a store; start runs the gateway on them.
func newMRig(t testing.TB, n int, transport string, mo sim.ModemOptions) *mrig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &mrig{t: t, net: sim.NewNetwork(sim.NetworkOptions{}), clock: &shiftClock{}}
	if mo.Latency == 0 {
		mo.Latency = 5 * time.Millisecond
	}
	for i := range n {
		o := mo
		o.OwnNumber = fmt.Sprintf("+4477009000%02d", i+1)
		sm, err := r.net.AddModem(o)
		if err != nil {
			t.Fatal(err)
		}
		var port string
		if transport == "pty" {
			port, err = sm.ServePTY(ctx)
		} else {
			var a string
			a, err = sm.ServeTCP(ctx, "127.0.0.1:0")
			port = "tcp://" + a
		}
		if err != nil {
			t.Fatal(err)
		}
		r.sims, r.ports = append(r.sims, sm), append(r.ports, port)
	}
	r.path = filepath.Join(t.TempDir(), "gsmgate.db")
	r.open()
	u, err := r.s.CreateUser(context.Background(), NewUser{Name: "alice", Password: "password-alice", Role: model.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	r.user = u
	return r
}

func (r *mrig) open() {
	db, err := store.Open(r.path, store.Options{Now: r.clock.Now, Timeout: 5 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := New(db, r.clock, rigLog(r.t), Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	r.db, r.s = db, s
	r.sub = s.Bus().Subscribe(4096, nil)
}

// start runs the gateway (pool, recovery, dispatcher, inbox) until stop.
func (r *mrig) start(o ModemOptions) {
	r.t.Helper()
	if o.RetryMin == 0 {
		o.RetryMin, o.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	cfg := testPoolConfig()
	if r.sendTimeout > 0 {
		cfg.Modem.SendTimeout = r.sendTimeout
	}
	cfg.Modem.DirectSend = r.direct
	if r.scan {
		cfg.Scan = func(context.Context) ([]string, error) {
			var ports []string
			for _, sm := range r.sims {
				if p := sm.PTYPath(); p != "" {
					ports = append(ports, p)
				}
			}
			return ports, nil
		}
	}
	pool := modem.NewPool(cfg, rigLog(r.t))
	for _, p := range r.ports {
		if r.scan {
			break
		}
		if err := pool.Add(modem.Config{Port: p}); err != nil {
			r.t.Fatal(err)
		}
	}
	r.pool = pool
	r.rec = &recModems{inner: PoolModems(pool), last: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	poolCtx, stopPool := context.WithCancel(context.Background())
	poolDone := make(chan struct{})
	go func() { defer close(poolDone); _ = pool.Run(poolCtx) }()
	done := make(chan error, 1)
	go func() { done <- r.s.RunModems(ctx, r.rec, o) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					r.t.Errorf("RunModems: %v", err)
				}
			case <-time.After(stopWait):
				r.t.Fatalf("RunModems did not return %v after its context ended:\n%s", stopWait, goroutines())
			}
			stopPool()
			select {
			case <-poolDone:
			case <-time.After(stopWait):
				r.t.Fatalf("the pool did not stop %v after its context ended:\n%s", stopWait, goroutines())
			}
		})
	}
	r.t.Cleanup(r.stop)
	if !r.notReady {
		r.waitReady(len(r.ports))
	}
}

func (r *mrig) waitReady(n int) {
	r.t.Helper()
	r.waitFor("modems ready", func() bool {
		ready := 0
		for _, st := range r.pool.Modems() {
			if st.State == modem.StateReady {
				ready++
			}
		}
		return ready >= n
	})
}

// waitFor polls cond until it holds (15 s at most: a failure, not a timing
// assertion).
func (r *mrig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *mrig) send(text string, report bool, to ...string) []Accepted {
	r.t.Helper()
	res, err := r.s.Send(context.Background(), SendRequest{UserID: r.user.ID, To: to, Text: text, StatusReport: report})
	if err != nil {
		r.t.Fatalf("Send: %v", err)
	}
	return res.Messages
}

func (r *mrig) message(id model.ID) (model.Message, []model.Part) {
	r.t.Helper()
	var m model.Message
	var parts []model.Part
	if err := r.db.View(func(tx *store.Tx) error {
		var err error
		if m, err = tx.Message(id); err != nil {
			return err
		}
		parts, err = tx.Parts(id)
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return m, parts
}

func (r *mrig) waitState(id model.ID, want ...model.State) model.Message {
	r.t.Helper()
	var m model.Message
	var parts []model.Part
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, parts = r.message(id)
		for _, w := range want {
			if m.State == w {
				return m
			}
		}
		if time.Now().After(deadline) {
			var ps []string
			for _, p := range parts {
				ps = append(ps, fmt.Sprintf("%d:%s/%s attempts %d %q", p.Seq, p.State, p.Modem, p.Attempts, p.Error))
			}
			var modems []modem.Status
			var tries []attempt
			if r.pool != nil {
				modems, tries = r.pool.Modems(), r.rec.log()
			}
			r.t.Fatalf("gave up waiting for message %s to be %v: it is %s (%q), parts %v; modems %+v; attempts %+v",
				id, want, m.State, m.Reason, ps, modems, tries)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stopWait bounds how long a stopped gateway may take to return: sends
// under way end within the modem's send timeout and commits within theirs,
// so a longer wait is a hang, reported with every goroutine's stack.
const stopWait = 90 * time.Second

// goroutines is every goroutine's stack, to show where a hang is.
func goroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// incoming lists the stored incoming messages, oldest first.
func (r *mrig) incoming() []model.Message {
	r.t.Helper()
	var out []model.Message
	if err := r.db.View(func(tx *store.Tx) error {
		all, err := tx.AllMessages(store.Page{Limit: 1000})
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].Direction == model.Incoming {
				out = append(out, all[i])
			}
		}
		return err
	}); err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *mrig) pendingParts() int {
	n := 0
	_ = r.db.View(func(tx *store.Tx) error {
		keys, err := tx.PendingKeys()
		for k := range keys {
			ps, _ := tx.PendingParts(k)
			n += len(ps)
		}
		return err
	})
	return n
}

// statesOf collects the StatusChanged states of message id until one is
// final (the event follows the commit, so it may come just after the store
// shows the state).
func (r *mrig) statesOf(id model.ID, final model.State) []model.State {
	r.t.Helper()
	var out []model.State
	for _, e := range r.seen {
		if sc, ok := e.(*StatusChanged); ok && sc.Message.ID == id {
			out = append(out, sc.Message.State)
		}
	}
	timeout := time.After(5 * time.Second)
	for len(out) == 0 || out[len(out)-1] != final {
		select {
		case e := <-r.sub.C:
			r.seen = append(r.seen, e)
			if sc, ok := e.(*StatusChanged); ok && sc.Message.ID == id {
				out = append(out, sc.Message.State)
			}
		case <-timeout:
			return out
		}
	}
	return out
}

// countEvents counts the events match accepts, waiting (5 s at most) until
// there are want of them.
func (r *mrig) countEvents(match func(Event) bool, want int) int {
	n := 0
	for _, e := range r.seen {
		if match(e) {
			n++
		}
	}
	timeout := time.After(5 * time.Second)
	for n < want {
		select {
		case e := <-r.sub.C:
			r.seen = append(r.seen, e)
			if match(e) {
				n++
			}
		case <-timeout:
			return n
		}
	}
	return n
}

const recipient = "+447911123459"

func TestDispatchSingleAndMultipartWithReports(t *testing.T) {
	for _, tr := range []string{"pty", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			r := newMRig(t, 1, tr, sim.ModemOptions{})
			r.net.SetReportOutcome(sim.ReportOutcome{Kind: sim.Delivered, Delay: 20 * time.Millisecond})
			r.start(ModemOptions{})
			long := threeParts("A long message split into parts. ") // 3 parts
			single := r.send("Hello from the dispatcher", true, recipient)[0]
			multi := r.send(long, true, recipient)[0]
			if multi.Parts != 3 {
				t.Fatalf("long text counted as %d parts", multi.Parts)
			}
			r.waitState(single.ID, model.StateDelivered)
			m := r.waitState(multi.ID, model.StateDelivered)
			if m.DeliveredAt.IsZero() || m.SentAt.IsZero() {
				t.Errorf("delivered message without times: %+v", m)
			}
			sent := r.net.Sent()
			if len(sent) != 4 {
				t.Fatalf("network got %d parts, want 4", len(sent))
			}
			if sent[0].Text != "Hello from the dispatcher" || sent[0].To != recipient || !sent[0].Report {
				t.Errorf("single part = %+v", sent[0])
			}
			for i, p := range sent[1:] {
				if p.Part != i+1 || p.Total != 3 || p.Ref != int(m.Ref) {
					t.Errorf("part %d = ref %d %d/%d, want ref %d %d/3", i+1, p.Ref, p.Part, p.Total, m.Ref, i+1)
				}
			}
			_, parts := r.message(multi.ID)
			for _, p := range parts {
				if p.State != model.StateDelivered || p.MR < 0 || p.Modem != r.sims[0].IMEI() {
					t.Errorf("part %+v", p)
				}
			}
			states := r.statesOf(multi.ID, model.StateDelivered)
			want := []model.State{model.StateSubmitting, model.StateSent, model.StateDelivered}
			if fmt.Sprint(states) != fmt.Sprint(want) {
				t.Errorf("status events %v, want %v", states, want)
			}
		})
	}
}

func TestDispatchTemporaryErrorRetriesOnAnotherModem(t *testing.T) {
	r := newMRig(t, 2, "tcp", sim.ModemOptions{})
	// Each modem fails its next send with "network out of order" (38).
	for _, sm := range r.sims {
		sm.SetFaults(sim.Faults{SendErrors: []int{38}})
	}
	r.start(ModemOptions{})
	sent := r.send("retry me elsewhere", false, recipient)[0]
	m := r.waitState(sent.ID, model.StateSent)
	log := r.rec.log()
	if len(log) != 3 {
		t.Fatalf("attempts %+v, want 3 (fail, fail elsewhere, succeed)", log)
	}
	if log[0].err == nil || log[1].err == nil || log[2].err != nil {
		t.Fatalf("attempts %+v", log)
	}
	if log[0].modem == log[1].modem || log[1].modem == log[2].modem {
		t.Errorf("retries stayed on one modem: %+v", log)
	}
	if m.Attempts != 3 || m.Modem != log[2].modem {
		t.Errorf("message %+v", m)
	}
}

func TestDispatchPermanentErrorFailsInWordsAndQueueGoesOn(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{1}}) // unassigned number
	r.start(ModemOptions{})
	bad := r.send("to a number that does not exist", false, "+447911123458")[0]
	good := r.send("to a good one", false, recipient)[0]
	m := r.waitState(bad.ID, model.StateFailed)
	r.waitState(good.ID, model.StateSent)
	if !strings.Contains(m.Reason, "unassigned") || !strings.Contains(m.Reason, "+CMS ERROR: 1") {
		t.Errorf("reason %q does not say what happened", m.Reason)
	}
	if m.Attempts != 1 {
		t.Errorf("a permanent error was retried: %d attempts", m.Attempts)
	}
	if r.countEvents(func(e Event) bool {
		sf, ok := e.(*StatusChanged)
		return ok && sf.Message.ID == bad.ID && sf.EventName() == EventMessageFailed
	}, 1) != 1 {
		t.Error("no message.failed event")
	}
	fp, err := r.s.Failures(context.Background(), r.user.ID, Page{Limit: 10})
	if err != nil || len(fp.Items) != 1 || fp.Items[0].ID != bad.ID {
		t.Errorf("failures listing %+v %v", fp, err)
	}
}

func TestDispatchMultipartRetriesFromTheFailedPart(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	// Part 1 goes, part 2 meets congestion (42) twice, then goes.
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{0, 42, 42}})
	r.start(ModemOptions{})
	long := threeParts("Retried from the part that failed. ")
	sentMsg := r.send(long, false, recipient)[0]
	m := r.waitState(sentMsg.ID, model.StateSent)
	sent := r.net.Sent()
	if len(sent) != 3 {
		t.Fatalf("network got %d parts, want 3 (no part twice)", len(sent))
	}
	for i, p := range sent {
		if p.Part != i+1 || p.Ref != int(m.Ref) {
			t.Errorf("sent part %d: %d/%d ref %d, want ref %d", i, p.Part, p.Total, p.Ref, m.Ref)
		}
	}
	_, parts := r.message(m.ID)
	if parts[0].Attempts != 1 || parts[1].Attempts != 3 || parts[2].Attempts != 1 {
		t.Errorf("attempts per part %d %d %d, want 1 3 1", parts[0].Attempts, parts[1].Attempts, parts[2].Attempts)
	}
}

func TestDispatchGivesUpAfterMaxAttempts(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{42, 42, 42}})
	r.start(ModemOptions{MaxAttempts: 3})
	sentMsg := r.send("never gets through", false, recipient)[0]
	m := r.waitState(sentMsg.ID, model.StateFailed)
	if !strings.Contains(m.Reason, "gave up after 3 attempts") || !strings.Contains(m.Reason, "+CMS ERROR: 42") {
		t.Errorf("reason %q", m.Reason)
	}
}

// TestDispatchSendTimeoutIsUnknownNotResent: with +CMGS an unanswered send
// is unknown (store-and-send reads the copy instead:
// TestStoreAndSendTimeoutReadsTheCopy).
func TestDispatchSendTimeoutIsUnknownNotResent(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.direct = true
	r.sendTimeout = 2 * time.Second // the unanswered send waits all of it
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{0}, SendTimeouts: 1})
	r.start(ModemOptions{})
	long := threeParts("Part two is lost in the modem. ")
	sentMsg := r.send(long, false, recipient)[0]
	m := r.waitState(sentMsg.ID, model.StateUnknown)
	if !strings.HasPrefix(m.Reason, "outcome unknown") {
		t.Errorf("reason %q", m.Reason)
	}
	_, parts := r.message(m.ID)
	if parts[0].State != model.StateSent || parts[1].State != model.StateUnknown || parts[2].State != model.StateCancelled {
		t.Errorf("part states %s %s %s", parts[0].State, parts[1].State, parts[2].State)
	}
	// Retry sends the unknown part and the rest, with the same reference.
	if _, err := r.s.Retry(context.Background(), r.user.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	r.waitState(m.ID, model.StateSent)
	var refs []string
	for _, p := range r.net.Sent() {
		refs = append(refs, fmt.Sprintf("%d:%d", p.Ref, p.Part))
	}
	want := fmt.Sprintf("[%[1]d:1 %[1]d:2 %[1]d:2 %[1]d:3]", m.Ref)
	if fmt.Sprint(refs) != want {
		t.Errorf("network got %v, want %s", refs, want)
	}
}

func TestStatusReportFailureFailsTheMessage(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.net.SetReportOutcome(sim.ReportOutcome{Kind: sim.PermanentFailure, Status: 0x41})
	r.start(ModemOptions{})
	sentMsg := r.send("this one bounces", true, recipient)[0]
	m := r.waitState(sentMsg.ID, model.StateFailed)
	if !strings.Contains(m.Reason, "not delivered") || !strings.Contains(strings.ToLower(m.Reason), "incompatible destination") {
		t.Errorf("reason %q", m.Reason)
	}
	r.waitFor("the report deleted from the modem", func() bool { return len(r.sims[0].Stored()) == 0 })
}

func TestStatusReportsRollUpOnlyWhenAllPartsDelivered(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.net.SetReportOutcome(sim.ReportOutcome{Kind: sim.TemporaryThenDelivered, Delay: 50 * time.Millisecond})
	r.start(ModemOptions{})
	m := r.send(threeParts("Two parts, each reported. "), true, recipient)[0]
	r.waitState(m.ID, model.StateDelivered)
	_, parts := r.message(m.ID)
	for _, p := range parts {
		if p.State != model.StateDelivered {
			t.Errorf("part %d is %s in a delivered message", p.Seq, p.State)
		}
	}
	seen := r.statesOf(m.ID, model.StateDelivered)
	if fmt.Sprint(seen) != fmt.Sprint([]model.State{model.StateSubmitting, model.StateSent, model.StateDelivered}) {
		t.Errorf("states %v", seen)
	}
}

func TestDispatchExpiry(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{NoNetwork: true})
	r.notReady = true
	r.start(ModemOptions{Rescan: 20 * time.Millisecond})
	// No network: nothing can go; the message expires while it waits.
	res, err := r.s.Send(context.Background(), SendRequest{UserID: r.user.ID, To: []string{recipient}, Text: "too late",
		ExpiresAt: r.clock.Now().Add(100 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	m := r.waitState(res.Messages[0].ID, model.StateExpired)
	if m.Reason == "" || len(r.net.Sent()) != 0 {
		t.Errorf("expired %+v, network got %d", m, len(r.net.Sent()))
	}
}

// threeParts repeats s into a GSM 7-bit text of three SMS parts.
func threeParts(s string) string {
	var b strings.Builder
	for b.Len() < 320 {
		b.WriteString(s)
	}
	return b.String()[:320]
}

func TestDispatchCleanRestartMidMultipart(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{Latency: 150 * time.Millisecond})
	r.start(ModemOptions{})
	long := threeParts("Stopped and started between parts. ")
	m := r.send(long, false, recipient)[0]
	r.waitFor("part 1 sent", func() bool { _, ps := r.message(m.ID); return ps[0].State == model.StateSent })
	// A clean stop lets the part on the wire finish and claims no more.
	r.stop()
	_, parts := r.message(m.ID)
	for _, p := range parts {
		if p.State == model.StateSubmitting {
			t.Fatalf("part %d left submitting by a clean stop", p.Seq)
		}
	}
	if len(r.net.Sent()) == 3 {
		t.Fatalf("all parts went before the stop; the test needs a slower modem")
	}
	r.start(ModemOptions{})
	done := r.waitState(m.ID, model.StateSent)
	sent := r.net.Sent()
	if len(sent) != 3 {
		t.Fatalf("network got %d parts, want 3", len(sent))
	}
	for i, p := range sent {
		if p.Part != i+1 || p.Ref != int(done.Ref) || p.Modem != r.sims[0].IMEI() {
			t.Errorf("part %d: %+v", i+1, p)
		}
	}
}

func TestModemStateChangesOnTheBus(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.start(ModemOptions{})
	imei := r.sims[0].IMEI()
	is := func(state string) func(Event) bool {
		return func(e Event) bool {
			sc, ok := e.(*ModemStateChanged)
			return ok && sc.Modem == imei && sc.State == state
		}
	}
	if r.countEvents(is(string(modem.StateReady)), 1) != 1 {
		t.Fatal("no ready event")
	}
	r.sims[0].Unplug()
	if r.countEvents(is(string(modem.StateDisconnected)), 1) != 1 {
		t.Fatal("no disconnected event after the modem was unplugged")
	}
}

func TestStartupAfterACrashDuringSend(t *testing.T) {
	for _, resend := range []bool{false, true} {
		t.Run(fmt.Sprintf("resend=%v", resend), func(t *testing.T) {
			r := newMRig(t, 1, "tcp", sim.ModemOptions{})
			m := r.send("caught mid-send", false, recipient)[0]
			// A process claimed the part (committed "submitting") and died
			// before it knew whether the modem sent it.
			if _, ok, err := r.db.ClaimDue(r.sims[0].IMEI(), nil); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if resend {
				if err := r.db.Update(func(tx *store.Tx) error { return tx.PutSetting(SettingResendUnknown, true) }); err != nil {
					t.Fatal(err)
				}
			}
			r.start(ModemOptions{})
			if !resend {
				got := r.waitState(m.ID, model.StateUnknown)
				if got.Reason != ReasonUnknown || len(r.net.Sent()) != 0 {
					t.Errorf("message %+v, network got %d parts", got, len(r.net.Sent()))
				}
				// Retry is one click away.
				if _, err := r.s.Retry(context.Background(), r.user.ID, m.ID); err != nil {
					t.Fatal(err)
				}
			}
			r.waitState(m.ID, model.StateSent)
			if len(r.net.Sent()) != 1 {
				t.Errorf("network got %d parts, want 1", len(r.net.Sent()))
			}
		})
	}
}

// TestStartupAfterACrashMidMultipart: the process died while sending part 2
// of 3. As when a send times out, the message is unknown and part 3 is held
// back, not sent after a part whose fate nobody knows; a retry sends parts 2
// and 3 in order with the message's reference.
func TestStartupAfterACrashMidMultipart(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	imei := r.sims[0].IMEI()
	m := r.send(threeParts("Caught between two parts. "), false, recipient)[0]
	if _, ok, err := r.db.ClaimDue(imei, nil); err != nil || !ok {
		t.Fatalf("claim part 1: %v %v", ok, err)
	}
	if err := r.db.Update(func(tx *store.Tx) error { _, err := tx.MarkSent(m.ID, 1, imei, 7); return err }); err != nil {
		t.Fatal(err)
	}
	if d, ok, err := r.db.ClaimDue(imei, nil); err != nil || !ok || d.Part.Seq != 2 {
		t.Fatalf("claim part 2: %+v %v %v", d.Part, ok, err)
	}
	r.start(ModemOptions{})
	got := r.waitState(m.ID, model.StateUnknown) // RecoverAtStartup ran
	_, parts := r.message(m.ID)
	if got.State != model.StateUnknown || parts[0].State != model.StateSent || parts[1].State != model.StateUnknown || parts[2].State != model.StateCancelled {
		t.Fatalf("after restart: message %s, parts %s %s %s; want unknown, sent unknown cancelled", got.State, parts[0].State, parts[1].State, parts[2].State)
	}
	if _, err := r.s.Retry(context.Background(), r.user.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	r.waitState(m.ID, model.StateSent)
	var sent []string
	for _, p := range r.net.Sent() {
		sent = append(sent, fmt.Sprintf("%d:%d", p.Ref, p.Part))
	}
	if want := fmt.Sprintf("[%[1]d:2 %[1]d:3]", got.Ref); fmt.Sprint(sent) != want {
		t.Errorf("network got %v, want %s", sent, want)
	}
}

func TestDispatchMultipartRetryStaysOnTheSendingModem(t *testing.T) {
	r := newMRig(t, 2, "tcp", sim.ModemOptions{})
	for _, sm := range r.sims {
		sm.SetFaults(sim.Faults{SendErrors: []int{0, 42}}) // part 1 goes, part 2 meets congestion
	}
	r.start(ModemOptions{})
	m := r.send(threeParts("All parts from one number. "), false, recipient)[0]
	done := r.waitState(m.ID, model.StateSent)
	sent := r.net.Sent()
	if len(sent) != 3 {
		t.Fatalf("network got %d parts, want 3", len(sent))
	}
	for _, p := range sent {
		if p.Modem != sent[0].Modem || p.Ref != int(done.Ref) {
			t.Errorf("part %d from %s ref %d; part 1 from %s ref %d: the recipient could not join them", p.Part, p.Modem, p.Ref, sent[0].Modem, done.Ref)
		}
	}
	if log := r.rec.log(); len(log) != 4 || log[1].err == nil {
		t.Errorf("attempts %+v, want 4 with the second failing", log)
	}
}

func TestRunOwnsThePool(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	pool := modem.NewPool(testPoolConfig(), nil)
	if err := pool.Add(modem.Config{Port: r.ports[0]}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.s.Run(ctx, pool, ModemOptions{}) }()
	m := r.send("through Run", false, recipient)[0]
	r.waitState(m.ID, model.StateSent)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	for _, st := range pool.Modems() {
		if st.State == modem.StateReady {
			t.Errorf("modem %s still ready after Run returned: the pool was not stopped", st.ID)
		}
	}
}
