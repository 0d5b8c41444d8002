package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// The modems dashboard's data: signal sampled every few minutes over the
// last 24 hours, and messages per day (sent, delivered, failed, received)
// over the last 30 days, kept per modem in small rings in the database so
// that a restart keeps the charts.

// Windows of the dashboard's rings.
const (
	SignalWindow = 24 * time.Hour
	DailyWindow  = 30 // days
)

// StatsOptions tune RunModemStats.
type StatsOptions struct {
	// SampleEvery is how often each modem's signal is recorded (default
	// 5 minutes: 288 samples a day per modem).
	SampleEvery time.Duration
	// Ticks, when set, replaces the sampling timer (tests).
	Ticks <-chan time.Time
}

// RunModemStats records the dashboard's samples until ctx ends: signal
// every SampleEvery (and once at start), and a daily count for each
// message sent, delivered, failed or received, by the modem that handled
// it. Counts come from the core's event stream: a burst that overflows
// the stream's buffer is undercounted on the chart (never in the
// messages themselves).
func (s *Service) RunModemStats(ctx context.Context, o StatsOptions) error {
	if o.SampleEvery <= 0 {
		o.SampleEvery = 5 * time.Minute
	}
	ticks := o.Ticks
	if ticks == nil {
		t := time.NewTicker(o.SampleEvery)
		defer t.Stop()
		ticks = t.C
	}
	sub := s.Subscribe(Everyone)
	defer sub.Close()
	s.sampleSignal(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
			s.sampleSignal(ctx)
		case e, ok := <-sub.C:
			if !ok {
				return nil
			}
			if err := s.countEvent(e); err != nil {
				s.log.Warn("modem stats", "error", err)
			}
		}
	}
}

func (s *Service) sampleSignal(ctx context.Context) {
	now := s.clock.Now()
	ms := s.Modems(ctx)
	if len(ms) == 0 {
		return
	}
	err := s.st.Update(func(tx *store.Tx) error {
		for _, m := range ms {
			sm := model.SignalSample{At: now, Bars: m.SignalBars}
			if m.Registered {
				sm.DBm = m.SignalDBm
			} else {
				sm.Bars = 0
			}
			if err := tx.AddSignalSample(m.Name, sm, SignalWindow); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("modem stats: signal", "error", err)
	}
}

// countEvent adds one event to its modem's day.
func (s *Service) countEvent(e Event) error {
	var m model.Message
	var inc func(*model.DailyCounts)
	switch e := e.(type) {
	case *MessageReceived:
		m, inc = e.Message, func(c *model.DailyCounts) { c.Received++ }
	case *StatusChanged:
		m = e.Message
		switch e.EventName() {
		case EventMessageSent:
			inc = func(c *model.DailyCounts) { c.Sent++ }
		case EventMessageDelivered:
			if e.Previous == model.StateSent {
				inc = func(c *model.DailyCounts) { c.Delivered++ }
			} else {
				// Delivered without passing sent (the report beat +CMGS's
				// answer): it was sent too.
				inc = func(c *model.DailyCounts) { c.Sent++; c.Delivered++ }
			}
		case EventMessageFailed:
			inc = func(c *model.DailyCounts) { c.Failed++ }
		}
	}
	if inc == nil || m.Modem == "" {
		return nil
	}
	at := e.EventTime()
	if err := s.st.Update(func(tx *store.Tx) error { return tx.CountDaily(m.Modem, at, DailyWindow, inc) }); err != nil {
		return fmt.Errorf("gateway: count %s: %w", e.EventName(), err)
	}
	return nil
}

// ModemPanel is one modem on the dashboard: its status, its health in
// plain words, and its charts' data.
type ModemPanel struct {
	Status model.ModemStatus
	Issues []HealthIssue
	// Signal is the last 24 hours of samples, oldest first.
	Signal []model.SignalSample
	// Days are the last 30 days, oldest first, one entry per day (zero
	// counts included), today last.
	Days []model.DailyCounts
}

// Dashboard is the modems page's data.
type Dashboard struct {
	Modems     []ModemPanel
	QueueDepth int
	At         time.Time
}

// ModemDashboard gathers the dashboard for an admin.
func (s *Service) ModemDashboard(ctx context.Context, a Actor) (Dashboard, error) {
	now := s.clock.Now()
	d := Dashboard{QueueDepth: s.QueueDepth(), At: now}
	ms := s.Modems(ctx)
	err := s.st.View(func(tx *store.Tx) error {
		if _, err := authorize(tx, a); err != nil {
			return err
		}
		first := now.UTC().AddDate(0, 0, -(DailyWindow - 1))
		for _, m := range ms {
			p := ModemPanel{Status: m, Issues: DiagnoseModem(m)}
			var err error
			if p.Signal, err = tx.SignalSamples(m.Name, now.Add(-SignalWindow)); err != nil {
				return err
			}
			got, err := tx.DailyCounts(m.Name, first)
			if err != nil {
				return err
			}
			byDay := map[string]model.DailyCounts{}
			for _, c := range got {
				byDay[c.Day] = c
			}
			for i := range DailyWindow {
				day := store.DayKey(first.AddDate(0, 0, i))
				c := byDay[day]
				c.Day = day
				p.Days = append(p.Days, c)
			}
			d.Modems = append(d.Modems, p)
		}
		return nil
	})
	return d, err
}
