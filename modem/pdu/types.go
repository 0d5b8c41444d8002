package pdu

import (
	"fmt"
	"strings"
	"time"
)

// Direction says which way a TPDU travels. The message type indicator bits
// mean different things in each direction (TS 23.040 §9.2.3.1), so the
// direction must be known to decode: what a modem reads from its storage or
// receives (+CMT, +CDS, +CMGR) is MT; what it sends (+CMGS) is MO.
type Direction int

const (
	// MT is SC→MS: SMS-DELIVER, SMS-STATUS-REPORT, SMS-SUBMIT-REPORT.
	MT Direction = iota
	// MO is MS→SC: SMS-SUBMIT, SMS-DELIVER-REPORT, SMS-COMMAND.
	MO
)

func (d Direction) String() string {
	switch d {
	case MT:
		return "MT"
	case MO:
		return "MO"
	}
	return fmt.Sprintf("direction(%d)", int(d))
}

// DirectionForStat gives the direction of a PDU listed by AT+CMGL or read
// by AT+CMGR in PDU mode from its <stat> (TS 27.005 §3.1): 0 and 1 are
// received messages (MT), 2 and 3 stored outgoing ones (MO), 4 (all) is
// not a message's state; ok is false for it and unknown values.
func DirectionForStat(stat int) (d Direction, ok bool) {
	switch stat {
	case 0, 1:
		return MT, true
	case 2, 3:
		return MO, true
	}
	return MT, false
}

// Type is the kind of TPDU.
type Type int

// The TPDU types of TS 23.040 §9.2.2.
// The names carry a Type prefix because Submit and Deliver are the builder
// functions.
const (
	TypeDeliver Type = iota
	TypeSubmit
	TypeStatusReport
	TypeSubmitReport
	TypeDeliverReport
	TypeCommand
)

var typeNames = [...]string{"DELIVER", "SUBMIT", "STATUS-REPORT", "SUBMIT-REPORT", "DELIVER-REPORT", "COMMAND"}

func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// Direction is the direction in which a TPDU of type t travels.
func (t Type) Direction() Direction {
	switch t {
	case TypeSubmit, TypeDeliverReport, TypeCommand:
		return MO
	}
	return MT
}

// Encoding is the character set of the user data (TS 23.038 §4).
type Encoding int

// The three alphabets of the data coding scheme.
const (
	GSM7 Encoding = iota
	EightBit
	UCS2
)

func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "gsm7"
	case EightBit:
		return "8bit"
	case UCS2:
		return "ucs2"
	}
	return fmt.Sprintf("encoding(%d)", int(e))
}

// ParseEncoding accepts the names String prints (and a few common spellings:
// "7bit", "gsm", "8-bit", "binary", "ucs-2", "utf-16").
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "gsm7", "gsm", "7bit", "7-bit", "gsm-7":
		return GSM7, nil
	case "8bit", "8-bit", "binary", "data":
		return EightBit, nil
	case "ucs2", "ucs-2", "utf16", "utf-16", "unicode":
		return UCS2, nil
	}
	return 0, fmt.Errorf("pdu: unknown encoding %q (want gsm7, 8bit or ucs2)", s)
}

// Message is one decoded TPDU (or one to encode). Which fields apply depends
// on Type; the others stay zero.
type Message struct {
	Type      Type
	Direction Direction
	// SMSC is the service centre address from the prefix that AT+CMGR,
	// AT+CMGL and +CMT put before the TPDU (decoded with DecodeOptions.SMSC).
	// Zero when absent or when the prefix was "00" (the SIM's default).
	SMSC Address

	// FirstOctet is the first octet as decoded. Encode ignores it and builds
	// the octet from the flags below.
	FirstOctet byte
	// MoreMessages is TP-MMS inverted to read naturally: true when the SC
	// has more messages waiting (DELIVER, STATUS-REPORT).
	MoreMessages bool
	// LoopPrevention is TP-LP (DELIVER, STATUS-REPORT).
	LoopPrevention bool
	ReplyPath      bool
	// StatusReport is TP-SRR in a SUBMIT or COMMAND, TP-SRI in a DELIVER
	// and TP-SRQ in a STATUS-REPORT.
	StatusReport     bool
	RejectDuplicates bool
	UDHI             bool

	// MR is TP-MR (SUBMIT, STATUS-REPORT, COMMAND).
	MR int
	// Originator is TP-OA (DELIVER), Destination TP-DA (SUBMIT, COMMAND),
	// Recipient TP-RA (STATUS-REPORT).
	Originator, Destination, Recipient Address

	PID byte
	DCS byte
	// Class is the message class 0..3 from the DCS, or -1 for none.
	Class    int
	Encoding Encoding
	// Waiting holds the message waiting indication of DCS groups 1100..1110.
	Waiting *MessageWaiting

	// SCTS is the service centre time stamp (DELIVER, STATUS-REPORT,
	// SUBMIT-REPORT, DELIVER-REPORT's none), Discharge TP-DT (STATUS-REPORT).
	SCTS, Discharge time.Time
	// Status is TP-ST (STATUS-REPORT); see StatusText.
	Status   byte
	Validity Validity

	// FCS is TP-FCS of a SUBMIT-REPORT or DELIVER-REPORT for RP-ERROR, or -1.
	FCS int
	// PI is TP-PI (reports): which optional fields follow.
	PI byte
	// CommandType and MessageNumber are TP-CT and TP-MN (COMMAND).
	CommandType   byte
	MessageNumber int

	UDH UDH
	// Text is the decoded text (gsm7, ucs2); empty for 8-bit data.
	Text string
	// Data is the user data after the header: octets for 8-bit and UCS-2
	// (raw UTF-16BE), unpacked septets for gsm7, the command data of a
	// COMMAND. Encode prefers Data over Text when Data is not nil, so a
	// decoded message re-encodes byte for byte.
	Data []byte
	// SpareBits holds the unused high bits of the last 7-bit user data
	// octet as decoded (shifted down; most phones send zeros, some do not,
	// as V23). Encode writes them back when it encodes Data, so a decoded
	// SUBMIT re-encodes byte for byte.
	SpareBits byte

	// Warnings lists what lenient decoding tolerated.
	Warnings []string
}

// MessageWaiting is the indication carried by DCS coding groups 1100, 1101
// and 1110 (TS 23.038 §4): a voicemail, fax, e-mail or other message waits.
type MessageWaiting struct {
	// Store is false for group 1100 ("discard message"): the text may be
	// shown but need not be stored.
	Store  bool
	Active bool
	// Kind: 0 voicemail, 1 fax, 2 e-mail, 3 other.
	Kind int
}
