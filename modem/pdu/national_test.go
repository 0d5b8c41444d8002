package pdu

import (
	"strings"
	"testing"
)

// deliverWithHeader builds an SMS-DELIVER TPDU by hand: a header and raw
// septets, so the decoder is checked against the spec rather than against
// our own encoder.
func deliverWithHeader(t *testing.T, h UDH, septets []byte) []byte {
	t.Helper()
	fo := byte(0x04)
	if len(h) > 0 {
		fo |= 0x40
	}
	b := []byte{fo, 0x04, 0x81, 0x21, 0x43, 0x00, 0x00, 0x62, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00}
	hb := h.Bytes()
	hs := (len(hb)*8 + 6) / 7
	b = append(b, byte(hs+len(septets)))
	b = append(b, hb...)
	return pack7(b, septets, hs*7-len(hb)*8)
}

func TestDecodeNationalShifts(t *testing.T) {
	tests := []struct {
		name    string
		h       UDH
		septets []byte
		want    string
		warn    bool
	}{
		// TS 23.038 A.2.1: Turkish single shift 0x47 is Ğ (also in AOSP's
		// transcription), 0x63 is ç (the spec's own example in C.2 writes
		// "Türkçe" with it).
		{"turkish single", UDH{{ID: 0x24, Data: []byte{1}}}, []byte{'T', 0x7E, 'r', 'k', esc, 0x63, 'e', ' ', esc, 0x47}, "Türkçe Ğ", false},
		// Without the element the same escapes fall back: ESC 0x63 has no
		// character in the default extension table, so the default
		// table's 'c' shows (TS 23.038 §6.2.1.1) – "Türkce", as C.2 says a
		// non-supporting receiver displays it.
		{"no element", nil, []byte{'T', 0x7E, 'r', 'k', esc, 0x63, 'e'}, "Türkce", false},
		// Decimal 24/25 (0x18/0x19) are not the national elements.
		{"decimal ids ignored", UDH{{ID: 24, Data: []byte{1}}, {ID: 25, Data: []byte{1}}}, []byte{'k', esc, 0x63, 'e'}, "kce", false},
		// Spanish single shift: á at 0x61, ó at 0x6F.
		{"spanish single", UDH{{ID: 0x24, Data: []byte{2}}}, []byte{'m', esc, 0x61, 's', ' ', esc, 0x6F}, "más ó", false},
		// Spanish has no locking shift table: warned, default alphabet.
		{"spanish locking undefined", UDH{{ID: 0x25, Data: []byte{2}}}, []byte{'h', 'o', 'l', 'a'}, "hola", true},
		{"unknown language", UDH{{ID: 0x24, Data: []byte{99}}}, []byte{esc, 0x65}, "€", true},
		{"escape escape", nil, []byte{'a', esc, esc, 'b'}, "a b", false},
		{"lone escape at end", nil, []byte{'a', esc}, "a ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(deliverWithHeader(t, tt.h, tt.septets), DecodeOptions{Direction: MT})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tt.want {
				t.Errorf("text %q, want %q", m.Text, tt.want)
			}
			if (len(m.Warnings) > 0) != tt.warn {
				t.Errorf("warnings %q, want some: %v", m.Warnings, tt.warn)
			}
		})
	}
}

func TestDecodeTurkishLockingAgainstTable(t *testing.T) {
	lock := nationalLocking(LanguageTurkish)
	single := nationalSingle(LanguageTurkish)
	if lock == nil || single == nil {
		t.Fatal("Turkish tables missing")
	}
	// Every defined locking septet decodes to the table's character under
	// 0x25, and every defined single shift septet after an escape under
	// 0x24.
	var septets []byte
	var want []rune
	for c, r := range lock {
		if r != 0 {
			septets = append(septets, byte(c))
			want = append(want, r)
		}
	}
	for c, r := range single {
		if r != 0 {
			septets = append(septets, esc, byte(c))
			want = append(want, r)
		}
	}
	h := UDH{{ID: IENationalLock, Data: []byte{1}}, {ID: IENationalSingle, Data: []byte{1}}}
	// Several PDUs: the table does not fit in one.
	for len(septets) > 0 {
		n := min(140, len(septets))
		if septets[n-1] == esc {
			n--
		}
		cut := 0
		for i := 0; i < n; i++ {
			if septets[i] == esc {
				i++
			}
			cut++
		}
		m, err := Decode(deliverWithHeader(t, h, septets[:n]), DecodeOptions{Direction: MT, Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != string(want[:cut]) {
			t.Fatalf("text %q, want %q", m.Text, string(want[:cut]))
		}
		if l, s, ok := m.UDH.National(); !ok || l != LanguageTurkish || s != LanguageTurkish {
			t.Errorf("National() = %v %v %v", l, s, ok)
		}
		septets, want = septets[n:], want[cut:]
	}
}

func TestSegmentNational(t *testing.T) {
	to := mustAddr(t, "+905551234567")
	turkish := "Türkçe ğüşıöç İstanbul'da ŞĞİ"
	tests := []struct {
		name           string
		text           string
		mode           NationalMode
		enc            Encoding
		locking, singl Language
	}{
		{"turkish off", turkish, NationalMode{}, UCS2, 0, 0},
		{"turkish auto", turkish, NationalMode{Auto: true}, GSM7, LanguageTurkish, 0},
		{"turkish named", turkish, NationalMode{Language: LanguageTurkish}, GSM7, LanguageTurkish, 0},
		// è is not in the Turkish locking table: the single shift it is.
		{"turkish named single", "Ağè", NationalMode{Language: LanguageTurkish}, GSM7, 0, LanguageTurkish},
		{"spanish auto", "¿Qué tal? Ñandú, está aquí", NationalMode{Auto: true}, GSM7, 0, LanguageSpanish},
		{"plain stays default", "hello {world}", NationalMode{Auto: true}, GSM7, 0, 0},
		{"portuguese auto", "Não há ação sem emoção", NationalMode{Auto: true}, GSM7, LanguagePortuguese, 0},
		{"hindi auto", "नमस्ते दुनिया", NationalMode{Auto: true}, GSM7, LanguageHindi, 0},
		{"cyrillic no table", "Привет", NationalMode{Auto: true}, UCS2, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := SegmentOptions{National: tt.mode}
			c := CountText(tt.text, o)
			if c.Encoding != tt.enc || c.Locking != tt.locking || c.Single != tt.singl {
				t.Fatalf("count = %+v; want %v locking %v single %v", c, tt.enc, tt.locking, tt.singl)
			}
			msgs := checkRoundTrip(t, tt.text, SubmitOptions{To: to, Class: NoClass, Segment: o})
			for _, m := range msgs {
				l, s, ok := m.UDH.National()
				if ok != (tt.locking != 0 || tt.singl != 0) || l != tt.locking || s != tt.singl {
					t.Errorf("part header national = %v %v %v", l, s, ok)
				}
				for _, ie := range m.UDH {
					if ie.ID == 24 || ie.ID == 25 {
						t.Errorf("decimal 24/25 element written: %+v", ie)
					}
				}
			}
		})
	}
}

func TestSegmentNationalCapacity(t *testing.T) {
	// One national element takes 4 octets with UDHL: 155 septets in a
	// single part (TS 23.038 C.2 says so for the Turkish single shift).
	c := CountText("ç"+strings.Repeat("a", 153), SegmentOptions{National: NationalMode{Language: LanguageSpanish}})
	if c.Encoding != GSM7 || c.Single != LanguageSpanish || c.PerPart != 155 || c.Units != 155 || c.Parts != 1 {
		t.Errorf("count = %+v", c)
	}
	// Both elements and concatenation: 6+3+3 octets + UDHL = 12 octets,
	// (1120-96)/7 = 146 septets per part.
	text := strings.Repeat("ğş", 100)
	// ğ and ş are in the Turkish locking table: concatenation (5 octets),
	// locking shift (3) and UDHL make 9 octets, (1120-72)/7 = 149 septets.
	c = CountText(text, SegmentOptions{National: NationalMode{Auto: true}})
	if c.Encoding != GSM7 || c.Locking != LanguageTurkish || c.Single != LanguageDefault || c.PerPart != 149 || c.Parts != 2 {
		t.Errorf("count = %+v", c)
	}
	// With both shifts (ğ from the locking table, € only via the single
	// shift as a national table has it): 12 octets, 146 septets.
	c = CountText(strings.Repeat("ğ€", 100), SegmentOptions{National: NationalMode{Language: LanguageTurkish}})
	if c.Encoding != GSM7 || c.PerPart != 146 && c.PerPart != 149 {
		t.Errorf("count = %+v", c)
	}
	parts, count, err := Submit(text, SubmitOptions{To: mustAddr(t, "1"), Class: NoClass, Segment: SegmentOptions{National: NationalMode{Auto: true}}})
	if err != nil || len(parts) != count.Parts || count.PerPart != 149 {
		t.Fatalf("submit: %d parts, %+v, %v", len(parts), count, err)
	}
}

func TestNationalOnlyWhenItSavesAPart(t *testing.T) {
	// 80 '{' and 10 '€': 180 septets, 2 parts by default; with Turkish
	// locking (€ is one septet there) 170, still 2 parts: the default
	// alphabet stays, though the national option has more room left.
	text := strings.Repeat("{", 80) + strings.Repeat("€", 10)
	c := CountText(text, SegmentOptions{National: NationalMode{Auto: true}})
	if c.Locking != LanguageDefault || c.Single != LanguageDefault || c.Parts != 2 {
		t.Errorf("count = %+v; want the default alphabet", c)
	}
	// 150 euros: 300 septets, 2 parts by default, 1 with a locking shift
	// table that has € (Turkish 0x04, Portuguese 0x18): that saves a part.
	c = CountText(strings.Repeat("€", 150), SegmentOptions{National: NationalMode{Auto: true}})
	if c.Parts != 1 || c.Locking == LanguageDefault {
		t.Errorf("count = %+v; want one part with a locking table", c)
	}
}

func TestParseNationalMode(t *testing.T) {
	for in, want := range map[string]NationalMode{
		"none": {}, "": {}, "auto": {Auto: true}, "turkish": {Language: LanguageTurkish}, "Urdu": {Language: LanguageUrdu}, "2": {Language: LanguageSpanish},
	} {
		got, err := ParseNationalMode(in)
		if err != nil || got != want {
			t.Errorf("ParseNationalMode(%q) = %+v, %v", in, got, err)
		}
	}
	if _, err := ParseNationalMode("klingon"); err == nil {
		t.Error("klingon accepted")
	}
}
