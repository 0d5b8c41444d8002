package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func TestDiagnoseModem(t *testing.T) {
	ok := model.ModemStatus{Name: "m1", State: "ready", SIM: "READY", Registration: "home", Registered: true, SignalDBm: -71, SignalBars: 4, SMSC: "+447785016005"}
	with := func(f func(*model.ModemStatus)) model.ModemStatus { m := ok; f(&m); return m }
	for _, tc := range []struct {
		name string
		m    model.ModemStatus
		want []string
	}{
		{"healthy", ok, nil},
		{"sim pin", with(func(m *model.ModemStatus) {
			m.State, m.SIM, m.Registered, m.Registration = "failed", "SIM PIN", false, "unknown"
		}), []string{"sim_pin"}},
		{"sim puk", with(func(m *model.ModemStatus) { m.State, m.SIM, m.Registered = "failed", "SIM PUK", false }), []string{"sim_puk"}},
		{"no sim", with(func(m *model.ModemStatus) { m.State, m.SIM, m.Registered = "failed", "NOT INSERTED", false }), []string{"no_sim"}},
		{"searching", with(func(m *model.ModemStatus) {
			m.State, m.Registration, m.Registered, m.SignalDBm = "no network", "searching", false, 0
		}), []string{"not_registered"}},
		{"denied", with(func(m *model.ModemStatus) { m.State, m.Registration, m.Registered = "no network", "denied", false }), []string{"denied"}},
		{"roaming", with(func(m *model.ModemStatus) { m.Registration, m.Operator = "roaming", "Orange F" }), []string{"roaming"}},
		{"weak", with(func(m *model.ModemStatus) { m.SignalDBm, m.SignalBars = -107, 1 }), []string{"weak_signal"}},
		{"edge of weak", with(func(m *model.ModemStatus) { m.SignalDBm = -100 }), nil},
		{"storage full", with(func(m *model.ModemStatus) { m.LastError = "+CMS ERROR: 322 (memory full)" }), []string{"storage_full"}},
		{"no smsc", with(func(m *model.ModemStatus) { m.SMSC = "" }), []string{"no_smsc"}},
		{"port busy", model.ModemStatus{Name: "/dev/ttyUSB2", State: "failed",
			LastError: "modem: open /dev/ttyUSB2: port busy (is gsmgate serve or ModemManager holding it?)"}, []string{"port_busy"}},
		{"unplugged", with(func(m *model.ModemStatus) { m.State, m.Registered, m.Registration = "disconnected", false, "unknown" }), []string{"disconnected"}},
		{"roaming and weak", with(func(m *model.ModemStatus) { m.Registration, m.SignalDBm = "roaming", -110 }), []string{"roaming", "weak_signal"}},
		{"failed otherwise", model.ModemStatus{Name: "x", State: "failed", LastError: "SIM: failure"}, []string{"not_registered"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			is := DiagnoseModem(tc.m)
			var got []string
			for _, i := range is {
				got = append(got, i.Code)
				if i.Problem == "" || i.Action == "" || (i.Severity != "error" && i.Severity != "warning") {
					t.Errorf("issue without words: %+v", i)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

type modemList struct {
	mu sync.Mutex
	ms []model.ModemStatus
}

func (l *modemList) get() []model.ModemStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]model.ModemStatus(nil), l.ms...)
}

func (l *modemList) set(ms ...model.ModemStatus) {
	l.mu.Lock()
	l.ms = ms
	l.mu.Unlock()
}

func TestModemStatsRecordsSignalAndDays(t *testing.T) {
	ml := &modemList{}
	ml.set(model.ModemStatus{Name: "m1", State: "ready", Registered: true, Registration: "home", SignalDBm: -75, SignalBars: 4, SIM: "READY", SMSC: "+44"})
	e := newEnv(t, Options{ModemStatus: ml.get})
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.s.RunModemStats(ctx, StatsOptions{Ticks: ticks}) }()
	// Wait until the first sample (taken at start) is in: the subscription
	// is open from then on.
	waitFor(t, func() bool {
		d, _ := e.s.ModemDashboard(context.Background(), Actor{UserID: ada.ID})
		return len(d.Modems) == 1 && len(d.Modems[0].Signal) == 1
	})
	e.clock.Advance(5 * time.Minute)
	ml.set(model.ModemStatus{Name: "m1", State: "no network", Registration: "searching", SignalDBm: -113, SignalBars: 0})
	ticks <- e.clock.Now()
	// Events: two received, one sent then delivered, one failed.
	e.receive(numA, "one")
	e.receive(numA, "two")
	m := model.Message{ID: 1, Direction: model.Outgoing, Modem: "m1", State: model.StateSent}
	e.s.PublishStatus(model.StateSubmitting, m)
	m.State = model.StateDelivered
	e.s.PublishStatus(model.StateSent, m)
	m2 := model.Message{ID: 2, Direction: model.Outgoing, Modem: "m1", State: model.StateFailed}
	e.s.PublishStatus(model.StateSubmitting, m2)
	// A failure before any modem took it is nobody's.
	e.s.PublishStatus(model.StateQueued, model.Message{ID: 3, State: model.StateExpired})
	var d Dashboard
	waitFor(t, func() bool {
		d, _ = e.s.ModemDashboard(context.Background(), Actor{UserID: ada.ID})
		last := d.Modems[0].Days[DailyWindow-1]
		return last.Received == 2 && last.Failed == 1 && last.Delivered == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p := d.Modems[0]
	if len(p.Days) != DailyWindow || p.Days[DailyWindow-1].Day != "2026-03-01" || p.Days[0].Day != "2026-01-31" {
		t.Fatalf("days %s .. %s (%d)", p.Days[0].Day, p.Days[len(p.Days)-1].Day, len(p.Days))
	}
	if got := p.Days[DailyWindow-1]; got.Sent != 1 || got.Delivered != 1 || got.Failed != 1 || got.Received != 2 {
		t.Fatalf("today %+v", got)
	}
	if len(p.Signal) != 2 || p.Signal[0].DBm != -75 || p.Signal[0].Bars != 4 || p.Signal[1].DBm != 0 || p.Signal[1].Bars != 0 {
		t.Fatalf("signal %+v (unregistered must read as no signal)", p.Signal)
	}
	if len(p.Issues) != 1 || p.Issues[0].Code != "not_registered" {
		t.Fatalf("issues %+v", p.Issues)
	}
	staff := e.user("Sam", model.RoleStaff, model.VisibilityAll, false)
	if _, err := e.s.ModemDashboard(context.Background(), Actor{UserID: staff.ID}); err != ErrForbidden {
		t.Fatalf("staff dashboard: %v", err)
	}
}

// waitFor polls cond (the stats goroutine works asynchronously).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
