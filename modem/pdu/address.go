package pdu

import (
	"fmt"
	"strings"
)

// TON is the type of number of an address (TS 23.040 §9.1.2.5), bits 6..4
// of the type-of-address octet.
type TON byte

// The types of number.
const (
	TONUnknown       TON = 0
	TONInternational TON = 1
	TONNational      TON = 2
	TONNetwork       TON = 3
	TONSubscriber    TON = 4
	TONAlphanumeric  TON = 5
	TONAbbreviated   TON = 6
	TONReserved      TON = 7
)

func (t TON) String() string {
	switch t {
	case TONUnknown:
		return "unknown"
	case TONInternational:
		return "international"
	case TONNational:
		return "national"
	case TONNetwork:
		return "network"
	case TONSubscriber:
		return "subscriber"
	case TONAlphanumeric:
		return "alphanumeric"
	case TONAbbreviated:
		return "abbreviated"
	}
	return "reserved"
}

// NPI is the numbering plan identification, bits 3..0 of the
// type-of-address octet.
type NPI byte

// The numbering plans.
const (
	NPIUnknown  NPI = 0
	NPIISDN     NPI = 1 // E.164
	NPIData     NPI = 3 // X.121
	NPITelex    NPI = 4
	NPISCSpec1  NPI = 5
	NPISCSpec2  NPI = 6
	NPINational NPI = 8
	NPIPrivate  NPI = 9
	NPIERMES    NPI = 10
)

// Address is a TP-OA, TP-DA, TP-RA or SMSC address.
type Address struct {
	TON TON
	NPI NPI
	// Digits holds the digits of a numeric address (without "+"; '*', '#',
	// 'a', 'b', 'c' stand for the semi-octets 0xA..0xE) or the text of an
	// alphanumeric one.
	Digits string
}

// ParseAddress reads a number as a person or an API writes it: "+4477..."
// is international/ISDN, other digits (with '*', '#') unknown/ISDN, anything
// with a letter alphanumeric (at most 11 GSM characters). Spaces, dashes,
// dots and parentheses between digits are ignored; an empty string is the
// zero Address.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, nil
	}
	intl := false
	rest := s
	// "00..." stays as dialled (unknown TON): whether 00 is the
	// international prefix depends on the country, which is the gateway's
	// business (it normalises to E.164 with its default country).
	if strings.HasPrefix(rest, "+") {
		intl = true
		rest = rest[1:]
	}
	digits := make([]byte, 0, len(rest))
	alpha := false
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c >= '0' && c <= '9', c == '*', c == '#':
			digits = append(digits, c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			alpha = true
		}
	}
	if alpha {
		if intl {
			return Address{}, fmt.Errorf("pdu: address %q: not a number", s)
		}
		if n, ok := gsm7Len(s); !ok {
			return Address{}, fmt.Errorf("pdu: alphanumeric address %q has characters outside the GSM 7-bit alphabet", s)
		} else if n > 11 {
			return Address{}, fmt.Errorf("pdu: alphanumeric address %q is longer than 11 septets", s)
		}
		return Address{TON: TONAlphanumeric, NPI: NPIUnknown, Digits: s}, nil
	}
	if len(digits) == 0 {
		return Address{}, fmt.Errorf("pdu: address %q has no digits", s)
	}
	if len(digits) > 20 {
		return Address{}, fmt.Errorf("pdu: address %q has more than 20 digits", s)
	}
	a := Address{TON: TONUnknown, NPI: NPIISDN, Digits: string(digits)}
	if intl {
		a.TON = TONInternational
	}
	return a, nil
}

// String gives the E.164 form "+digits" for an international number, the
// text of an alphanumeric address, and the digits otherwise.
func (a Address) String() string {
	if a.TON == TONInternational && a.Digits != "" {
		return "+" + a.Digits
	}
	return a.Digits
}

// IsZero reports whether a is the empty address.
func (a Address) IsZero() bool { return a == Address{} }

// toa is the type-of-address octet.
func (a Address) toa() byte { return 0x80 | byte(a.TON&7)<<4 | byte(a.NPI&15) }
