package gateway

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// SendPolicy is the operator-safe sending policy: how fast and how much
// each SIM may send, and when bulk sends rest. Operators block SIMs that
// send like spammers; a conversation must still flow, so only the rate
// limit holds a one-to-one message (its parts take the first free slot),
// while the daily cap and quiet hours hold bulk parts only. A message sent
// with priority 100 or more passes the cap and the quiet hours too.
//
// The zero value limits nothing (tests, a lab bench); the appliance's
// configuration gives conservative defaults (config.Policy).
type SendPolicy struct {
	// Default applies to every modem without an entry in Modems.
	Default ModemPolicy
	// Modems overrides Default per modem, by ID (IMEI); a zero field of
	// an override takes Default's.
	Modems map[string]ModemPolicy
	// Location is the appliance's time zone for quiet hours and the day
	// of the daily cap (default time.Local).
	Location *time.Location
}

// ModemPolicy is the policy of one SIM.
type ModemPolicy struct {
	// RatePerMinute is the most parts the SIM sends in a minute, spaced
	// evenly (0: no limit).
	RatePerMinute float64
	// DailyCap is the most bulk parts the SIM sends in a (local) day
	// (0: no cap).
	DailyCap int
	// Quiet is the daily window when bulk parts wait (zero: none).
	Quiet QuietHours
}

// QuietHours is a daily window, From inclusive to To exclusive, as offsets
// from local midnight; To before From wraps past midnight (21:00-08:00).
type QuietHours struct {
	From, To time.Duration
}

// IsZero reports whether there is no window.
func (q QuietHours) IsZero() bool { return q.From == q.To }

// ParseQuietHours reads "21:00-08:00" ("" is no window).
func ParseQuietHours(s string) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", s)
	}
	f, err := parseClock(from)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	t, err := parseClock(to)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	return QuietHours{From: f, To: t}, nil
}

func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// String writes what ParseQuietHours reads.
func (q QuietHours) String() string {
	if q.IsZero() {
		return ""
	}
	c := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return c(q.From) + "-" + c(q.To)
}

// In reports whether t falls in the window and, when it does, when the
// window ends (in t's location).
func (q QuietHours) In(t time.Time) (bool, time.Time) {
	if q.IsZero() {
		return false, time.Time{}
	}
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	at := func(day time.Time, off time.Duration) time.Time {
		// Add the clock time to the date, not a duration to midnight, so
		// that a DST change that day does not shift the window.
		return time.Date(day.Year(), day.Month(), day.Day(), int(off/time.Hour), int(off%time.Hour/time.Minute), 0, 0, day.Location())
	}
	// The clock reading, not t.Sub(midnight): on a DST change day the two
	// differ by an hour.
	h, m, sec := t.Clock()
	since := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())
	if q.From < q.To {
		if since >= q.From && since < q.To {
			return true, at(midnight, q.To)
		}
		return false, time.Time{}
	}
	// Wrapping window: [From, 24h) of today or [0, To) of today.
	switch {
	case since >= q.From:
		return true, at(midnight.AddDate(0, 0, 1), q.To)
	case since < q.To:
		return true, at(midnight, q.To)
	}
	return false, time.Time{}
}

func (p SendPolicy) isZero() bool {
	return p.Default == (ModemPolicy{}) && len(p.Modems) == 0 && p.Location == nil
}

// For is the policy of modem id.
func (p SendPolicy) For(id string) ModemPolicy {
	mp := p.Default
	if o, ok := p.Modems[id]; ok {
		if o.RatePerMinute > 0 {
			mp.RatePerMinute = o.RatePerMinute
		}
		if o.DailyCap > 0 {
			mp.DailyCap = o.DailyCap
		}
		if !o.Quiet.IsZero() {
			mp.Quiet = o.Quiet
		}
	}
	return mp
}

func (p SendPolicy) loc() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return time.Local
}

// Day is the local date a send at t counts towards for the daily cap.
func (p SendPolicy) Day(t time.Time) string { return t.In(p.loc()).Format("2006-01-02") }

// interval is the least time between two parts on a SIM (0: none).
func (mp ModemPolicy) interval() time.Duration {
	if mp.RatePerMinute <= 0 {
		return 0
	}
	return time.Duration(float64(time.Minute) / mp.RatePerMinute)
}

// Estimate is how long a number of parts takes to send.
type Estimate struct {
	Parts  int
	Modems int
	// Duration is the estimated time from now until the last part is
	// handed to the network.
	Duration time.Duration
	// PerMinute is the combined sending rate assumed.
	PerMinute float64
	// QuietWaits is the time spent waiting for quiet hours to end, and
	// CapWaits the time waiting for daily caps to reset (both included in
	// Duration).
	QuietWaits, CapWaits time.Duration
}

// UnlimitedPerMinute is the rate a SIM is assumed to reach without a rate
// limit: about 2 s per AT+CMGS on a real network.
const UnlimitedPerMinute = 30

// EstimateSend estimates how long parts bulk parts take on the modems (by
// ID) from now, under the policy: each SIM at the lower of its rate limit
// and UnlimitedPerMinute, none during quiet hours, each stopping at its
// daily cap until the next local midnight (sentToday: parts each already
// sent today). It simulates minute by minute, so quiet hours and caps that
// fall inside the send are counted; it gives up after 60 days.
func (p SendPolicy) EstimateSend(parts int, modems []string, sentToday map[string]int, now time.Time) Estimate {
	e := Estimate{Parts: parts, Modems: len(modems)}
	if parts <= 0 || len(modems) == 0 {
		return e
	}
	type sim struct {
		mp     ModemPolicy
		rate   float64
		credit float64
		today  int
	}
	sims := make([]*sim, len(modems))
	for i, id := range modems {
		mp := p.For(id)
		rate := float64(UnlimitedPerMinute)
		if mp.RatePerMinute > 0 {
			rate = math.Min(rate, mp.RatePerMinute)
		}
		e.PerMinute += rate
		sims[i] = &sim{mp: mp, rate: rate, today: sentToday[id]}
	}
	t := now.In(p.loc())
	day := p.Day(t)
	left := parts
	const step = time.Minute
	for elapsed := time.Duration(0); elapsed < 60*24*time.Hour; elapsed += step {
		cur := t.Add(elapsed)
		if d := p.Day(cur); d != day {
			day = d
			for _, s := range sims {
				s.today = 0
			}
		}
		anyQuiet, anyCapped, sent := false, false, 0
		for _, s := range sims {
			if q, _ := s.mp.Quiet.In(cur); q {
				anyQuiet = true
				continue
			}
			if s.mp.DailyCap > 0 && s.today >= s.mp.DailyCap {
				anyCapped = true
				continue
			}
			s.credit += s.rate
			n := int(s.credit)
			if s.mp.DailyCap > 0 {
				n = min(n, s.mp.DailyCap-s.today)
			}
			n = min(n, left-sent)
			s.credit -= float64(n)
			s.today += n
			sent += n
		}
		left -= sent
		if sent == 0 {
			switch {
			case anyQuiet:
				e.QuietWaits += step
			case anyCapped:
				e.CapWaits += step
			}
		}
		if left <= 0 {
			e.Duration = elapsed + step
			return e
		}
	}
	e.Duration = 60 * 24 * time.Hour
	return e
}
