package pdu

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		str  string
	}{
		{"+44 7700-900 123", Address{TONInternational, NPIISDN, "447700900123"}, "+447700900123"},
		{"07700900123", Address{TONUnknown, NPIISDN, "07700900123"}, "07700900123"},
		{"*100#", Address{TONUnknown, NPIISDN, "*100#"}, "*100#"},
		{"O2", Address{TONAlphanumeric, NPIUnknown, "O2"}, "O2"},
		{"MyBank", Address{TONAlphanumeric, NPIUnknown, "MyBank"}, "MyBank"},
		{"", Address{}, ""},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseAddress(%q) = %+v %q, %v; want %+v", tt.in, got, got.String(), err, tt.want)
		}
	}
	for _, bad := range []string{"+44abc", "TwelveLetters", "Привет", "+", strings.Repeat("1", 21)} {
		if _, err := ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
}

func TestAddressRoundTrip(t *testing.T) {
	for _, s := range []string{"+447700900123", "12345", "123456", "O2", "Vodafone", "ABCDEFGHIJK", "*#1", "MY_SHOP_", "SHOP_"} {
		a := mustAddr(t, s)
		b, err := appendAddress(nil, a, "da")
		if err != nil {
			t.Fatal(err)
		}
		d := &decoder{b: b, m: &Message{}}
		got, err := d.address(fieldDA)
		if err != nil || got != a {
			t.Errorf("%q: round trip %+v, %v", s, got, err)
		}
	}
}

// TestAlphanumericPadding: an honest length never loses a character; the
// phantom septets of senders that count whole octets are dropped.
func TestAlphanumericPadding(t *testing.T) {
	decode := func(b []byte) string {
		t.Helper()
		d := &decoder{b: b, m: &Message{}}
		a, err := d.address(fieldOA)
		if err != nil || a.TON != TONAlphanumeric {
			t.Fatalf("% X: %+v, %v", b, a, err)
		}
		return a.Digits
	}
	const name = "ABCDEFGHIJ"
	for n := 1; n <= 11; n++ {
		for _, last := range []string{"@", "_", "x"} {
			s := name[:n-1] + last
			// The one shape no length within 20 semi-octets can carry
			// (see appendAlpha): 11 characters ending in '_'. The others
			// that look padded at their honest length (8 ending in '@'; 2,
			// 3, 9, 10 ending in '_') are written in a shape that reads back.
			if last == "_" && n == 11 {
				continue
			}
			b, err := appendAddress(nil, Address{TON: TONAlphanumeric, Digits: s}, "oa")
			if err != nil {
				t.Fatal(err)
			}
			if got := decode(b); got != s {
				t.Errorf("%q: encoded % X, decoded %q", s, b, got)
			}
		}
	}
	// A sender that counts whole octets: "ABCDEFG" in 7 octets, length 14
	// semi-octets, the eighth septet a phantom '@'.
	b, _ := appendAddress(nil, Address{TON: TONAlphanumeric, Digits: "ABCDEFG"}, "oa")
	b[0] = 14
	if got := decode(b); got != "ABCDEFG" {
		t.Errorf("padded 7-character name decoded %q", got)
	}
}

func TestDecodeErrorsNameFieldAndOffset(t *testing.T) {
	tests := []struct {
		name  string
		hex   string
		o     DecodeOptions
		field string
		off   int
		is    error
	}{
		{"empty", "", DecodeOptions{}, "first-octet", 0, ErrUnderflow},
		{"smsc cut", "0791", DecodeOptions{SMSC: true}, "smsc.digits", 2, ErrUnderflow},
		{"oa cut", "040B91", DecodeOptions{}, "oa.digits", 3, ErrUnderflow},
		{"reserved mti", "03", DecodeOptions{}, "first-octet", 0, ErrInvalid},
		{"compressed", "0004812143002062101000000000" + "00", DecodeOptions{}, "dcs", 6, ErrUnsupported},
		{"reserved group", "0004812143008062101000000000" + "00", DecodeOptions{}, "dcs", 6, ErrUnsupported},
		{"ud short strict", "000481214300006210100000000005C8329BFD", DecodeOptions{Strict: true}, "ud", 15, ErrUnderflow},
		{"trailing strict", "000481214300006210100000000001C8FF", DecodeOptions{Strict: true}, "end", 16, ErrTrailing},
		{"udh overrun", "400481214300006210100000000005" + "0800030102", DecodeOptions{Strict: true}, "udh", 15, ErrUnderflow},
		{"submit vp cut", "1100048121430000", DecodeOptions{Direction: MO}, "vp", 8, ErrUnderflow},
		{"bad time strict", "000481214300006213100000000000", DecodeOptions{Strict: true}, "scts", 7, ErrInvalid},
		{"bad hex strict", "00zz", DecodeOptions{Strict: true}, "hex", 1, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeHex(tt.hex, tt.o)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a DecodeError", err)
			}
			if de.Field != tt.field || de.Offset != tt.off || !errors.Is(err, tt.is) {
				t.Errorf("err = %v (field %q offset %d); want field %q offset %d, %v", err, de.Field, de.Offset, tt.field, tt.off, tt.is)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	v1 := "07911614220991F1040B911605935713F200008140806113912304D7F79B0E"
	tests := []struct {
		name string
		hex  string
		o    DecodeOptions
		warn string
	}{
		{"trailing quote", v1 + `"`, DecodeOptions{SMSC: true}, "ignored"},
		{"trailing garbage", v1 + "\r\nOK", DecodeOptions{SMSC: true}, "ignored"},
		{"extra octets", v1 + "FFFF", DecodeOptions{SMSC: true}, "trailing"},
		{"declared length", v1, DecodeOptions{SMSC: true, Length: 25}, "declared TPDU length 25"},
		{"ud short", v1[:len(v1)-2], DecodeOptions{SMSC: true}, "only 3 present"},
		{"odd digit", v1 + "F", DecodeOptions{SMSC: true}, "odd"},
		{"leading quote", `"` + v1 + `"`, DecodeOptions{SMSC: true}, "ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeHex(tt.hex, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix("Woot", m.Text) || m.Text == "" {
				t.Errorf("text %q", m.Text)
			}
			if !strings.Contains(strings.Join(m.Warnings, "; "), tt.warn) {
				t.Errorf("warnings %q, want one with %q", m.Warnings, tt.warn)
			}
			tt.o.Strict = true
			if _, err := DecodeHex(tt.hex, tt.o); err == nil {
				t.Error("strict mode accepted it")
			}
		})
	}
}

func TestDecodeStatusReportBrokenOptional(t *testing.T) {
	// V16 with a TP-PI that promises user data which is not there.
	h := "079194710600400706360d91947106000000f1222061514574402220615145844000" + "04"
	m, err := DecodeHex(h, DecodeOptions{Direction: MT, SMSC: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.MR != 54 || m.Status != 0 || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "optional") {
		t.Errorf("mr %d status %d warnings %q", m.MR, m.Status, m.Warnings)
	}
	// A voicemail DCS before the missing user data is dropped with it.
	h2 := h[:len(h)-2] + "06C8"
	m, err = DecodeHex(h2, DecodeOptions{Direction: MT, SMSC: true})
	if err != nil || m.Waiting != nil || m.DCS != 0 || m.Class != NoClass || len(m.Warnings) != 1 {
		t.Errorf("broken optional part with a DCS: %+v, %v", m, err)
	}
	if _, err := DecodeHex(h, DecodeOptions{Direction: MT, SMSC: true, Strict: true}); err == nil {
		t.Error("strict accepted it")
	}
}

func TestDecodeV18DeclaredLength(t *testing.T) {
	h := "07912658050000F006010D91265817373754F501010161705382010101617083820000"
	m, err := DecodeHex(h, DecodeOptions{Direction: MT, SMSC: true, Length: 29})
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipient.String() != "+6285717373455" || len(m.Warnings) != 1 {
		t.Errorf("recipient %v warnings %q", m.Recipient, m.Warnings)
	}
}

func TestValidityEncodings(t *testing.T) {
	for o := 0; o < 256; o++ {
		if got := relativeOctet(relativeVP(byte(o))); got != byte(o) {
			t.Errorf("octet %d → %v → %d", o, relativeVP(byte(o)), got)
		}
	}
	tests := []struct {
		d    time.Duration
		want byte
	}{
		{time.Minute, 0}, {5 * time.Minute, 0}, {6 * time.Minute, 1}, {12 * time.Hour, 143},
		{13 * time.Hour, 145}, {24 * time.Hour, 167}, {25 * time.Hour, 168}, {7 * 24 * time.Hour, 173},
		{31 * 24 * time.Hour, 197}, {1000 * 24 * time.Hour, 255},
	}
	for _, tt := range tests {
		if got := relativeOctet(tt.d); got != tt.want {
			t.Errorf("relativeOctet(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	// Absolute validity keeps its zone, negative ones included.
	abs := mustTime(t, "2027-12-31T23:45:00-03:30")
	m := &Message{Type: TypeSubmit, Destination: mustAddr(t, "1"), Class: NoClass, Text: "x",
		Validity: Validity{Format: ValidityAbsolute, Absolute: abs}}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b, DecodeOptions{Direction: MO, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if back.Validity.Format != ValidityAbsolute || back.Validity.Absolute.Format(time.RFC3339) != "2027-12-31T23:45:00-03:30" {
		t.Errorf("absolute validity %v", back.Validity.Absolute)
	}
}

func TestStatusReportRoundTrip(t *testing.T) {
	scts := mustTime(t, "2022-02-16T15:54:47+01:00")
	b, err := StatusReportFor(StatusReportOptions{MR: 54, Recipient: mustAddr(t, "+4917600000001"), SCTS: scts, Discharge: scts.Add(time.Second), Status: 0})
	if err != nil {
		t.Fatal(err)
	}
	// V16's TPDU without its empty TP-PI octet (optional when nothing
	// follows).
	want := "06360d91947106000000f1222061514574402220615145844000"
	if got := mustHex(b); got != want {
		t.Errorf("status report\n got %s\nwant %s", got, want)
	}
	m, err := Decode(b, DecodeOptions{Direction: MT, Strict: true})
	if err != nil || m.Type != TypeStatusReport || m.MR != 54 || m.Status != 0 {
		t.Fatalf("%+v %v", m, err)
	}
}

func mustHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestReportsAndCommand(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		dir  Direction
		typ  Type
		fcs  int
	}{
		// SUBMIT-REPORT for RP-ACK: fo, PI 0, SCTS.
		{"submit-report ack", "01" + "00" + "22206151457440", MT, TypeSubmitReport, -1},
		// SUBMIT-REPORT for RP-ERROR: FCS 0xC5 (SC busy).
		{"submit-report error", "01" + "C5" + "00" + "22206151457440", MT, TypeSubmitReport, 0xC5},
		// DELIVER-REPORT with PID and a 7-bit user data of "Hi".
		{"deliver-report", "00" + "05" + "00" + "02" + "C834", MO, TypeDeliverReport, -1},
		// COMMAND: enquiry (CT 0) about MR 5.
		{"command", "02" + "07" + "00" + "00" + "05" + "0491" + "2143" + "00", MO, TypeCommand, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeHex(tt.hex, DecodeOptions{Direction: tt.dir, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.typ || m.FCS != tt.fcs || m.Direction != tt.dir {
				t.Errorf("type %v fcs %d", m.Type, m.FCS)
			}
			if tt.typ == TypeDeliverReport && m.Text != "Hi" {
				t.Errorf("text %q", m.Text)
			}
			if tt.typ == TypeCommand && (m.MessageNumber != 5 || m.Destination.String() != "+1234") {
				t.Errorf("command %+v", m)
			}
		})
	}
}

func TestDCSGroups(t *testing.T) {
	tests := []struct {
		dcs   byte
		enc   Encoding
		class int
		mwi   bool
	}{
		{0x00, GSM7, -1, false}, {0x04, EightBit, -1, false}, {0x08, UCS2, -1, false},
		{0x10, GSM7, 0, false}, {0x19, UCS2, 1, false}, {0x16, EightBit, 2, false},
		{0x48, UCS2, -1, false}, // automatic deletion group
		{0xC8, GSM7, -1, true}, {0xD0, GSM7, -1, true}, {0xE0, UCS2, -1, true},
		{0xF0, GSM7, 0, false}, {0xF5, EightBit, 1, false}, {0xFB, GSM7, 3, false},
	}
	for _, tt := range tests {
		m := &Message{DCS: tt.dcs, Class: -1}
		d := &decoder{m: m}
		if err := d.dcs(0); err != nil {
			t.Errorf("DCS %02X: %v", tt.dcs, err)
			continue
		}
		if m.Encoding != tt.enc || m.Class != tt.class || (m.Waiting != nil) != tt.mwi {
			t.Errorf("DCS %02X: %v class %d waiting %v", tt.dcs, m.Encoding, m.Class, m.Waiting)
		}
	}
	for _, bad := range []byte{0x20, 0x2C, 0x0C, 0x80, 0xB5} {
		m := &Message{DCS: bad}
		if err := (&decoder{m: m}).dcs(0); !errors.Is(err, ErrUnsupported) {
			t.Errorf("DCS %02X: err %v", bad, err)
		}
	}
}

func TestDirectionForStat(t *testing.T) {
	for stat, want := range map[int]Direction{0: MT, 1: MT, 2: MO, 3: MO} {
		if d, ok := DirectionForStat(stat); !ok || d != want {
			t.Errorf("stat %d: %v %v", stat, d, ok)
		}
	}
	if _, ok := DirectionForStat(4); ok {
		t.Error("stat 4 accepted")
	}
}
