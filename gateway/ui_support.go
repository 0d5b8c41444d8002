package gateway

import (
	"context"

	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/nyaruka/phonenumbers"
)

// What the staff web UI needs from the core beyond the API's calls: the
// visibility gate for live events, the counter in plain values, and a
// recipient check that tells an impossible number from an unknown range.

// CanView applies the visibility rules to one message for viewer (false
// for an unknown or disabled viewer). The UI's event stream asks it before
// showing a status change, so it shows exactly what Thread would.
func (s *Service) CanView(ctx context.Context, viewer store.ID, m *store.Message) bool {
	ok := false
	_ = s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err == nil {
			ok = canSee(tx, u, m)
		}
		return nil
	})
	return ok
}

// TextCount is the counter of a text: what Send would store and send.
type TextCount struct {
	Characters int
	// Units are septets (gsm7) or UTF-16 code units (ucs2).
	Units     int
	Parts     int
	PerPart   int
	Remaining int
	// Encoding is "gsm7" or "ucs2".
	Encoding string
	// Forcing lists the characters that force UCS-2, with their position
	// in characters (code points).
	Forcing []ForcingChar
	// MaxParts is the most parts one Send accepts.
	MaxParts int
}

// ForcingChar is one character that forces UCS-2.
type ForcingChar struct {
	Char  string
	Index int
}

// Count is CountText in plain values.
func (s *Service) Count(text string) TextCount {
	c := s.CountText(text)
	tc := TextCount{Characters: c.Characters, Units: c.Units, Parts: c.Parts, PerPart: c.PerPart,
		Remaining: c.Remaining, Encoding: c.Encoding.String(), MaxParts: s.opt.MaxParts}
	for _, f := range c.UnicodeForcing {
		tc.Forcing = append(tc.Forcing, ForcingChar{Char: f.Char, Index: f.Index})
	}
	return tc
}

// NumberCheck is what CheckNumber found.
type NumberCheck struct {
	// E164 is the normalised number ("" when impossible).
	E164 string
	// Problem says why the number is impossible ("" when it is fine).
	Problem string
	// UnknownRange is set for a number of possible length whose range the
	// numbering metadata does not know (Ofcom's drama numbers): Send
	// refuses it today.
	UnknownRange bool
}

// CheckNumber reads a number as typed, with the default country.
func (s *Service) CheckNumber(raw string) NumberCheck {
	n, err := s.NormalizeNumber(raw)
	if err == nil {
		return NumberCheck{E164: n}
	}
	nc := NumberCheck{Problem: err.Error()}
	region := s.opt.DefaultCountry
	if region == "" {
		region = "ZZ"
	}
	in := raw
	if len(in) > 2 && in[:2] == "00" {
		in = "+" + in[2:]
	}
	if num, perr := phonenumbers.Parse(in, region); perr == nil && phonenumbers.IsPossibleNumber(num) {
		nc.E164 = phonenumbers.Format(num, phonenumbers.E164)
		nc.UnknownRange = true
	}
	return nc
}
