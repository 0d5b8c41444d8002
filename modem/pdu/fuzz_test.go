package pdu

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func addVectorSeeds(f *testing.F, add func(b []byte, v vector)) {
	for _, v := range loadVectors(f) {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		add(b, v)
	}
}

// FuzzDecode: no input makes Decode panic; what decodes strictly as a
// SUBMIT, DELIVER or STATUS-REPORT re-encodes to a PDU that decodes to the
// same text, header and user data.
func FuzzDecode(f *testing.F) {
	addVectorSeeds(f, func(b []byte, v vector) {
		f.Add(b, v.SMSC, vectorDirection(v.Type) == MO, false)
		f.Add(b, v.SMSC, vectorDirection(v.Type) == MO, true)
	})
	f.Fuzz(func(t *testing.T, b []byte, smsc, mo, strict bool) {
		dir := MT
		if mo {
			dir = MO
		}
		m, err := Decode(b, DecodeOptions{Direction: dir, SMSC: smsc, Strict: strict})
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		if !strict {
			return
		}
		switch m.Type {
		case TypeSubmit, TypeDeliver, TypeStatusReport:
		default:
			return
		}
		out, err := Encode(m)
		if err != nil {
			return // e.g. an address the encoder refuses; no panic is the point
		}
		back, err := Decode(out, DecodeOptions{Direction: dir, Strict: true})
		if err != nil {
			t.Fatalf("re-encoded %X does not decode: %v", out, err)
		}
		if back.Text != m.Text || back.Type != m.Type {
			t.Fatalf("re-encoded decodes to %q (%v), want %q (%v)", back.Text, back.Type, m.Text, m.Type)
		}
		// The header, unknown elements included, and the user data survive
		// byte for byte; a second round changes nothing.
		if !bytes.Equal(back.UDH.Bytes(), m.UDH.Bytes()) || !bytes.Equal(back.Data, m.Data) {
			t.Fatalf("re-encoded header % X data % X, want % X and % X", back.UDH.Bytes(), back.Data, m.UDH.Bytes(), m.Data)
		}
		if !sameAddresses(back, m) {
			if !alphaLossy(m) {
				t.Fatalf("re-encoded addresses %q %q %q, want %q %q %q", back.Originator.Digits, back.Destination.Digits, back.Recipient.Digits, m.Originator.Digits, m.Destination.Digits, m.Recipient.Digits)
			}
			return
		}
		if again, err := Encode(back); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second encoding % X (%v), first % X", again, err, out)
		}
	})
}

func sameAddresses(a, b *Message) bool {
	return a.Originator.Digits == b.Originator.Digits && a.Destination.Digits == b.Destination.Digits && a.Recipient.Digits == b.Recipient.Digits
}

// alphaLossy: an 11-character alphanumeric address ending in '_' has no
// encoding that decodes back to it (see appendAlpha).
func alphaLossy(m *Message) bool {
	for _, a := range []Address{m.Originator, m.Destination, m.Recipient} {
		if a.TON == TONAlphanumeric && strings.HasSuffix(a.Digits, "_") && len([]rune(a.Digits)) >= 11 {
			return true
		}
	}
	return false
}

// FuzzDecodeHex: any string, garbage included, never panics.
func FuzzDecodeHex(f *testing.F) {
	addVectorSeeds(f, func(b []byte, v vector) {
		f.Add(v.Hex+"\"\r\nOK", v.SMSC)
	})
	f.Fuzz(func(t *testing.T, s string, smsc bool) {
		_, _ = DecodeHex(s, DecodeOptions{SMSC: smsc})
		_, _ = DecodeHex(s, DecodeOptions{SMSC: smsc, Direction: MO, Strict: true})
	})
}

// FuzzCollector feeds PDUs (length-prefixed in the input) to a collector
// with a clock that moves, and checks what comes out is consistent.
func FuzzCollector(f *testing.F) {
	var all []byte
	addVectorSeeds(f, func(b []byte, v vector) {
		if !v.SMSC {
			all = append(all, byte(len(b)))
			all = append(all, b...)
		}
	})
	f.Add(all)
	f.Fuzz(func(t *testing.T, in []byte) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c := NewCollector(time.Minute, func() time.Time { return now })
		check := func(j *Joined) {
			if j.Parts > j.Total || len(j.Missing) != j.Total-j.Parts || j.Complete != (len(j.Missing) == 0) {
				t.Fatalf("inconsistent join: parts %d total %d missing %v complete %v", j.Parts, j.Total, j.Missing, j.Complete)
			}
		}
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			if n > len(in) {
				n = len(in)
			}
			m, err := Decode(in[:n], DecodeOptions{Direction: MT})
			in = in[n:]
			now = now.Add(time.Duration(n) * time.Second)
			if err != nil {
				continue
			}
			if j, err := c.Add(m); err == nil && j != nil {
				check(j)
			}
			for _, j := range c.Expire() {
				check(j)
			}
		}
	})
}
