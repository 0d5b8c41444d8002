package gateway

import (
	"testing"
	"time"
)

func TestParseQuietHours(t *testing.T) {
	cases := []struct {
		in   string
		want QuietHours
		err  bool
	}{
		{"", QuietHours{}, false},
		{"21:00-08:00", QuietHours{21 * time.Hour, 8 * time.Hour}, false},
		{" 12:30 - 13:45 ", QuietHours{12*time.Hour + 30*time.Minute, 13*time.Hour + 45*time.Minute}, false},
		{"21:00", QuietHours{}, true},
		{"25:00-08:00", QuietHours{}, true},
		{"21:60-08:00", QuietHours{}, true},
		{"9pm-8am", QuietHours{}, true},
	}
	for _, tc := range cases {
		got, err := ParseQuietHours(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseQuietHours(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil && tc.in != "" {
			if again, _ := ParseQuietHours(got.String()); again != got {
				t.Errorf("%q does not round-trip through String (%q)", tc.in, got.String())
			}
		}
	}
}

func TestQuietHoursIn(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	night := QuietHours{21 * time.Hour, 8 * time.Hour}
	lunch := QuietHours{12 * time.Hour, 13 * time.Hour}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		q    QuietHours
		t    string
		in   bool
		ends string
	}{
		{night, "2026-03-10 22:30", true, "2026-03-11 08:00"},
		{night, "2026-03-10 07:59", true, "2026-03-10 08:00"},
		{night, "2026-03-10 08:00", false, ""},
		{night, "2026-03-10 20:59", false, ""},
		{night, "2026-03-10 21:00", true, "2026-03-11 08:00"},
		// The clocks go forward on 29 March 2026 at 01:00: the window still
		// ends at 08:00 on the wall clock.
		{night, "2026-03-28 23:00", true, "2026-03-29 08:00"},
		{lunch, "2026-03-10 12:15", true, "2026-03-10 13:00"},
		{lunch, "2026-03-10 13:00", false, ""},
		{QuietHours{}, "2026-03-10 12:15", false, ""},
	}
	for _, tc := range cases {
		in, end := tc.q.In(at(tc.t))
		if in != tc.in || (tc.in && !end.Equal(at(tc.ends))) {
			t.Errorf("%s at %s: in %v until %v; want %v until %s", tc.q, tc.t, in, end, tc.in, tc.ends)
		}
	}
}

func TestPolicyForMergesOverrides(t *testing.T) {
	p := SendPolicy{Default: ModemPolicy{RatePerMinute: 10, DailyCap: 500, Quiet: QuietHours{21 * time.Hour, 8 * time.Hour}},
		Modems: map[string]ModemPolicy{"imei2": {RatePerMinute: 4}}}
	if got := p.For("imei1"); got != p.Default {
		t.Errorf("modem without override: %+v", got)
	}
	got := p.For("imei2")
	if got.RatePerMinute != 4 || got.DailyCap != 500 || got.Quiet != p.Default.Quiet {
		t.Errorf("override: %+v; want rate 4 and the rest from the default", got)
	}
}

func TestEstimateSend(t *testing.T) {
	utc := time.UTC
	noon := time.Date(2026, 3, 10, 12, 0, 0, 0, utc)
	cases := []struct {
		name   string
		p      SendPolicy
		parts  int
		modems []string
		now    time.Time
		want   time.Duration
		quiet  bool
		capped bool
	}{
		{"no limits, two SIMs at 30/min", SendPolicy{Location: utc}, 600, []string{"a", "b"}, noon, 10 * time.Minute, false, false},
		{"rate 10/min, one SIM", SendPolicy{Default: ModemPolicy{RatePerMinute: 10}, Location: utc}, 100, []string{"a"}, noon, 10 * time.Minute, false, false},
		{"per-modem rate", SendPolicy{Default: ModemPolicy{RatePerMinute: 10}, Modems: map[string]ModemPolicy{"b": {RatePerMinute: 5}}, Location: utc}, 150, []string{"a", "b"}, noon, 10 * time.Minute, false, false},
		{"quiet hours wait", SendPolicy{Default: ModemPolicy{RatePerMinute: 10, Quiet: QuietHours{12 * time.Hour, 13 * time.Hour}}, Location: utc}, 10, []string{"a"}, noon, 61 * time.Minute, true, false},
		{"daily cap to tomorrow", SendPolicy{Default: ModemPolicy{RatePerMinute: 10, DailyCap: 10}, Location: utc}, 20, []string{"a"}, time.Date(2026, 3, 10, 23, 0, 0, 0, utc), 61 * time.Minute, false, true},
	}
	for _, tc := range cases {
		e := tc.p.EstimateSend(tc.parts, tc.modems, nil, tc.now)
		if e.Duration != tc.want || (e.QuietWaits > 0) != tc.quiet || (e.CapWaits > 0) != tc.capped {
			t.Errorf("%s: %+v; want %v (quiet %v, capped %v)", tc.name, e, tc.want, tc.quiet, tc.capped)
		}
	}
	if e := (SendPolicy{}).EstimateSend(10, nil, nil, noon); e.Duration != 0 {
		t.Errorf("no modem: %+v", e)
	}
}
