package pdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// Tests of this file check the codec against the octets TS 23.040 and
// TS 23.038 prescribe, written out by hand, so that an encoder and a
// decoder that share a mistake cannot pass by agreeing with each other.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTimeStampOctets: semi-octets swapped, the zone in quarter hours with
// its sign in bit 3 of the last octet (TS 23.040 §9.2.3.11).
func TestTimeStampOctets(t *testing.T) {
	tests := []struct{ hex, rfc3339 string }{
		{"99 30 80 21 43 65 3A", "2099-03-08T12:34:56-05:45"},
		{"99 30 80 21 43 65 29", "2099-03-08T12:34:56-03:00"},
		{"22 20 61 51 45 74 40", "2022-02-16T15:54:47+01:00"},
		{"91 50 80 90 42 15 22", "2019-05-08T09:24:51+05:30"},
		{"62 21 13 32 00 00 55", "2026-12-31T23:00:00+13:45"},
		{"10 10 10 00 00 00 00", "2001-01-01T00:00:00Z"},
		{"00 20 92 00 00 00 00", "2000-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		b := unhex(t, tt.hex)
		got, err := decodeTime(b)
		if err != nil || got.Format(time.RFC3339) != tt.rfc3339 {
			t.Errorf("decodeTime(%s) = %v, %v; want %s", tt.hex, got.Format(time.RFC3339), err, tt.rfc3339)
		}
		if out := appendTime(nil, mustTime(t, tt.rfc3339)); !bytes.Equal(out, b) {
			t.Errorf("appendTime(%s) = % X, want % X", tt.rfc3339, out, b)
		}
	}
	// A zone that is not whole quarter hours: the same instant in a zone
	// the format can hold.
	odd := time.Date(2026, 5, 1, 12, 0, 0, 0, time.FixedZone("LMT", 19*60+32))
	back, err := decodeTime(appendTime(nil, odd))
	if err != nil || !back.Equal(odd) || back.Format(time.RFC3339) != "2026-05-01T11:55:28+00:15" {
		t.Errorf("zone +00:19:32 encoded as %v, %v; want the same instant at +00:15", back.Format(time.RFC3339), err)
	}
	// "-0" is UTC; the encoder writes it without the sign.
	if got, err := decodeTime(unhex(t, "22206151457408")); err != nil || got.Location() != time.UTC {
		t.Errorf("zone -0: %v, %v", got, err)
	}
	for _, bad := range []string{
		"22 20 61 51 45 74 A0", // zone units semi-octet 10
		"22 20 61 51 45 7A 40", // seconds semi-octet A
		"22 31 61 51 45 74 40", // month 13
		"22 20 03 51 45 74 40", // 30 February
		"12 11 13 51 45 74 40", // 31 November
		"22 20 61 42 45 74 40", // hour 24
	} {
		if got, err := decodeTime(unhex(t, bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("decodeTime(%s) = %v, %v; want ErrInvalid", bad, got, err)
		}
	}
}

// TestEnhancedValidity: the seven octets of TS 23.040 §9.2.3.12.3 decode to
// their period, and EnhancedValidity writes what they say.
func TestEnhancedValidity(t *testing.T) {
	tests := []struct {
		hex    string
		d      time.Duration
		single bool
		ok     bool
		words  string
	}{
		{"00 00 00 00 00 00 00", 0, false, true, "no period"},
		{"40 00 00 00 00 00 00", 0, true, true, "single-shot"},
		{"01 A7 00 00 00 00 00", 24 * time.Hour, false, true, "1 day"},
		{"41 00 00 00 00 00 00", 5 * time.Minute, true, true, "single-shot, 5 minutes"},
		{"02 2D 00 00 00 00 00", 45 * time.Second, false, true, "45 seconds"},
		{"03 21 43 65 00 00 00", 12*time.Hour + 34*time.Minute + 56*time.Second, false, true, "45296 seconds"},
		// An extension octet: the period starts one octet later.
		{"82 00 2D 00 00 00 00", 45 * time.Second, false, true, "45 seconds"},
		{"07 00 00 00 00 00 00", 0, false, false, "enhanced 07 00 00 00 00 00 00"},
		{"03 2A 00 00 00 00 00", 0, false, false, "enhanced 03 2A 00 00 00 00 00"},
	}
	for _, tt := range tests {
		var e [7]byte
		copy(e[:], unhex(t, tt.hex))
		d, single, ok := decodeEnhanced(e)
		if d != tt.d || single != tt.single || ok != tt.ok {
			t.Errorf("decodeEnhanced(%s) = %v %v %v; want %v %v %v", tt.hex, d, single, ok, tt.d, tt.single, tt.ok)
		}
		if got := (Validity{Format: ValidityEnhanced, Enhanced: e}).String(); got != tt.words {
			t.Errorf("%s: String() = %q, want %q", tt.hex, got, tt.words)
		}
	}
	builds := []struct {
		d      time.Duration
		single bool
		hex    string
	}{
		{0, true, "40 00 00 00 00 00 00"},
		{45 * time.Second, false, "02 2D 00 00 00 00 00"},
		{1500 * time.Millisecond, false, "02 02 00 00 00 00 00"},
		{150 * time.Minute, true, "43 20 03 00 00 00 00"},
		{99*time.Hour + 59*time.Minute + 59*time.Second, false, "03 99 95 95 00 00 00"},
		{200 * time.Hour, false, "01 AF 00 00 00 00 00"},
	}
	for _, b := range builds {
		v := EnhancedValidity(b.d, b.single)
		if got := hex.EncodeToString(v.Enhanced[:]); got != strings.ToLower(strings.ReplaceAll(b.hex, " ", "")) {
			t.Errorf("EnhancedValidity(%v, %v) = %s, want %s", b.d, b.single, got, b.hex)
		}
	}

	// In a SUBMIT: TP-VPF 01 (bits 4..3 of the first octet) and the seven
	// octets after the DCS, in both directions.
	m := &Message{Type: TypeSubmit, Destination: mustAddr(t, "+1234"), Class: NoClass, Text: "Hi",
		Validity: EnhancedValidity(150*time.Minute, true)}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "09 00 04 91 2143 00 00 43 20 03 00 00 00 00 02 C834")
	if !bytes.Equal(b, want) {
		t.Fatalf("enhanced SUBMIT\n got % X\nwant % X", b, want)
	}
	back, err := Decode(b, DecodeOptions{Direction: MO, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if back.Validity.Format != ValidityEnhanced || back.Validity.Relative != 150*time.Minute ||
		back.Validity.String() != "single-shot, 150 minutes" || back.Text != "Hi" {
		t.Errorf("decoded validity %+v %q, text %q", back.Validity, back.Validity.String(), back.Text)
	}
}

// TestValidityFormatsInSubmit: TP-VPF and TP-VP octets of each format.
func TestValidityFormatsInSubmit(t *testing.T) {
	tests := []struct {
		v    Validity
		want string // first octet … VP … UDL
	}{
		{Validity{}, "01 00 04 91 2143 00 00 02"},
		{Validity{Format: ValidityRelative, Relative: 4 * 24 * time.Hour}, "11 00 04 91 2143 00 00 AA 02"},
		{Validity{Format: ValidityAbsolute, Absolute: mustTime(t, "2099-03-08T12:34:56-05:45")}, "19 00 04 91 2143 00 00 99 30 80 21 43 65 3A 02"},
		{EnhancedValidity(45*time.Second, false), "09 00 04 91 2143 00 00 02 2D 00 00 00 00 00 02"},
	}
	for _, tt := range tests {
		m := &Message{Type: TypeSubmit, Destination: mustAddr(t, "+1234"), Class: NoClass, Text: "Hi", Validity: tt.v}
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		want := append(unhex(t, tt.want), 0xC8, 0x34)
		if !bytes.Equal(b, want) {
			t.Errorf("%v\n got % X\nwant % X", tt.v.Format, b, want)
			continue
		}
		back, err := Decode(b, DecodeOptions{Direction: MO, Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if back.Validity.Format != tt.v.Format || back.Validity.String() != tt.v.String() {
			t.Errorf("%v: decoded %+v (%s), want %s", tt.v.Format, back.Validity, back.Validity, tt.v)
		}
	}
}

// TestDCSMessageWaiting: groups 1100 (discard), 1101 (store, 7-bit), 1110
// (store, UCS-2); bit 3 active, bits 1..0 the kind (TS 23.038 §4).
func TestDCSMessageWaiting(t *testing.T) {
	tests := []struct {
		dcs  byte
		enc  Encoding
		want MessageWaiting
	}{
		{0xC8, GSM7, MessageWaiting{Store: false, Active: true, Kind: 0}},
		{0xC0, GSM7, MessageWaiting{Store: false, Active: false, Kind: 0}},
		{0xD2, GSM7, MessageWaiting{Store: true, Active: false, Kind: 2}},
		{0xD9, GSM7, MessageWaiting{Store: true, Active: true, Kind: 1}},
		{0xEB, UCS2, MessageWaiting{Store: true, Active: true, Kind: 3}},
		{0xE4, UCS2, MessageWaiting{Store: true, Active: false, Kind: 0}}, // bit 2 reserved, ignored
	}
	for _, tt := range tests {
		m := &Message{DCS: tt.dcs, Class: NoClass}
		if err := (&decoder{m: m}).dcs(0); err != nil {
			t.Errorf("DCS %02X: %v", tt.dcs, err)
			continue
		}
		if m.Waiting == nil || *m.Waiting != tt.want || m.Encoding != tt.enc || m.Class != NoClass {
			t.Errorf("DCS %02X: waiting %+v encoding %v class %d; want %+v %v no class", tt.dcs, m.Waiting, m.Encoding, m.Class, tt.want, tt.enc)
		}
	}
	// A voicemail indication in a real DELIVER: the text decodes as 7-bit.
	m, err := DecodeHex("00 04 91 2143 00 C8 22206151457440 02 C834", DecodeOptions{Strict: true})
	if err != nil || m.Waiting == nil || !m.Waiting.Active || m.Text != "Hi" {
		t.Fatalf("MWI deliver: %+v, %v", m, err)
	}
}

// TestDCSErrorsNameTheScheme: a compressed or reserved scheme fails with
// ErrUnsupported, at the DCS octet, saying which it is.
func TestDCSErrorsNameTheScheme(t *testing.T) {
	tests := []struct {
		dcs  string
		says string
	}{
		{"20", "DCS 20 says the text is compressed"},
		{"3A", "DCS 3A says the text is compressed"},
		{"6C", "DCS 6C says the text is compressed"},
		{"0C", "DCS 0C names the reserved alphabet 11"},
		{"5F", "DCS 5F names the reserved alphabet 11"},
		{"80", "DCS 80 is in the reserved coding group 1000"},
		{"B5", "DCS B5 is in the reserved coding group 1011"},
	}
	for _, tt := range tests {
		_, err := DecodeHex("00 04 91 2143 00"+tt.dcs+"22206151457440 00", DecodeOptions{})
		var de *DecodeError
		if !errors.As(err, &de) || de.Field != "dcs" || de.Offset != 6 || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("DCS %s: err %v; want dcs at octet 6, %q", tt.dcs, err, tt.says)
		}
		// And the encoder refuses to write it.
		m := &Message{Type: TypeSubmit, Destination: mustAddr(t, "1"), DCS: unhex(t, tt.dcs)[0], Text: "x"}
		if _, err := Encode(m); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Encode with DCS %s: %v", tt.dcs, err)
		}
	}
}

// TestReportsOptionalParameters: SMS-SUBMIT-REPORT, SMS-DELIVER-REPORT,
// SMS-COMMAND and SMS-STATUS-REPORT with and without what TP-PI announces.
func TestReportsOptionalParameters(t *testing.T) {
	scts := "22206151457440"
	tests := []struct {
		name string
		hex  string
		dir  Direction
		typ  Type
		fcs  int
		pid  byte
		dcs  byte
		enc  Encoding
		text string
		data string
		scts bool
	}{
		{"submit-report ack, nothing", "01 00" + scts, MT, TypeSubmitReport, -1, 0, 0, GSM7, "", "", true},
		{"submit-report ack, all", "01 07" + scts + "7F 08 04 00410042", MT, TypeSubmitReport, -1, 0x7F, 0x08, UCS2, "AB", "00410042", true},
		{"submit-report error, pid", "01 C5 01" + scts + "41", MT, TypeSubmitReport, 0xC5, 0x41, 0, GSM7, "", "", true},
		{"submit-report error, ud only", "01 D5 04" + scts + "02 C834", MT, TypeSubmitReport, 0xD5, 0, 0, GSM7, "Hi", "", true},
		{"deliver-report ack, nothing", "00 00", MO, TypeDeliverReport, -1, 0, 0, GSM7, "", "", false},
		{"deliver-report error, nothing", "00 D3 00", MO, TypeDeliverReport, 0xD3, 0, 0, GSM7, "", "", false},
		{"deliver-report, 8-bit data", "00 06 04 03 010203", MO, TypeDeliverReport, -1, 0, 0x04, EightBit, "", "010203", false},
		{"deliver-report, ud without dcs", "00 04 02 C834", MO, TypeDeliverReport, -1, 0, 0, GSM7, "Hi", "", false},
		{"deliver-report error, pi extended", "00 C5 84 00 02 C834", MO, TypeDeliverReport, 0xC5, 0, 0, GSM7, "Hi", "", false},
		{"command, no data", "02 07 00 01 05 04 91 2143 00", MO, TypeCommand, -1, 0, 0, GSM7, "", "", false},
		{"command, data", "22 08 3F 02 05 04 91 2143 03 AABBCC", MO, TypeCommand, -1, 0x3F, 0, GSM7, "", "AABBCC", false},
		{"status-report, no pi", "06 36 04 91 2143" + scts + scts + "00", MT, TypeStatusReport, -1, 0, 0, GSM7, "", "", true},
		{"status-report, empty pi", "06 36 04 91 2143" + scts + scts + "00 00", MT, TypeStatusReport, -1, 0, 0, GSM7, "", "", true},
		{"status-report, dcs and ud", "06 36 04 91 2143" + scts + scts + "00 06 00 02 C834", MT, TypeStatusReport, -1, 0, 0, GSM7, "Hi", "", true},
		{"status-report, all", "06 36 04 91 2143" + scts + scts + "46 07 7F 04 02 ABCD", MT, TypeStatusReport, -1, 0x7F, 0x04, EightBit, "", "ABCD", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeHex(tt.hex, DecodeOptions{Direction: tt.dir, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != tt.typ || m.Direction != tt.dir || m.FCS != tt.fcs || m.PID != tt.pid || m.DCS != tt.dcs || m.Encoding != tt.enc || m.Text != tt.text {
				t.Errorf("got %v %v fcs %d pid %02X dcs %02X %v text %q", m.Type, m.Direction, m.FCS, m.PID, m.DCS, m.Encoding, m.Text)
			}
			if tt.data != "" && !strings.EqualFold(hex.EncodeToString(m.Data), tt.data) {
				t.Errorf("data % X, want %s", m.Data, tt.data)
			}
			if got := m.SCTS.Format(time.RFC3339); tt.scts != (got == "2022-02-16T15:54:47+01:00") {
				t.Errorf("scts %s", got)
			}
			if len(m.Warnings) != 0 {
				t.Errorf("warnings %q", m.Warnings)
			}
		})
	}
	// The command's own fields.
	m, err := DecodeHex("22 08 3F 02 05 04 91 2143 03 AABBCC", DecodeOptions{Direction: MO, Strict: true})
	if err != nil || m.MR != 8 || m.CommandType != 2 || m.MessageNumber != 5 || !m.StatusReport || m.Destination.String() != "+1234" {
		t.Errorf("command %+v, %v", m, err)
	}
	// Cut short where TP-PI promised more: an error at the field.
	for _, tt := range []struct {
		hex   string
		dir   Direction
		field string
	}{
		{"01 07" + scts + "7F", MT, "dcs"},
		{"00 06 04", MO, "udl"},
		{"01 00 222061", MT, "scts"},
		{"02 07 00 01 05 04 91 2143 03 AA", MO, "cd"},
	} {
		_, err := DecodeHex(tt.hex, DecodeOptions{Direction: tt.dir})
		var de *DecodeError
		if !errors.As(err, &de) || de.Field != tt.field || !errors.Is(err, ErrUnderflow) {
			t.Errorf("%s: err %v, want underflow at %s", tt.hex, err, tt.field)
		}
	}
}

// TestUDHUnknownElementsPreserved: elements the codec does not interpret
// come back byte for byte, in their order, when a decoded message is
// encoded again.
func TestUDHUnknownElementsPreserved(t *testing.T) {
	// SUBMIT, 8-bit: UDH of a text formatting element (0x0A), an element
	// no spec defines (0x70), and an empty one (0x71); then DE AD.
	in := unhex(t, "41 00 04 91 2143 00 04 10 0D 0A04 00040000 7003 AABBCC 7100 DEAD")
	m, err := Decode(in, DecodeOptions{Direction: MO, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	want := UDH{{0x0A, []byte{0, 4, 0, 0}}, {0x70, []byte{0xAA, 0xBB, 0xCC}}, {0x71, []byte{}}}
	if len(m.UDH) != len(want) {
		t.Fatalf("udh %+v", m.UDH)
	}
	for i := range want {
		if m.UDH[i].ID != want[i].ID || !bytes.Equal(m.UDH[i].Data, want[i].Data) {
			t.Errorf("element %d = %+v, want %+v", i, m.UDH[i], want[i])
		}
	}
	out, err := Encode(m)
	if err != nil || !bytes.Equal(out, in) {
		t.Errorf("re-encoded\n got % X, %v\nwant % X", out, err, in)
	}
	// The same header before 7-bit text, with its fill bits.
	m = &Message{Type: TypeDeliver, Originator: mustAddr(t, "+1234"), SCTS: mustTime(t, "2026-01-01T00:00:00Z"), Class: NoClass,
		UDH: UDH{want[1], ConcatIE(Concat{Ref: 7, Total: 2, Seq: 1}), want[0], want[2]}, Text: "Hello"}
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b, DecodeOptions{Strict: true})
	if err != nil || back.Text != "Hello" || !bytes.Equal(back.UDH.Bytes(), m.UDH.Bytes()) {
		t.Fatalf("7-bit with unknown elements: %+v, %v", back, err)
	}
	if again, err := Encode(back); err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoded\n got % X, %v\nwant % X", again, err, b)
	}
}

// TestCollectorKey: parts agree on originator, reference width, reference
// and total before they are joined; the same reference number in 8 and 16
// bits, or with another total, or from another sender, is another message.
func TestCollectorKey(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCollector(time.Hour, clk.now)
	part := func(from string, ref uint16, ref16 bool, total, seq int, text string) *Message {
		return &Message{Type: TypeDeliver, Originator: mustAddr(t, from), Class: NoClass, Encoding: EightBit, Data: []byte(text),
			UDH: UDH{ConcatIE(Concat{Ref: ref, Ref16: ref16, Total: total, Seq: seq})}}
	}
	first := []*Message{
		part("+441", 5, false, 2, 1, "a1"),
		part("+441", 5, true, 2, 2, "b2"),
		part("+441", 5, false, 3, 2, "c2"),
		part("+442", 5, false, 2, 2, "d2"),
		part("441", 5, false, 2, 2, "e2"), // national, not the same sender as +441
	}
	for _, m := range first {
		if j, err := c.Add(m); j != nil || err != nil {
			t.Fatalf("%s: joined %+v, %v", m.Text, j, err)
		}
	}
	if c.Pending() != len(first) {
		t.Fatalf("%d pending, want %d", c.Pending(), len(first))
	}
	for _, tt := range []struct {
		m    *Message
		want string
	}{
		{part("+441", 5, false, 2, 2, "a2"), "a1a2"},
		{part("+441", 5, true, 2, 1, "b1"), "b1b2"},
		{part("+442", 5, false, 2, 1, "d1"), "d1d2"},
	} {
		j, err := c.Add(tt.m)
		if err != nil || j == nil || string(j.Data) != tt.want || !j.Complete {
			t.Errorf("joined %+v, %v; want %q", j, err, tt.want)
		}
	}
	if c.Pending() != 2 {
		t.Errorf("%d pending, want 2 (c and e)", c.Pending())
	}
}

// TestJoinSubmitsByDestination: SUBMITs carry no originator; parts sent
// to two people under the same reference are two messages.
func TestJoinSubmitsByDestination(t *testing.T) {
	text := strings.Repeat("x", 200)
	var all []*Message
	for _, to := range []string{"+441", "+442"} {
		parts, _, err := Submit(text, SubmitOptions{To: mustAddr(t, to), Class: NoClass, Ref: 9})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			m, err := Decode(p.TPDU, DecodeOptions{Direction: MO, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, m)
		}
	}
	if _, err := Join([]*Message{all[0], all[3]}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("joined parts sent to two destinations: %v", err)
	}
	c := NewCollector(time.Hour, nil)
	n := 0
	for _, m := range []*Message{all[0], all[3], all[1], all[2]} {
		j, err := c.Add(m)
		if err != nil {
			t.Fatal(err)
		}
		if j != nil {
			n++
			if j.Text != text || !j.Complete {
				t.Errorf("joined %q", j.Text)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d messages joined, want 2", n)
	}
}
