package pdu

import (
	"fmt"
	"time"
)

// maxQuarters bounds a time zone: ±79 quarter hours is what the two
// semi-octets can hold (real zones stay within ±14 hours).
const maxQuarters = 79

// zones holds one fixed zone per quarter hour offset, built once and never
// written after, so that decoding a time stamp allocates no location.
var zones = func() (z [2*maxQuarters + 1]*time.Location) {
	for q := -maxQuarters; q <= maxQuarters; q++ {
		if q == 0 {
			z[q+maxQuarters] = time.UTC
			continue
		}
		z[q+maxQuarters] = time.FixedZone("", q*15*60)
	}
	return z
}()

// decodeTime reads a 7-octet service centre time stamp (TS 23.040
// §9.2.3.11): semi-octet swapped YYMMDDhhmmss and a zone in quarter hours
// whose sign is bit 3 of the first semi-octet.
func decodeTime(b []byte) (time.Time, error) {
	var v [6]int
	for i := 0; i < 6; i++ {
		lo, hi := b[i]&0x0F, b[i]>>4
		if lo > 9 || hi > 9 {
			return time.Time{}, fmt.Errorf("%w: semi-octets %02X are not decimal", ErrInvalid, b[i])
		}
		v[i] = int(lo)*10 + int(hi)
	}
	tz := b[6]
	tens, units := tz&0x07, tz>>4
	if units > 9 {
		return time.Time{}, fmt.Errorf("%w: time zone octet %02X", ErrInvalid, tz)
	}
	q := int(tens)*10 + int(units)
	if q > maxQuarters {
		return time.Time{}, fmt.Errorf("%w: time zone %d quarter hours", ErrInvalid, q)
	}
	if tz&0x08 != 0 {
		q = -q
	}
	// Two digits of year: always this century. No SMS was ever stamped in
	// the 1990s by equipment still in service, and libGammu's encoder also
	// writes 2000+YY (its decoder maps 90..99 oddly).
	year := 2000 + v[0]
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, fmt.Errorf("%w: date %02d-%02d-%02d %02d:%02d:%02d", ErrInvalid, v[0], v[1], v[2], v[3], v[4], v[5])
	}
	t := time.Date(year, time.Month(v[1]), v[2], v[3], v[4], v[5], 0, zones[q+maxQuarters])
	if t.Day() != v[2] {
		// time.Date would quietly turn 31 February into 3 March.
		return time.Time{}, fmt.Errorf("%w: date %02d-%02d-%02d does not exist", ErrInvalid, v[0], v[1], v[2])
	}
	return t, nil
}

// appendTime writes t as a time stamp in t's own zone. The format holds
// whole quarter hours up to ±79; a zone it cannot hold (a historical local
// mean time such as +00:19:32) is replaced by the quarter-hour zone toward
// UTC, and the wall clock moved with it, so the instant stays the same.
func appendTime(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	q := max(-maxQuarters, min(maxQuarters, off/(15*60)))
	if q*15*60 != off {
		t = t.In(zones[q+maxQuarters])
	}
	var sign byte
	if q < 0 {
		q, sign = -q, 0x08
	}
	y := t.Year() % 100
	for _, n := range [6]int{y, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		dst = append(dst, byte(n/10)|byte(n%10)<<4)
	}
	return append(dst, byte(q/10)|sign|byte(q%10)<<4)
}

// relativeVP converts a TP-VP relative octet to its period (TS 23.040
// §9.2.3.12.1).
func relativeVP(o byte) time.Duration {
	n := time.Duration(o)
	switch {
	case o <= 143:
		return (n + 1) * 5 * time.Minute
	case o <= 167:
		return 12*time.Hour + (n-143)*30*time.Minute
	case o <= 196:
		return (n - 166) * 24 * time.Hour
	}
	return (n - 192) * 7 * 24 * time.Hour
}

// relativeOctet is the smallest TP-VP octet whose period is at least d
// (the longest, 63 weeks, when d is longer still).
func relativeOctet(d time.Duration) byte {
	switch {
	case d <= 0:
		return 0
	case d <= 12*time.Hour:
		return byte((d+5*time.Minute-1)/(5*time.Minute) - 1)
	case d <= 24*time.Hour:
		return byte(143 + (d-12*time.Hour+30*time.Minute-1)/(30*time.Minute))
	case d <= 30*24*time.Hour:
		return byte(166 + (d+24*time.Hour-1)/(24*time.Hour))
	case d <= 63*7*24*time.Hour:
		return byte(192 + (d+7*24*time.Hour-1)/(7*24*time.Hour))
	}
	return 255
}

// RelativeOctet is the TP-VP octet a relative validity encodes to.
func (v Validity) RelativeOctet() byte { return relativeOctet(v.Relative) }

// decodeEnhanced reads the period an enhanced validity states (TS 23.040
// §9.2.3.12.3), and whether it is single-shot. The functionality indicator
// may be extended by further octets (bit 7 chains them; none is defined
// yet); the period follows the last of them.
func decodeEnhanced(e [7]byte) (d time.Duration, singleShot bool, ok bool) {
	singleShot = e[0]&0x40 != 0
	at := 1
	for i := 0; e[i]&0x80 != 0; i++ {
		if at++; at >= len(e) {
			return 0, singleShot, false
		}
	}
	p := e[at:]
	switch e[0] & 0x07 {
	case 0:
		return 0, singleShot, true
	case 1:
		return relativeVP(p[0]), singleShot, true
	case 2:
		return time.Duration(p[0]) * time.Second, singleShot, true
	case 3:
		if len(p) < 3 {
			return 0, singleShot, false
		}
		var v [3]int
		for i := 0; i < 3; i++ {
			lo, hi := p[i]&0x0F, p[i]>>4
			if lo > 9 || hi > 9 {
				return 0, singleShot, false
			}
			v[i] = int(lo)*10 + int(hi)
		}
		return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second, singleShot, true
	}
	return 0, singleShot, false
}

// EnhancedValidity builds an enhanced validity period (TS 23.040
// §9.2.3.12.3) for d: whole seconds up to 255 s, hours, minutes and seconds
// up to 99:59:59, beyond that the relative octet (rounded up as Relative
// is); 0 states no period. singleShot asks the SC for a single delivery
// attempt, the one thing only this format can say.
func EnhancedValidity(d time.Duration, singleShot bool) Validity {
	v := Validity{Format: ValidityEnhanced}
	if singleShot {
		v.Enhanced[0] = 0x40
	}
	secs := (d + time.Second - 1) / time.Second
	switch {
	case d <= 0:
	case secs <= 255:
		v.Enhanced[0] |= 2
		v.Enhanced[1] = byte(secs)
	case secs < 100*3600:
		v.Enhanced[0] |= 3
		for i, n := range [3]int64{int64(secs / 3600), int64(secs / 60 % 60), int64(secs % 60)} {
			v.Enhanced[1+i] = byte(n/10) | byte(n%10)<<4
		}
	default:
		v.Enhanced[0] |= 1
		v.Enhanced[1] = relativeOctet(d)
	}
	v.Relative, _, _ = decodeEnhanced(v.Enhanced)
	return v
}

// String describes the validity in words: "none", "4 days",
// "2001-01-01T23:59:59+05:45", "single-shot, 3 seconds".
func (v Validity) String() string {
	switch v.Format {
	case ValidityNone:
		return "none"
	case ValidityRelative:
		return durationWords(relativeVP(v.RelativeOctet()))
	case ValidityAbsolute:
		return v.Absolute.Format(time.RFC3339)
	case ValidityEnhanced:
		d, single, ok := decodeEnhanced(v.Enhanced)
		s := ""
		if single {
			s = "single-shot, "
		}
		if !ok {
			return s + fmt.Sprintf("enhanced % X", v.Enhanced[:])
		}
		if d == 0 {
			if single {
				return "single-shot"
			}
			return "no period"
		}
		return s + durationWords(d)
	}
	return fmt.Sprintf("validity(%d)", int(v.Format))
}

func durationWords(d time.Duration) string {
	unit := func(n int64, name string) string {
		if n == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", n, name)
	}
	switch {
	case d%(7*24*time.Hour) == 0 && d >= 5*7*24*time.Hour:
		return unit(int64(d/(7*24*time.Hour)), "week")
	case d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}
