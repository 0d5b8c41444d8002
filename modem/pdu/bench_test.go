package pdu

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func benchVector(b *testing.B, id string) []byte {
	for _, v := range loadVectors(b) {
		if v.ID == id {
			raw, _ := hex.DecodeString(v.Hex)
			return raw
		}
	}
	b.Fatalf("no vector %s", id)
	return nil
}

// BenchmarkDecode decodes full 140-octet parts: V6 (UCS-2 with a
// concatenation header) and V19 (160 septets after a header, with SMSC).
func BenchmarkDecode(b *testing.B) {
	for _, c := range []struct {
		name string
		id   string
		o    DecodeOptions
	}{
		{"ucs2-140", "V6", DecodeOptions{}},
		{"gsm7-140", "V19", DecodeOptions{SMSC: true}},
	} {
		raw := benchVector(b, c.id)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Decode(raw, c.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	to := Address{TON: TONInternational, NPI: NPIISDN, Digits: "447700900123"}
	b.Run("submit-gsm7-160", func(b *testing.B) {
		text := strings.Repeat("0123456789", 16)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Submit(text, SubmitOptions{To: to, Class: NoClass}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("submit-ucs2-3parts", func(b *testing.B) {
		text := strings.Repeat("Привет мир ", 18)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Submit(text, SubmitOptions{To: to, Class: NoClass}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-message", func(b *testing.B) {
		m := &Message{Type: TypeSubmit, Destination: to, Class: NoClass, Text: strings.Repeat("x", 153),
			UDH: UDH{ConcatIE(Concat{Ref: 1, Total: 2, Seq: 1})}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCount(b *testing.B) {
	for _, c := range []struct {
		name string
		text string
		o    SegmentOptions
	}{
		{"gsm7-1000", strings.Repeat("Hello, world! {€} ", 56)[:1000], SegmentOptions{}},
		{"ucs2-1000", strings.Repeat("Привет, мир! ", 77)[:1000*2/2], SegmentOptions{}},
		{"turkish-auto-1000", strings.Repeat("Türkçe ğüşıöç İstanbul ", 44), SegmentOptions{National: NationalMode{Auto: true}}},
		{"cyrillic-auto-1000", strings.Repeat("Привет, мир! ", 77), SegmentOptions{National: NationalMode{Auto: true}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				CountText(c.text, c.o)
			}
		})
	}
}

func BenchmarkCollect(b *testing.B) {
	parts := []*Message{}
	for _, id := range []string{"V8", "V6", "V7"} {
		m, err := Decode(benchVector(b, id), DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, m)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewCollector(time.Hour, func() time.Time { return now })
	b.ReportAllocs()
	for b.Loop() {
		var j *Joined
		for _, p := range parts {
			j, _ = c.Add(p)
		}
		if j == nil || !j.Complete {
			b.Fatal("not joined")
		}
	}
}
