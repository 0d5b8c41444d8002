package modem

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// waitState waits for a StateChanged of modem id whose state is want and
// whose reason contains substr; it returns every state event seen.
func waitState(t *testing.T, ch <-chan Event, id string, want State, substr string) []*StateChanged {
	t.Helper()
	var seen []*StateChanged
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-ch:
			sc, ok := ev.(*StateChanged)
			if !ok {
				continue
			}
			seen = append(seen, sc)
			if sc.ModemID == id && sc.State == want && strings.Contains(sc.Reason, substr) {
				return seen
			}
		case <-timeout:
			var got []string
			for _, s := range seen {
				got = append(got, string(s.State)+": "+s.Reason)
			}
			t.Fatalf("no state %q (%q) for %s within 30s; saw %q", want, substr, id, got)
			return nil
		}
	}
}

func TestSimSendErrorsClassified(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		// A send answered late on a loaded machine must not pass for one
		// never answered: a long SendTimeout for the answered sends, and a
		// context deadline for the one the modem never answers.
		r := newRig(t, profile, transport, sim.ModemOptions{}, func(c *Config) { c.SendTimeout = 30 * time.Second })
		tpdu := submit(t, "hi", "+447700900555", false)[0].TPDU
		r.sm.SetFaults(sim.Faults{SendErrors: []int{27, 1, 500}})
		for _, want := range []struct {
			code  int
			class Class
		}{{27, Temporary}, {1, Permanent}, {500, Temporary}} {
			_, err := r.m.SendPart(context.Background(), tpdu)
			var se *SendError
			if !errors.As(err, &se) || se.Code != want.code || se.Class != want.class || Classify(err) != want.class || se.Reason == "" {
				t.Errorf("send with +CMS ERROR: %d: err = %v, want class %s", want.code, err, want.class)
			}
		}
		// A send the network takes but the modem never confirms: the
		// outcome is unknown, and the modem is usable afterwards.
		r.sm.SetFaults(sim.Faults{SendTimeouts: 1})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := r.m.SendPart(ctx, tpdu)
		cancel()
		if Classify(err) != Unknown {
			t.Errorf("send without answer: err = %v, class %s, want unknown", err, Classify(err))
		}
		if _, err := r.m.SendPart(context.Background(), tpdu); err != nil {
			t.Errorf("send after a timed-out one: %v", err)
		}
	})
}

func TestSimStorageFullThenEmptied(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := sim.NewNetwork(sim.NetworkOptions{})
		sm, err := n.AddModem(sim.ModemOptions{Profile: profile, SMCapacity: 1, MECapacity: 2, Latency: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		// Messages arrive while nobody listens, more than fit.
		want := []string{"one", "two", "three", "four", "five"}
		for _, w := range want {
			if _, err := n.Inbound(sm, sim.InboundSMS{From: "+447700900999", Text: w}); err != nil {
				t.Fatal(err)
			}
		}
		if sm.Held() == 0 {
			t.Fatalf("storage did not fill: nothing held by the network")
		}
		m, err := Open(ctx, testConfig(serve(t, ctx, sm, transport)), testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		events := make(chan Event, 16)
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx, events) }()
		var got []string
		for len(got) < len(want) {
			in := next[*Inbound](t, events)
			got = append(got, in.Msg.Text)
			if err := in.Commit(ctx); err != nil {
				t.Fatalf("commit: %v", err)
			}
		}
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("received %q, want %q", got, w)
		}
		if len(sm.Stored()) != 0 || sm.Held() != 0 {
			t.Errorf("left: stored %+v, held %d", sm.Stored(), sm.Held())
		}
		cancel()
		<-done
	})
}

func TestSimHungModemRecovers(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{}, func(c *Config) { c.CommandTimeout = 500 * time.Millisecond })
		id := r.m.ID()
		next[*StateChanged](t, r.events) // the initial state
		r.sm.Hang(true)
		seen := waitState(t, r.events, id, StateRecovering, "step 2/4")
		if !strings.Contains(seen[len(seen)-2].Reason, "step 1/4: resynchronise") {
			t.Errorf("step before re-initialise: %q", seen[len(seen)-2].Reason)
		}
		r.sm.Hang(false)
		waitState(t, r.events, id, StateReady, "recovered by")
		if _, err := r.m.SendPart(context.Background(), submit(t, "back", "+447700900555", false)[0].TPDU); err != nil {
			t.Errorf("send after recovery: %v", err)
		}
	})
}

func TestSimHungForeverGivesUp(t *testing.T) {
	r := newRig(t, "generic", "pty", sim.ModemOptions{}, func(c *Config) {
		c.CommandTimeout = 500 * time.Millisecond
		c.ResetWait = time.Second
	})
	r.sm.Hang(true)
	var steps []string
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev := <-r.events:
			if sc, ok := ev.(*StateChanged); ok && sc.State == StateRecovering {
				steps = append(steps, sc.Reason)
			}
			continue
		case err := <-r.done:
			r.done <- err // for the cleanup
			if err == nil || !strings.Contains(err.Error(), "after 4 recovery steps") {
				t.Errorf("Run ended with %v", err)
			}
		case <-timeout:
			t.Fatal("Run did not give up within 60s")
		}
		break
	}
	if len(steps) != 4 || !strings.Contains(steps[3], "AT+CFUN=1,1") {
		t.Errorf("recovery steps reported: %q", steps)
	}
	if st, _ := r.m.State(); st != StateFailed {
		t.Errorf("state = %s, want failed", st)
	}
}

func TestSimSIMProblems(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := sim.NewNetwork(sim.NetworkOptions{})
			open := func(o sim.ModemOptions, pin string) (*sim.Modem, error) {
				sm, err := n.AddModem(o)
				if err != nil {
					t.Fatal(err)
				}
				cfg := testConfig(serve(t, ctx, sm, tr))
				cfg.PIN = pin
				m, err := Open(ctx, cfg, testLog(t))
				if err == nil {
					m.Close()
				}
				return sm, err
			}
			if _, err := open(sim.ModemOptions{NoSIM: true}, ""); !errors.Is(err, ErrNoSIM) {
				t.Errorf("no SIM: err = %v", err)
			}
			if _, err := open(sim.ModemOptions{PIN: "1234"}, ""); !errors.Is(err, ErrPINRequired) {
				t.Errorf("PIN, none configured: err = %v", err)
			}
			if _, err := open(sim.ModemOptions{PIN: "1234"}, "1234"); err != nil {
				t.Errorf("right PIN: %v", err)
			}
			sm, err := open(sim.ModemOptions{PIN: "1234"}, "9999")
			var oe *OpenError
			if !errors.Is(err, ErrWrongPIN) || !errors.As(err, &oe) || oe.Info.IMEI != sm.IMEI() {
				t.Errorf("wrong PIN: err = %v", err)
			}
		})
	}
}

func TestSimNoNetwork(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{NoNetwork: true}, nil)
		if st, reason := r.m.State(); st != StateNoNetwork || !strings.Contains(reason, "not registered") {
			t.Errorf("state = %s (%s), want no network", st, reason)
		}
		_, err := r.m.SendPart(context.Background(), submit(t, "x", "+447700900555", false)[0].TPDU)
		if !errors.Is(err, ErrNotReady) || !IsTemporary(err) {
			t.Errorf("send without network: %v", err)
		}
		r.sm.SetNetwork(true)
		waitState(t, r.events, r.m.ID(), StateReady, "registered")
	})
}

// TestSimPoolUnplugReplug: a modem unplugged and plugged back at another
// port is found again by IMEI; what arrived meanwhile, and what was
// delivered but not committed before, is delivered after.
func TestSimPoolUnplugReplug(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := sim.NewNetwork(sim.NetworkOptions{})
		sm, err := n.AddModem(sim.ModemOptions{Profile: profile, PIN: "4321", Latency: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		first := serve(t, ctx, sm, transport)
		tmpl := testConfig("")
		tmpl.PIN = "4321"
		pc := PoolConfig{Modem: tmpl, RescanInterval: 50 * time.Millisecond, RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond}
		if transport == "pty" {
			pc.Scan = func(context.Context) ([]string, error) {
				if p := sm.PTYPath(); p != "" {
					return []string{p}, nil
				}
				return nil, nil
			}
		}
		p := NewPool(pc, testLog(t))
		if transport == "tcp" {
			if err := p.Add(Config{Port: first}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Run(ctx) }()
		defer wg.Wait()
		defer cancel()

		acquire := func() *Modem {
			actx, acancel := context.WithTimeout(ctx, 30*time.Second)
			defer acancel()
			m, release, err := p.Acquire(actx, nil)
			if err != nil {
				t.Fatalf("Acquire: %v (modems %+v)", err, p.Modems())
			}
			defer release()
			if _, err := m.SendPart(ctx, submit(t, "via pool", "+447700900555", false)[0].TPDU); err != nil {
				t.Errorf("SendPart: %v", err)
			}
			return m
		}
		m1 := acquire()
		if m1.ID() != sm.IMEI() {
			t.Fatalf("pool modem ID %q, want IMEI %q", m1.ID(), sm.IMEI())
		}
		if _, err := n.Inbound(sm, sim.InboundSMS{From: "+447700900999", Text: "before"}); err != nil {
			t.Fatal(err)
		}
		before := next[*Inbound](t, p.Events()) // not committed: must come again
		if before.Msg.Text != "before" {
			t.Fatalf("got %q", before.Msg.Text)
		}

		sm.Unplug()
		waitState(t, p.Events(), sm.IMEI(), StateDisconnected, "")
		if _, err := n.Inbound(sm, sim.InboundSMS{From: "+447700900999", Text: "while away"}); err != nil {
			t.Fatal(err)
		}
		second, err := sm.Replug(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if transport == "pty" && (second == "" || second == first) {
			t.Fatalf("replugged at %q (was %q)", second, first)
		}
		got := map[string]bool{}
		for len(got) < 2 {
			in := next[*Inbound](t, p.Events())
			if in.ModemID != sm.IMEI() {
				t.Errorf("inbound from modem %q", in.ModemID)
			}
			got[in.Msg.Text] = true
			if err := in.Commit(ctx); err != nil {
				t.Errorf("commit: %v", err)
			}
		}
		if !got["before"] || !got["while away"] {
			t.Errorf("after replug got %v", got)
		}
		m2 := acquire()
		if m2.ID() != sm.IMEI() || transport == "pty" && m2.Info().Port != second {
			t.Errorf("after replug: modem %q at %q, want %q at %q", m2.ID(), m2.Info().Port, sm.IMEI(), second)
		}
		if len(sm.Stored()) != 0 {
			t.Errorf("left on the modem: %+v", sm.Stored())
		}
		mods := p.Modems()
		if len(mods) != 1 || mods[0].ID != sm.IMEI() || mods[0].State != StateReady {
			t.Errorf("Modems() = %+v", mods)
		}
	})
}

// TestSimPoolWrongPINNotRetried: the pool keeps looking at a modem whose
// SIM rejected the PIN but never enters it again, so the SIM is not
// blocked: after several rounds the right PIN still works.
func TestSimPoolWrongPINNotRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := n.AddModem(sim.ModemOptions{PIN: "1234"})
	if err != nil {
		t.Fatal(err)
	}
	port := serve(t, ctx, sm, "tcp")
	tmpl := testConfig("")
	p := NewPool(PoolConfig{Modem: tmpl, RescanInterval: 20 * time.Millisecond, FailedRetry: 10 * time.Millisecond}, testLog(t))
	if err := p.Add(Config{Port: port, PIN: "9999"}); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(pctx) }()
	for range 5 {
		sc := waitState(t, p.Events(), sm.IMEI(), StateFailed, "PIN")
		_ = sc
	}
	pcancel()
	<-done
	cfg := testConfig(port)
	cfg.PIN = "1234"
	m, err := Open(ctx, cfg, testLog(t))
	if err != nil {
		t.Fatalf("right PIN after the pool's attempts: %v (the pool must not have entered the wrong PIN again)", err)
	}
	m.Close()
}

// TestSimPoolNoSIMNotInTightLoop: a modem without SIM is reported once per
// FailedRetry, not retried in a loop.
func TestSimPoolNoSIMNotInTightLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := n.AddModem(sim.ModemOptions{NoSIM: true})
	if err != nil {
		t.Fatal(err)
	}
	// The ordinary backoff is short: only FailedRetry keeps the pool away.
	p := NewPool(PoolConfig{Modem: testConfig(""), RescanInterval: 10 * time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, FailedRetry: time.Hour}, testLog(t))
	if err := p.Add(Config{Port: serve(t, ctx, sm, "pty")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	waitState(t, p.Events(), sm.IMEI(), StateFailed, "no SIM")
	// Many rescans later, still no second attempt.
	time.Sleep(300 * time.Millisecond)
	select {
	case ev := <-p.Events():
		t.Errorf("unexpected event after the failure: %+v", ev)
	default:
	}
	mods := p.Modems()
	if len(mods) != 1 || mods[0].State != StateFailed || !strings.Contains(mods[0].Reason, "no SIM") {
		t.Errorf("Modems() = %+v", mods)
	}
	if ports := p.Ports(); len(ports) != 1 || time.Until(ports[0].NextTry) < 30*time.Minute || !strings.Contains(ports[0].LastError, "no SIM") {
		t.Errorf("Ports() = %+v, want the next try in about an hour", ports)
	}
	cancel()
	<-done
}

// TestSimUnplugClosesCleanly: an unplugged modem ends Run with an error
// that says so, and refuses sends as temporary (not ready) afterwards.
func TestSimUnplugClosesCleanly(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{}, nil)
		r.sm.Unplug()
		var err error
		select {
		case err = <-r.done:
			r.done <- err
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not end after unplug")
		}
		if !errors.Is(err, ErrClosed) || !errors.Is(err, at.ErrClosed) {
			t.Errorf("Run ended with %v, want ErrClosed", err)
		}
		if st, reason := r.m.State(); st != StateDisconnected || !strings.Contains(reason, "link lost") {
			t.Errorf("state = %s (%s)", st, reason)
		}
		_, err = r.m.SendPart(context.Background(), submit(t, "x", "+447700900555", false)[0].TPDU)
		if !IsTemporary(err) {
			t.Errorf("send after unplug: %v (class %s)", err, Classify(err))
		}
	})
}

// TestSimLineNoise: garbage and malformed indications on the line are
// ignored; sending and receiving go on.
func TestSimLineNoise(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{}, nil)
		r.sm.InjectGarbage([]byte("\x00\xff\xfe noise\r\n+CMTI: \"SM\",notanumber\r\n+CMT: ,5\r\nZZZZ\r\n+CDSI: \r\n"))
		r.sm.SetFaults(sim.Faults{Garbage: 2})
		if _, err := r.m.SendPart(context.Background(), submit(t, "through noise", "+447700900555", false)[0].TPDU); err != nil {
			t.Errorf("send with noise: %v", err)
		}
		if _, err := r.net.Inbound(r.sm, sim.InboundSMS{From: "+447700900999", Text: "still here"}); err != nil {
			t.Fatal(err)
		}
		for {
			in := next[*Inbound](t, r.events)
			if in.Msg == nil {
				// The bogus +CMT is delivered raw with its decode error:
				// nothing a modem says is silently dropped.
				if in.DecodeErr == nil {
					t.Errorf("undecoded inbound without an error: %+v", in)
				}
				continue
			}
			if in.Msg.Text != "still here" {
				t.Errorf("inbound %q", in.Msg.Text)
			}
			if err := in.Commit(context.Background()); err != nil {
				t.Errorf("commit: %v", err)
			}
			break
		}
	})
}
