package gateway

// What the staff web UI needs from the core beyond the API's calls: a
// recipient check as the user types, which tells an impossible number from
// an unknown range with the same rule as Send.

// NumberCheck is what CheckNumber found.
type NumberCheck struct {
	// Number is the normalised number: E.164, or a national short code
	// ("" when the number cannot be used).
	Number string
	// Problem says why the number cannot be used ("" when it can).
	Problem string
	// UnknownRange is set for a number of possible length whose range the
	// numbering metadata does not know (Ofcom's drama numbers): Send
	// accepts it with the warning CodeUnknownNumberRange.
	UnknownRange bool
}

// CheckNumber reads an outbound number as typed, as Send will.
func (s *Service) CheckNumber(raw string) NumberCheck {
	n, warning, err := s.recipient(raw)
	if err != nil {
		return NumberCheck{Problem: err.Error()}
	}
	return NumberCheck{Number: n, UnknownRange: warning == CodeUnknownNumberRange}
}
