package pdu

import (
	"time"
)

// ValidityFormat is TP-VPF (TS 23.040 §9.2.3.3); the values are the two
// bits as they sit at bits 4..3 of a SUBMIT's first octet.
type ValidityFormat int

// The four validity period formats.
const (
	ValidityNone     ValidityFormat = 0
	ValidityEnhanced ValidityFormat = 1
	ValidityRelative ValidityFormat = 2
	ValidityAbsolute ValidityFormat = 3
)

// Validity is TP-VP of an SMS-SUBMIT.
type Validity struct {
	Format ValidityFormat
	// Relative is the period for ValidityRelative (rounded up to the next
	// period the octet can express when encoding), and the decoded period
	// of an enhanced validity that states one.
	Relative time.Duration
	// Absolute is the expiry for ValidityAbsolute, with its zone.
	Absolute time.Time
	// Enhanced holds the seven octets of ValidityEnhanced as they are.
	Enhanced [7]byte
}

// DecodeOptions says how to read a PDU.
type DecodeOptions struct {
	// Direction picks the meaning of the message type indicator.
	Direction Direction
	// SMSC: the octets start with the SMSC address (AT+CMGR, AT+CMGL, +CMT
	// in PDU mode); false for a bare TPDU.
	SMSC bool
	// Strict fails on what lenient mode (the default) tolerates with a
	// warning: trailing octets or hex garbage, user data shorter than
	// declared, a broken user data header, a mismatched declared Length,
	// an impossible time stamp, an address longer than 20 digits.
	Strict bool
	// Length, when not 0, is the TPDU length the modem declared (the
	// <length> of +CMGR, +CMGL, +CMT). A mismatch is a warning in lenient
	// mode (V18: a modem said 29 for 27 octets) and an error in strict.
	Length int
}

// NationalMode says whether segmentation may use national language shift
// tables.
type NationalMode struct {
	// Auto tries every language and keeps the one that needs the fewest
	// parts (ties go to the default alphabet).
	Auto bool
	// Language, when not LanguageDefault and Auto is false, tries that
	// language's tables (single shift alone, locking shift alone, both) and
	// uses them when they need fewer parts than the default alphabet, or
	// when the default alphabet cannot write the text at all.
	Language Language
}

// ParseNationalMode reads "none", "auto" or a language name or number.
func ParseNationalMode(s string) (NationalMode, error) {
	switch s {
	case "", "none", "default":
		return NationalMode{}, nil
	case "auto":
		return NationalMode{Auto: true}, nil
	}
	l, err := ParseLanguage(s)
	if err != nil {
		return NationalMode{}, err
	}
	return NationalMode{Language: l}, nil
}

func (n NationalMode) String() string {
	switch {
	case n.Auto:
		return "auto"
	case n.Language == LanguageDefault:
		return "none"
	}
	return n.Language.String()
}

// SegmentOptions tunes segmentation and counting.
type SegmentOptions struct {
	// Encoding forces an encoding; the zero value (Auto) picks the cheapest.
	Encoding SegmentEncoding
	National NationalMode
	// Ref16 uses 16-bit concatenation references (one more octet of header
	// per part).
	Ref16 bool
	// Extra holds header elements to put in every part (counted in every
	// part), e.g. port addressing.
	Extra UDH
}

// SegmentEncoding is the encoding a caller asks for; SegmentAuto picks.
type SegmentEncoding int

// Choices for SegmentOptions.Encoding.
const (
	SegmentAuto SegmentEncoding = iota
	SegmentGSM7
	SegmentUCS2
)

// Forcing is a character that cannot be written in GSM 7-bit (with the
// chosen tables) and so forces UCS-2.
type Forcing struct {
	Char string
	// Index is the position in characters (code points) in the text.
	Index int
}

// Count is what the counter shows for a text.
type Count struct {
	Encoding        Encoding
	Locking, Single Language
	// Characters is the number of code points.
	Characters int
	// Units is the number of septets (gsm7) or UTF-16 code units (ucs2)
	// the text needs, escapes and surrogates counted.
	Units int
	Parts int
	// PerPart is the capacity of one part in units, given the header.
	PerPart int
	// Remaining is how many units are left in the last part.
	Remaining      int
	UnicodeForcing []Forcing
}

// SubmitOptions says how to build SMS-SUBMITs.
type SubmitOptions struct {
	To, SMSC     Address
	StatusReport bool
	Validity     Validity
	// Class is the message class 0..3, or -1 (NoClass) for none. Beware:
	// the zero value is class 0, a flash message; callers normally set
	// NoClass.
	Class int
	// Ref is the concatenation reference used when the text needs several
	// parts: its low 8 bits unless Segment.Ref16.
	Ref     uint16
	Segment SegmentOptions
}

// Part is one encoded part of a message.
type Part struct {
	TPDU []byte
	// Text is the piece of the text this part carries.
	Text string
	// Seq is the part's sequence number, 1-based.
	Seq int
	// Hex is the PDU for AT+CMGS: the SMSC prefix (SubmitOptions.SMSC,
	// "00" for the SIM's default) and the TPDU, in hex. The length to give
	// AT+CMGS is len(TPDU).
	Hex string
}

// DeliverOptions says how to build SMS-DELIVERs (for the virtual modem).
type DeliverOptions struct {
	From Address
	SCTS time.Time
	// Class is the message class 0..3, or -1 for none.
	Class        int
	StatusReport bool
	MoreMessages bool
	Ref          uint16
	Segment      SegmentOptions
	// Data, when not nil, sends these octets as 8-bit data instead of the
	// text (segmented at 140 octets minus headers); Ports adds port
	// addressing to every part.
	Data  []byte
	Ports *Ports
}

// StatusReportOptions describes an SMS-STATUS-REPORT.
type StatusReportOptions struct {
	MR        int
	Recipient Address
	SCTS      time.Time
	Discharge time.Time
	Status    byte
}
