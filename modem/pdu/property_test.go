package pdu

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Character pools for random texts: the default alphabet, its extension
// table, Latin outside it, Cyrillic, CJK and emoji.
var pools = [][]rune{
	[]rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"),
	[]rune("^{}\\[~]|€\f"),
	[]rune("áíóúâêôãõçÁÍÓÚğışĞİŞ’“”…–"),
	[]rune("абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГД"),
	[]rune("漢字仮名交じり文中文한국어"),
	[]rune("😀😁🎉👍🏽🇬🇧𝄞"),
}

func randomText(r *rand.Rand) string {
	// Lengths across every boundary: 0..3 parts of either encoding.
	n := r.IntN(480)
	mix := r.IntN(len(pools)) // the richest pool this text may use
	var b strings.Builder
	for i := 0; i < n; i++ {
		p := 0
		if r.IntN(4) == 0 {
			p = r.IntN(mix + 1)
		}
		pool := pools[p]
		b.WriteRune(pool[r.IntN(len(pool))])
	}
	return b.String()
}

// TestPropertySubmitDecodeIdentity: for random texts, every part decodes,
// fits in 140 octets of user data, the parts join back to the text, and the
// counter agrees with the encoder.
func TestPropertySubmitDecodeIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	to := mustAddr(t, "+447700900123")
	n := 1500
	if testing.Short() {
		n = 200
	}
	modes := []NationalMode{{}, {Auto: true}, {Language: LanguageTurkish}, {Language: LanguagePortuguese}}
	for i := 0; i < n; i++ {
		text := randomText(r)
		o := SubmitOptions{To: to, Class: NoClass, Ref: uint16(r.IntN(65536)), Segment: SegmentOptions{
			Ref16:    r.IntN(2) == 0,
			National: modes[r.IntN(len(modes))],
		}}
		msgs := checkRoundTrip(t, text, o)
		if t.Failed() {
			t.Fatalf("text %q options %+v", text, o)
		}
		// Join through the collector too.
		if len(msgs) > 1 {
			c := NewCollector(0, nil)
			var j *Joined
			for k := len(msgs) - 1; k >= 0; k-- {
				var err error
				if j, err = c.Add(msgs[k]); err != nil {
					t.Fatal(err)
				}
			}
			if j == nil || j.Text != text || !j.Complete {
				t.Fatalf("collector joined %+v, want %q", j, text)
			}
		}
	}
}

// TestPropertyDeliver: the SMS-DELIVERs the virtual modem sends decode to
// what went in, 8-bit data with ports included.
func TestPropertyDeliver(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	from := Address{TON: TONAlphanumeric, Digits: "Bank"}
	for i := 0; i < 300; i++ {
		o := DeliverOptions{From: from, SCTS: mustTime(t, "2026-03-01T12:00:00+01:00"), Class: NoClass, Ref: uint16(i)}
		text := randomText(r)
		if i%3 == 0 {
			o.Data = []byte(text)
			o.Ports = &Ports{Source: 9200, Destination: 2948}
		}
		parts, err := Deliver(text, o)
		if err != nil {
			t.Fatal(err)
		}
		var ms []*Message
		for _, p := range parts {
			m, err := Decode(p.TPDU, DecodeOptions{Direction: MT, Strict: true})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if m.Originator != from || !m.SCTS.Equal(o.SCTS) {
				t.Fatalf("originator %v scts %v", m.Originator, m.SCTS)
			}
			if o.Ports != nil {
				if pp, ok := m.UDH.Ports(); !ok || pp.Source != 9200 || pp.Destination != 2948 || !pp.Wide {
					t.Fatalf("ports %+v %v", pp, ok)
				}
			}
			ms = append(ms, m)
		}
		j, err := Join(ms)
		if err != nil {
			t.Fatal(err)
		}
		if o.Data != nil {
			if string(j.Data) != text || j.Encoding != EightBit || j.Text != "" {
				t.Fatalf("8-bit data joined to %q (%v)", j.Data, j.Encoding)
			}
		} else if j.Text != text {
			t.Fatalf("joined %q, want %q", j.Text, text)
		}
	}
}
