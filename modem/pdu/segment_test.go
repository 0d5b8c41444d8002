package pdu

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func mustAddr(t testing.TB, s string) Address {
	t.Helper()
	a, err := ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCountBoundaries(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		o         SegmentOptions
		enc       Encoding
		units     int
		parts     int
		perPart   int
		remaining int
	}{
		{"empty", "", SegmentOptions{}, GSM7, 0, 1, 160, 160},
		{"160 gsm", strings.Repeat("a", 160), SegmentOptions{}, GSM7, 160, 1, 160, 0},
		{"161 gsm", strings.Repeat("a", 161), SegmentOptions{}, GSM7, 161, 2, 153, 153 - 8},
		{"306 gsm", strings.Repeat("a", 306), SegmentOptions{}, GSM7, 306, 2, 153, 0},
		{"307 gsm", strings.Repeat("a", 307), SegmentOptions{}, GSM7, 307, 3, 153, 152},
		{"ref16", strings.Repeat("a", 161), SegmentOptions{Ref16: true}, GSM7, 161, 2, 152, 152 - 9},
		{"80 euro", strings.Repeat("€", 80), SegmentOptions{}, GSM7, 160, 1, 160, 0},
		// 81 euros: part 1 takes 76 (152 septets; a 77th would split its
		// escape pair), part 2 the other 5.
		{"81 euro", strings.Repeat("€", 81), SegmentOptions{}, GSM7, 162, 2, 153, 153 - 10},
		{"70 ucs2", strings.Repeat("я", 70), SegmentOptions{}, UCS2, 70, 1, 70, 0},
		{"71 ucs2", strings.Repeat("я", 71), SegmentOptions{}, UCS2, 71, 2, 67, 63},
		{"134 ucs2", strings.Repeat("я", 134), SegmentOptions{}, UCS2, 134, 2, 67, 0},
		{"135 ucs2", strings.Repeat("я", 135), SegmentOptions{}, UCS2, 135, 3, 67, 66},
		{"35 emoji", strings.Repeat("😀", 35), SegmentOptions{}, UCS2, 70, 1, 70, 0},
		// 33 emoji in part 1: a 34th would split its surrogate pair at unit 67.
		{"36 emoji", strings.Repeat("😀", 36), SegmentOptions{}, UCS2, 72, 2, 67, 67 - 6},
		// An escape pair at the edges of a part.
		{"158+euro", strings.Repeat("a", 158) + "€", SegmentOptions{}, GSM7, 160, 1, 160, 0},
		{"159+euro", strings.Repeat("a", 159) + "€", SegmentOptions{}, GSM7, 161, 2, 153, 153 - 8},
		{"152+euro+10", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10), SegmentOptions{}, GSM7, 164, 2, 153, 153 - 12},
		{"151+euro+10", strings.Repeat("a", 151) + "€" + strings.Repeat("b", 10), SegmentOptions{}, GSM7, 163, 2, 153, 153 - 10},
		// A surrogate pair at the edges of a part.
		{"68+emoji", strings.Repeat("я", 68) + "😀", SegmentOptions{}, UCS2, 70, 1, 70, 0},
		{"69+emoji", strings.Repeat("я", 69) + "😀", SegmentOptions{}, UCS2, 71, 2, 67, 67 - 4},
		{"66+emoji", strings.Repeat("я", 66) + "😀" + "я", SegmentOptions{}, UCS2, 69, 1, 70, 1},
		{"66+emoji+4", strings.Repeat("я", 66) + "😀" + strings.Repeat("я", 4), SegmentOptions{}, UCS2, 72, 2, 67, 67 - 6},
		{"65+emoji+4", strings.Repeat("я", 65) + "😀" + strings.Repeat("я", 4), SegmentOptions{}, UCS2, 71, 2, 67, 67 - 4},
		// National auto: ğ is in the Turkish locking table; its element
		// (3 octets and UDHL) leaves 155 septets, 149 beside a concat.
		{"155 ğ auto", strings.Repeat("ğ", 155), SegmentOptions{National: NationalMode{Auto: true}}, GSM7, 155, 1, 155, 0},
		{"156 ğ auto", strings.Repeat("ğ", 156), SegmentOptions{National: NationalMode{Auto: true}}, GSM7, 156, 2, 149, 149*2 - 156},
		{"156 ğ none", strings.Repeat("ğ", 156), SegmentOptions{}, UCS2, 156, 3, 67, 67*3 - 156},
		{"forced ucs2", "hello", SegmentOptions{Encoding: SegmentUCS2}, UCS2, 5, 1, 70, 65},
		{"ports header", strings.Repeat("a", 155), SegmentOptions{Extra: UDH{PortsIE(Ports{Source: 1, Destination: 2})}}, GSM7, 155, 2, 148, 148 - 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CountText(tt.text, tt.o)
			if c.Encoding != tt.enc || c.Units != tt.units || c.Parts != tt.parts || c.PerPart != tt.perPart || c.Remaining != tt.remaining {
				t.Errorf("count = %+v; want enc %v units %d parts %d per part %d remaining %d", c, tt.enc, tt.units, tt.parts, tt.perPart, tt.remaining)
			}
			if c.Characters != len([]rune(tt.text)) {
				t.Errorf("characters = %d", c.Characters)
			}
		})
	}
}

func TestCountUnicodeForcing(t *testing.T) {
	c := CountText("Don’t panic, ça va", SegmentOptions{})
	if c.Encoding != UCS2 {
		t.Fatalf("encoding %v, want ucs2", c.Encoding)
	}
	want := []Forcing{{Char: "’", Index: 3}, {Char: "ç", Index: 13}}
	if len(c.UnicodeForcing) != len(want) {
		t.Fatalf("forcing = %+v, want %+v", c.UnicodeForcing, want)
	}
	for i := range want {
		if c.UnicodeForcing[i] != want[i] {
			t.Errorf("forcing[%d] = %+v, want %+v", i, c.UnicodeForcing[i], want[i])
		}
	}
	if c := CountText("plain {text} €", SegmentOptions{}); c.Encoding != GSM7 || len(c.UnicodeForcing) != 0 || c.Units != 17 {
		t.Errorf("plain text count = %+v", c)
	}
}

func TestSubmitForcedGSM7Fails(t *testing.T) {
	_, _, err := Submit("привет", SubmitOptions{To: mustAddr(t, "+441234"), Class: NoClass, Segment: SegmentOptions{Encoding: SegmentGSM7}})
	if err == nil {
		t.Fatal("forced gsm7 of Cyrillic succeeded")
	}
}

// checkRoundTrip submits text, checks each part and decodes it back.
func checkRoundTrip(t *testing.T, text string, o SubmitOptions) []*Message {
	t.Helper()
	parts, count, err := Submit(text, o)
	if err != nil {
		t.Fatalf("submit %q: %v", text, err)
	}
	if len(parts) != count.Parts {
		t.Fatalf("%d parts, count says %d", len(parts), count.Parts)
	}
	want := CountText(text, o.Segment)
	if want.Parts != count.Parts || want.Encoding != count.Encoding || want.Units != count.Units {
		t.Fatalf("Submit's count %+v differs from CountText %+v", count, want)
	}
	var msgs []*Message
	var joined strings.Builder
	for i, p := range parts {
		if len(p.TPDU) > 140+1+1+12+1+1+1+7 { // header fields plus 140 octets of UD
			t.Errorf("part %d: TPDU %d octets", i+1, len(p.TPDU))
		}
		m, err := Decode(p.TPDU, DecodeOptions{Direction: MO, Strict: true})
		if err != nil {
			t.Fatalf("decode part %d of %q: %v", i+1, text, err)
		}
		if n := udl(m); (m.Encoding == GSM7 && n > 160) || (m.Encoding != GSM7 && n > 140) {
			t.Errorf("part %d: user data %d units", i+1, n)
		}
		if n := udl(m); m.Encoding == GSM7 && (n*7+7)/8 > 140 || m.Encoding != GSM7 && n > 140 {
			t.Errorf("part %d: user data over 140 octets", i+1)
		}
		if m.Text != p.Text {
			t.Errorf("part %d decodes to %q, want %q", i+1, m.Text, p.Text)
		}
		if len(parts) > 1 {
			c, ok := m.UDH.Concat()
			if !ok || c.Seq != i+1 || c.Total != len(parts) || c.Ref16 != o.Segment.Ref16 {
				t.Errorf("part %d concat = %+v %v", i+1, c, ok)
			}
		}
		if m.Destination != o.To {
			t.Errorf("destination %v, want %v", m.Destination, o.To)
		}
		joined.WriteString(m.Text)
		msgs = append(msgs, m)
	}
	if joined.String() != text {
		t.Errorf("parts join to %q, want %q", joined.String(), text)
	}
	return msgs
}

func TestSubmitRoundTrip(t *testing.T) {
	to := mustAddr(t, "+447700900123")
	texts := []string{
		"",
		"Hello",
		strings.Repeat("x", 160),
		strings.Repeat("x", 161),
		strings.Repeat("ab€", 100),
		strings.Repeat("€", 81),
		"{[~]}|\\^€ and more: @£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ÄÖÑÜ§¿äöñüà",
		strings.Repeat("Привет, мир! ", 20),
		strings.Repeat("😀", 36),
		strings.Repeat("a😀", 50),
		strings.Repeat("漢字かな交じり文", 30),
	}
	for _, ref16 := range []bool{false, true} {
		for _, text := range texts {
			checkRoundTrip(t, text, SubmitOptions{To: to, Class: NoClass, Ref: 0x1234, Segment: SegmentOptions{Ref16: ref16}})
		}
	}
}

func TestSubmitNeverSplitsPairs(t *testing.T) {
	to := mustAddr(t, "12345")
	for n := 140; n < 330; n++ {
		text := strings.Repeat("a", n%3) + strings.Repeat("€", n/2)
		msgs := checkRoundTrip(t, text, SubmitOptions{To: to, Class: NoClass})
		for _, m := range msgs {
			if len(m.Data) > 0 && m.Data[len(m.Data)-1] == esc {
				t.Fatalf("a part ends with an escape: %q", m.Text)
			}
		}
		emoji := strings.Repeat("b", n%2) + strings.Repeat("😀", n/4)
		msgs = checkRoundTrip(t, emoji, SubmitOptions{To: to, Class: NoClass})
		for _, m := range msgs {
			if m.Encoding == UCS2 && len(m.Data) >= 2 {
				u := rune(m.Data[len(m.Data)-2])<<8 | rune(m.Data[len(m.Data)-1])
				if utf16.IsSurrogate(u) && u < 0xDC00 {
					t.Fatalf("a part ends with a high surrogate")
				}
			}
		}
	}
}

func TestSubmitFields(t *testing.T) {
	parts, _, err := Submit("hi", SubmitOptions{
		To: mustAddr(t, "+15551111"), SMSC: mustAddr(t, "+15551000"), StatusReport: true,
		Validity: Validity{Format: ValidityRelative, Relative: 4 * 24 * 3600e9}, Class: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 {
		t.Fatalf("%d parts", len(parts))
	}
	// fo 0x31 (SUBMIT, VPF relative, SRR), MR 0, DA, PID 0, DCS 0x11, VP 170, UDL 2.
	want := "059151550100" + "3100089151551111" + "0011AA02E834"
	if parts[0].Hex != want {
		t.Errorf("hex\n got %s\nwant %s", parts[0].Hex, want)
	}
}

func TestCountInvalidUTF8(t *testing.T) {
	c := CountText("a\xffb\xe2\x82", SegmentOptions{National: NationalMode{Auto: true}})
	// Each invalid byte is one character (U+FFFD), as []rune counts them.
	if c.Encoding != UCS2 || c.Characters != 5 || len(c.UnicodeForcing) != 3 {
		t.Fatalf("count = %+v", c)
	}
	if c.UnicodeForcing[0] != (Forcing{Char: "\xff", Index: 1}) || c.UnicodeForcing[2] != (Forcing{Char: "\x82", Index: 4}) {
		t.Errorf("forcing = %+v", c.UnicodeForcing)
	}
}
