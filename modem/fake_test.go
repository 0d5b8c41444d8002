package modem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
)

// fakeLink is a scripted AT engine for the driver's decisions that the
// virtual modem does not provoke (odd answers, exact command sequences).
type fakeLink struct {
	mu     sync.Mutex
	answer func(cmd string) ([]string, error)
	cmds   []string
	waits  map[string]time.Duration // the timeout each command was given, last one wins
	once   sync.Once
	done   chan struct{}
}

func (f *fakeLink) Exec(_ context.Context, cmd string, d time.Duration) ([]string, error) {
	f.mu.Lock()
	f.cmds = append(f.cmds, cmd)
	if f.waits == nil {
		f.waits = map[string]time.Duration{}
	}
	f.waits[cmd] = d
	fn := f.answer
	f.mu.Unlock()
	return fn(cmd)
}

func (f *fakeLink) ExecSMS(ctx context.Context, cmd, pduHex string, d time.Duration) ([]string, error) {
	return f.Exec(ctx, cmd, d)
}

func (f *fakeLink) Close() error          { f.once.Do(func() { close(f.done) }); return nil }
func (f *fakeLink) Done() <-chan struct{} { return f.done }
func (f *fakeLink) Err() error            { return nil }

func (f *fakeLink) sent(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.cmds {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// basicModem answers like a plain, healthy modem; override picks answers
// first (ok false: fall through).
func basicModem(override func(cmd string) ([]string, error, bool)) func(string) ([]string, error) {
	return func(cmd string) ([]string, error) {
		if override != nil {
			if l, err, ok := override(cmd); ok {
				return l, err
			}
		}
		switch {
		case cmd == "AT+CGSN":
			return []string{"356938035643809"}, nil
		case cmd == "AT+CCID":
			return []string{"+CCID: 8944110000000000016"}, nil
		case cmd == "AT+CIMI":
			return []string{"234150000000001"}, nil
		case cmd == "AT+CPIN?":
			return []string{"+CPIN: READY"}, nil
		case cmd == "AT+CPMS=?":
			return []string{`+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")`}, nil
		case strings.HasPrefix(cmd, "AT+CPMS="):
			return []string{"+CPMS: 0,20,0,20,0,20"}, nil
		case cmd == "AT+CNMI=?":
			return []string{"+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"}, nil
		case cmd == "AT+CSQ":
			return []string{"+CSQ: 20,99"}, nil
		case cmd == "AT+CREG?":
			return []string{"+CREG: 0,1"}, nil
		case cmd == "AT+COPS?":
			return []string{`+COPS: 0,0,"Fake",2`}, nil
		}
		return nil, nil
	}
}

func fakeModem(t *testing.T, answer func(string) ([]string, error)) (*Modem, *fakeLink) {
	t.Helper()
	m, err := newModem(Config{Port: "fake", SIMWait: time.Second, PIN: "1234"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLink{answer: answer, done: make(chan struct{})}
	m.eng = f
	return m, f
}

func TestInitStorageFallback(t *testing.T) {
	m, _ := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		switch cmd {
		case "AT+CPMS=?":
			return nil, at.ErrError, true
		case "AT+CPMS?":
			return []string{`+CPMS: "ME",1,100,"ME",1,100,"ME",1,100`}, nil, true
		}
		return nil, nil, false
	}))
	if err := m.identify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.initialise(context.Background()); err != nil {
		t.Fatalf("initialise: %v", err)
	}
	if i := m.Info(); i.Storage != "ME" || len(i.Storages) != 1 {
		t.Errorf("storage = %q %q, want the current ME", i.Storage, i.Storages)
	}
}

// The receive storage is the largest by capacity even when it is full (the
// network holds what it cannot take; a choice by room would move it at
// every restart), and copies go to the other one.
func TestInitStorageByCapacity(t *testing.T) {
	for _, c := range []struct {
		name             string
		list             string // +CPMS=? ("" the basic modem's)
		sm, me           string // +CPMS answers when each is selected
		want, wantCopies string
	}{
		{"MT offered", `+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")`, "+CPMS: 0,20,0,20,0,20", "+CPMS: 0,100,0,100,0,100", "ME", "SM"},
		{"larger has room", "", "+CPMS: 20,20,20,20,20,20", "+CPMS: 3,100,3,100,3,100", "ME", "SM"},
		{"larger is full", "", "+CPMS: 0,20,0,20,0,20", "+CPMS: 100,100,100,100,100,100", "ME", "SM"},
		{"equal, by name", "", "+CPMS: 0,50,0,50,0,50", "+CPMS: 9,50,9,50,9,50", "ME", "SM"},
		{"SIM larger", "", "+CPMS: 0,250,0,250,0,250", "+CPMS: 0,100,0,100,0,100", "SM", "ME"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
				switch {
				case cmd == "AT+CPMS=?" && c.list != "":
					return []string{c.list}, nil, true
				case cmd == `AT+CPMS="SM"`:
					return []string{c.sm}, nil, true
				case cmd == `AT+CPMS="ME"`:
					return []string{c.me}, nil, true
				case cmd == `AT+CPMS="MT"`:
					return []string{"+CPMS: 0,120,0,120,0,120"}, nil, true
				}
				return nil, nil, false
			}))
			if err := m.initialise(context.Background()); err != nil {
				t.Fatal(err)
			}
			if i := m.Info(); i.Storage != c.want || i.WriteStorage != c.wantCopies || strings.Join(i.Storages, ",") != "SM,ME" {
				t.Errorf("incoming to %q, copies to %q, polled %q; want %s, %s, both polled", i.Storage, i.WriteStorage, i.Storages, c.want, c.wantCopies)
			}
			final := fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, c.want, c.wantCopies, c.want)
			if got := f.sent(final); len(got) != 1 {
				t.Errorf("final +CPMS: %q, want %s", f.sent("AT+CPMS"), final)
			}
		})
	}
}

// "MT" (SIM and phone memory together) overlaps both halves: copies never
// go there when incoming messages go to SM or ME, nor to SM/ME when they go
// to MT.
func TestOverlaps(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"SM", "SM", true}, {"SM", "ME", false}, {"MT", "SM", true}, {"ME", "MT", true}, {"MT", "MT", true}, {"SR", "SM", false},
	} {
		if got := overlaps(c.a, c.b); got != c.want {
			t.Errorf("overlaps(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestInitCNMIAllRejected(t *testing.T) {
	m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		if strings.HasPrefix(cmd, "AT+CNMI=") && cmd != "AT+CNMI=?" {
			return nil, &at.CMSError{Code: 500, Text: "unknown error"}, true
		}
		return nil, nil, false
	}))
	if err := m.initialise(context.Background()); err != nil {
		t.Fatalf("initialise must not fail for want of +CNMI (polling still works): %v", err)
	}
	tried := f.sent("AT+CNMI=")
	if len(tried) < 4 || tried[1] != "AT+CNMI=2,1,0,2,0" || tried[2] != "AT+CNMI=2,1,0,1,0" {
		t.Errorf("candidates tried: %q", tried)
	}
	if m.Info().CNMI != "" {
		t.Errorf("CNMI recorded as %q", m.Info().CNMI)
	}
}

func TestInitWrongPINEnteredOnce(t *testing.T) {
	m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		switch {
		case cmd == "AT+CPIN?":
			return []string{"+CPIN: SIM PIN"}, nil, true
		case strings.HasPrefix(cmd, "AT+CPIN="):
			return nil, &at.CMEError{Code: 16, Text: "incorrect password"}, true
		}
		return nil, nil, false
	}))
	for range 3 {
		if err := m.initialise(context.Background()); !errors.Is(err, ErrWrongPIN) {
			t.Fatalf("initialise = %v, want ErrWrongPIN", err)
		}
	}
	if n := len(f.sent("AT+CPIN=")); n != 1 {
		t.Errorf("PIN entered %d times, want once", n)
	}
}

func TestInitSIMBusyThenReady(t *testing.T) {
	busy := 2
	m, _ := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
		if cmd == "AT+CPIN?" && busy > 0 {
			busy--
			return nil, &at.CMEError{Code: 14, Text: "SIM busy"}, true
		}
		return nil, nil, false
	}))
	if err := m.initialise(context.Background()); err != nil {
		t.Fatalf("initialise with a busy SIM: %v", err)
	}
}

func TestInitSIMErrors(t *testing.T) {
	for _, tc := range []struct {
		answer func() ([]string, error)
		want   error
	}{
		{func() ([]string, error) { return nil, &at.CMEError{Code: 10} }, ErrNoSIM},
		{func() ([]string, error) { return nil, &at.CMEError{Code: 13} }, ErrSIMFailure},
		{func() ([]string, error) { return []string{"+CPIN: SIM PUK"}, nil }, ErrPUKRequired},
		{func() ([]string, error) { return []string{"+CPIN: PH-SIM PIN"}, nil }, ErrSIMLocked},
	} {
		m, _ := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
			if cmd == "AT+CPIN?" {
				l, err := tc.answer()
				return l, err, true
			}
			return nil, nil, false
		}))
		if err := m.initialise(context.Background()); !errors.Is(err, tc.want) {
			t.Errorf("initialise = %v, want %v", err, tc.want)
		}
	}
}

// TestRecoveryEscalates: a modem that answers nothing until it gets a
// certain command is recovered by the step that sends it; each step is
// reported, in order, and no step beyond the one needed is taken.
func TestRecoveryEscalates(t *testing.T) {
	steps := []string{"step 1/4: resynchronise", "step 2/4: re-initialise", "step 3/4: radio off and on", "step 4/4: reset the modem"}
	for i, tc := range []struct {
		wakeOn, by string
	}{
		{"AT", "resynchronise"},
		{"ATV1", "re-initialise"},
		{"AT+CFUN=0", "radio off and on"},
		{"AT+CFUN=1,1", "reset the modem"},
	} {
		t.Run(tc.by, func(t *testing.T) {
			var mu sync.Mutex
			hung := true
			m, f := fakeModem(t, basicModem(func(cmd string) ([]string, error, bool) {
				mu.Lock()
				defer mu.Unlock()
				if cmd == tc.wakeOn {
					hung = false
				}
				if hung {
					return nil, at.ErrTimeout, true
				}
				return nil, nil, false
			}))
			m.cfg.ResetWait = time.Second
			out := make(chan Event, 16)
			r := &runner{m: m, ctx: context.Background(), out: out}
			if err := r.recover(at.ErrTimeout); err != nil {
				t.Fatalf("recover: %v", err)
			}
			close(out)
			var reasons []string
			for ev := range out {
				sc := ev.(*StateChanged)
				reasons = append(reasons, string(sc.State)+": "+sc.Reason)
			}
			want := append(append([]string(nil), steps[:i+1]...), "ready: registered (home); recovered by: "+tc.by)
			if len(reasons) != len(want) {
				t.Fatalf("reported %q", reasons)
			}
			for j, w := range want {
				if !strings.Contains(reasons[j], w) {
					t.Errorf("report %d = %q, want it to contain %q", j, reasons[j], w)
				}
			}
			if i < 3 && len(f.sent("AT+CFUN=1,1")) != 0 {
				t.Errorf("modem reset although an earlier step recovered it")
			}
		})
	}
}
