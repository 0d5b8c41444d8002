package modem

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// TestSimOpenAfterATV0: a modem left in numeric result mode (ATV0, e.g. by
// another program, or a stored profile) answers "0\r" instead of "OK"; Open
// must switch it back to words before anything else, not call it "not a
// modem".
func TestSimOpenAfterATV0(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm, path := lonePTYModem(t, ctx, sim.ModemOptions{})
	// Another program puts the modem in numeric mode and goes away.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("ATE0V0\r"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 64)
	_ = f.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.HasSuffix(got, []byte("0\r")) {
		n, err := f.Read(buf)
		if err != nil {
			t.Fatalf("reading the answer to ATV0: %v (got %q)", err, got)
		}
		got = append(got, buf[:n]...)
	}
	f.Close()

	cfg := testConfig(path)
	cfg.CommandTimeout = time.Second
	trace := &lockedBuffer{}
	cfg.Trace = trace
	m, err := Open(ctx, cfg, testLog(t))
	if err != nil {
		t.Fatalf("Open of a modem in ATV0 mode: %v\ntrace:\n%s", err, trace.String())
	}
	defer m.Close()
	if m.ID() != sm.IMEI() {
		t.Errorf("ID = %q, want %q", m.ID(), sm.IMEI())
	}
	if st, reason := m.State(); st != StateReady {
		t.Errorf("state = %s (%s), want ready", st, reason)
	}
	if !strings.Contains(trace.String(), `-> "ATV1\r"`) {
		t.Errorf("ATV1 not sent:\n%s", trace.String())
	}
}

// TestSimRegistrationReports: with the periodic probe an hour away, a lost
// and regained network is still noticed at once, through +CREG/+CEREG
// reports the driver asked for.
func TestSimRegistrationReports(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{}, func(c *Config) { c.ProbeInterval = time.Hour })
		if st, _ := r.m.State(); st != StateReady {
			t.Fatalf("state = %s, want ready", st)
		}
		r.sm.SetNetwork(false)
		waitState(t, r.events, r.m.ID(), StateNoNetwork, "not registered")
		if _, err := r.m.SendPart(context.Background(), submit(t, "x", "+447700900555", false)[0].TPDU); !errors.Is(err, ErrNotReady) {
			t.Errorf("send after the network was lost: %v, want ErrNotReady", err)
		}
		r.sm.SetNetwork(true)
		waitState(t, r.events, r.m.ID(), StateReady, "registered")
	})
}

// TestSIMRemovedWhileRunning: a running modem whose SIM is pulled reports
// "failed" with the reason, refuses sends, is only probed (not
// re-initialised in a loop), and comes back by itself, PIN entered again,
// when a SIM is put back.
func TestSIMRemovedWhileRunning(t *testing.T) {
	var mu sync.Mutex
	card := "ready" // "ready", "absent", "pin"
	m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case cmd == "AT+CPIN?" && card == "absent":
			return nil, &at.CMEError{Code: 10, Text: "SIM not inserted"}, true
		case cmd == "AT+CPIN?" && card == "pin":
			return []string{"+CPIN: SIM PIN"}, nil, true
		case cmd == `AT+CPIN="1234"`:
			card = "ready"
			return nil, nil, true
		}
		return nil, nil, false
	}))
	m.cfg.ProbeInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.identify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.initialise(ctx); err != nil {
		t.Fatal(err)
	}
	m.setState(m.applyHealth(m.Status().Health))
	out := make(chan Event, 64)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, out) }()
	defer func() { cancel(); <-done }()
	waitState(t, out, m.ID(), StateReady, "registered")

	mu.Lock()
	card = "absent"
	mu.Unlock()
	waitState(t, out, m.ID(), StateFailed, "no SIM card inserted")
	if _, err := m.SendPart(ctx, []byte{0x01, 0x00, 0x00}); !errors.Is(err, ErrNotReady) || !IsTemporary(err) {
		t.Errorf("send without SIM: %v, want a temporary ErrNotReady", err)
	}
	inits, probes := len(f.sent("ATV1")), len(f.sent("AT+CPIN?"))
	for deadline := time.Now().Add(10 * time.Second); len(f.sent("AT+CPIN?")) < probes+10; {
		if time.Now().After(deadline) {
			t.Fatalf("probes stopped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(f.sent("ATV1")); n != inits {
		t.Errorf("modem without SIM re-initialised %d times", n-inits)
	}

	mu.Lock()
	card = "pin"
	mu.Unlock()
	waitState(t, out, m.ID(), StateReady, "registered")
	if n := len(f.sent(`AT+CPIN="`)); n != 1 {
		t.Errorf("PIN entered %d times, want once", n)
	}
}

// TestSlowCommandsGetSendTimeout: the driver gives AT+CMGS and AT+CMGL
// (which wait for the network or list a full storage) SendTimeout, and
// ordinary commands CommandTimeout.
func TestSlowCommandsGetSendTimeout(t *testing.T) {
	m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		if strings.HasPrefix(cmd, "AT+CMGS=") {
			return []string{"+CMGS: 5"}, nil, true
		}
		return nil, nil, false
	}))
	m.cfg.CommandTimeout, m.cfg.SendTimeout = 2*time.Second, 77*time.Second
	ctx := context.Background()
	if err := m.initialise(ctx); err != nil {
		t.Fatal(err)
	}
	m.setState(StateReady, "test")
	if _, err := m.SendPart(ctx, []byte{0x01, 0x00, 0x00}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.list(ctx, "SM"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for cmd, want := range map[string]time.Duration{"AT+CMGS=3": 77 * time.Second, "AT+CMGL=4": 77 * time.Second, "AT+CSQ": 2 * time.Second} {
		if got := f.waits[cmd]; got != want {
			t.Errorf("%s timeout %v, want %v (all: %v)", cmd, got, want, f.waits)
		}
	}
}

// TestSimPoolAcquireOnlyReady: a modem that is running but not registered
// is not handed out for sending; once it registers, it is.
func TestSimPoolAcquireOnlyReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm, err := sim.NewNetwork(sim.NetworkOptions{}).AddModem(sim.ModemOptions{NoNetwork: true})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(PoolConfig{Modem: testConfig(""), RescanInterval: 20 * time.Millisecond, EventBuffer: 1 << 12}, testLog(t))
	if err := p.Add(Config{Port: serve(t, ctx, sm, "pty")}); err != nil {
		t.Fatal(err)
	}
	runPool(t, ctx, p)
	for deadline := time.Now().Add(15 * time.Second); p.Modem(sm.IMEI()) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("modem never ran: %+v", p.Ports())
		}
	}
	short, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	if m, _, err := p.Acquire(short, nil); err == nil {
		t.Fatalf("Acquire handed out %s, which is not registered", m.ID())
	}
	sm.SetNetwork(true)
	actx, acancel := context.WithTimeout(ctx, 15*time.Second)
	defer acancel()
	m, release, err := p.Acquire(actx, nil)
	if err != nil {
		t.Fatalf("Acquire after registration: %v", err)
	}
	defer release()
	if st, _ := m.State(); st != StateReady || m.ID() != sm.IMEI() {
		t.Errorf("acquired %s in state %s", m.ID(), st)
	}
}

// TestPoolWarnsOnceAboutConfiguredPort: a configured port that yields no
// modem is logged at warn level once per distinct error, not on every
// retry; a scanned one only at debug level.
func TestPoolWarnsOnceAboutConfiguredPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logBuf lockedBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	missing := "/dev/does-not-exist-gsmgate"
	scanned := "/dev/does-not-exist-gsmgate-scanned"
	p := NewPool(PoolConfig{
		Modem:          testConfig(""),
		Scan:           func(context.Context) ([]string, error) { return []string{scanned}, nil },
		RescanInterval: 5 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 2 * time.Millisecond,
	}, log)
	if err := p.Add(Config{Port: missing}); err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(pctx) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		p.mu.Lock()
		s := p.ports[missing]
		if s != nil && s.failures >= 5 {
			p.mu.Unlock()
			break
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not retry the port: %+v", p.Ports())
		}
	}
	pcancel()
	<-done
	out := logBuf.String()
	if n := strings.Count(out, "no usable modem at port"); n != 1 || !strings.Contains(out, missing) || strings.Contains(out, scanned) {
		t.Errorf("want one warning, for the configured port; log:\n%s", out)
	}
}
