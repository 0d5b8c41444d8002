package pdu

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSubmitPlanMatchesSubmit: a plan's parts for each recipient are the
// parts Submit builds for that recipient (Hex aside), over texts that need
// one part, several, UCS-2 and national tables, with 8- and 16-bit
// references, validity, class and extra headers.
func TestSubmitPlanMatchesSubmit(t *testing.T) {
	texts := []string{"Spring sale: 20% off everything until Sunday. Reply STOP to opt out.", strings.Repeat("Hello {€} ", 40),
		"Zoë 😀", strings.Repeat("Привет, мир! ", 30), strings.Repeat("Türkçe ğüşıöç İstanbul ", 20), "x"}
	segs := []SegmentOptions{{}, {Ref16: true}, {National: NationalMode{Auto: true}}, {Encoding: SegmentUCS2},
		{Extra: UDH{{ID: 0x05, Data: []byte{0x0b, 0x84, 0x23, 0xf0}}}}}
	to := []string{"+447900000001", "+12125550123", "80010"}
	for _, text := range texts {
		for _, seg := range segs {
			sp, err := PlanSubmit(text, seg)
			if err != nil {
				t.Fatalf("%q %+v: %v", text, seg, err)
			}
			for i, n := range to {
				addr, err := ParseAddress(n)
				if err != nil {
					t.Fatal(err)
				}
				o := SubmitOptions{To: addr, StatusReport: i%2 == 0, Class: i - 1, Ref: uint16(1000*i + 7), Segment: seg,
					Validity: Validity{Format: ValidityRelative, Relative: time.Duration(i+1) * time.Hour}}
				want, wc, err := Submit(text, o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := sp.Submit(o)
				if err != nil {
					t.Fatal(err)
				}
				if sp.Count().Parts != wc.Parts || sp.Count().Encoding != wc.Encoding || len(got) != len(want) {
					t.Fatalf("%q to %s: plan %+v, %d parts; Submit %+v, %d parts", text, n, sp.Count(), len(got), wc, len(want))
				}
				for j := range want {
					if !bytes.Equal(got[j].TPDU, want[j].TPDU) || got[j].Text != want[j].Text || got[j].Seq != want[j].Seq || got[j].Hex != "" {
						t.Fatalf("%q to %s part %d: plan %+v, Submit %+v", text, n, j+1, got[j], want[j])
					}
				}
				// The parts are the caller's: changing one changes no other.
				got[0].TPDU[len(got[0].TPDU)-1] ^= 0xff
				again, _ := sp.Submit(o)
				if !bytes.Equal(again[0].TPDU, want[0].TPDU) {
					t.Fatalf("%q: a part shares memory with the plan", text)
				}
			}
		}
	}
	if _, err := PlanSubmit(strings.Repeat("😀", 70*256), SegmentOptions{}); err == nil {
		t.Fatal("a text of more than 255 parts was planned")
	}
	sp, _ := PlanSubmit("hi", SegmentOptions{})
	if _, err := sp.Submit(SubmitOptions{}); err == nil {
		t.Fatal("a part without a destination was built")
	}
}
