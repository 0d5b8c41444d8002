package pdu

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for the collector.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func vectorByID(t *testing.T, id string) *Message {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.ID == id {
			return decodeVector(t, v)
		}
	}
	t.Fatalf("no vector %s", id)
	return nil
}

const v678Text = "this is a very long message that does not fit in a single SMS message, at least it will if I keep adding more to it as 160 characters is more than you might think \U0001F601"

func TestCollectorVectorsOutOfOrder(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCollector(time.Hour, clk.now)
	p1, p2, p3 := vectorByID(t, "V6"), vectorByID(t, "V7"), vectorByID(t, "V8")
	for _, m := range []*Message{p3, p1, p3} { // p3 twice: an exact duplicate
		j, err := c.Add(m)
		if err != nil || j != nil {
			t.Fatalf("add: %v, %v; want nothing yet", j, err)
		}
	}
	j, err := c.Add(p2)
	if err != nil || j == nil {
		t.Fatalf("add last part: %v, %v", j, err)
	}
	if j.Text != v678Text || !j.Complete || j.Parts != 3 || j.Total != 3 || len(j.Missing) != 0 {
		t.Errorf("joined = %+v", j)
	}
	if j.Originator.String() != "+61503975312" || j.Encoding != UCS2 {
		t.Errorf("originator %v encoding %v", j.Originator, j.Encoding)
	}
	if c.Pending() != 0 {
		t.Errorf("%d pending after completion", c.Pending())
	}
}

func TestCollectorRejectsInconsistentV4(t *testing.T) {
	c := NewCollector(time.Hour, nil)
	_, err := c.Add(vectorByID(t, "V4"))
	if !errors.Is(err, ErrInconsistent) {
		t.Fatalf("V4 (part 6 of 2): err = %v, want ErrInconsistent", err)
	}
	if _, err := Join([]*Message{vectorByID(t, "V4")}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("Join V4: err = %v", err)
	}
}

func TestCollectorTimeoutHandsOverWhatArrived(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCollector(10*time.Minute, clk.now)
	if j, err := c.Add(vectorByID(t, "V6")); j != nil || err != nil {
		t.Fatal(j, err)
	}
	clk.t = clk.t.Add(5 * time.Minute)
	if j, err := c.Add(vectorByID(t, "V8")); j != nil || err != nil {
		t.Fatal(j, err)
	}
	if got := c.Expire(); len(got) != 0 {
		t.Fatalf("expired early: %+v", got)
	}
	clk.t = clk.t.Add(5 * time.Minute) // 10 minutes after the first part
	got := c.Expire()
	if len(got) != 1 {
		t.Fatalf("expired %d messages, want 1", len(got))
	}
	j := got[0]
	if j.Complete || j.Parts != 2 || j.Total != 3 || len(j.Missing) != 1 || j.Missing[0] != 2 {
		t.Errorf("expired = %+v", j)
	}
	if !strings.HasPrefix(j.Text, "this is a very long") || !strings.HasSuffix(j.Text, "\U0001F601") {
		t.Errorf("text %q", j.Text)
	}
	if c.Pending() != 0 {
		t.Error("still pending after expiry")
	}
}

func TestJoinUCS2SurrogateSplitAcrossParts(t *testing.T) {
	// A sender that split "a😀b" between the surrogates: part 1 ends with
	// the high surrogate, part 2 starts with the low one.
	mk := func(seq int, data []byte) *Message {
		return &Message{Type: TypeDeliver, Encoding: UCS2, Data: data,
			Originator: Address{TON: TONInternational, NPI: NPIISDN, Digits: "441"},
			UDH:        UDH{ConcatIE(Concat{Ref: 7, Total: 2, Seq: seq})}}
	}
	p1 := mk(1, []byte{0x00, 'a', 0xD8, 0x3D})
	p2 := mk(2, []byte{0xDE, 0x00, 0x00, 'b'})
	c := NewCollector(time.Minute, nil)
	if j, err := c.Add(p2); j != nil || err != nil {
		t.Fatal(j, err)
	}
	j, err := c.Add(p1)
	if err != nil || j == nil {
		t.Fatal(j, err)
	}
	if j.Text != "a😀b" {
		t.Errorf("text %q, want %q", j.Text, "a😀b")
	}
}

func TestJoinGSM7EscapeSplitAcrossParts(t *testing.T) {
	// A sender that put the escape at the end of part 1 and '€' (0x65)
	// at the start of part 2.
	mk := func(seq int, septets []byte) *Message {
		return &Message{Type: TypeDeliver, Encoding: GSM7, Data: septets, Text: (&charset{lock: &defaultAlphabet, single: &defaultExtension}).decode(septets),
			Originator: Address{TON: TONInternational, NPI: NPIISDN, Digits: "441"},
			UDH:        UDH{ConcatIE(Concat{Ref: 7, Total: 2, Seq: seq})}}
	}
	j, err := Join([]*Message{mk(2, []byte{0x65, 'b'}), mk(1, []byte{'a', esc})})
	if err != nil {
		t.Fatal(err)
	}
	if j.Text != "a€b" {
		t.Errorf("text %q, want %q", j.Text, "a€b")
	}
}

func TestCollectorReusedReference(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := NewCollector(time.Hour, clk.now)
	from := mustAddr(t, "+441234")
	old, _ := Deliver(strings.Repeat("old ", 50), DeliverOptions{From: from, SCTS: clk.t, Class: NoClass, Ref: 9})
	fresh, _ := Deliver(strings.Repeat("new ", 50), DeliverOptions{From: from, SCTS: clk.t, Class: NoClass, Ref: 9})
	dec := func(p Part) *Message {
		m, err := Decode(p.TPDU, DecodeOptions{Direction: MT, Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if j, err := c.Add(dec(old[0])); j != nil || err != nil {
		t.Fatal(j, err)
	}
	if j, err := c.Add(dec(fresh[0])); j != nil || err != nil {
		t.Fatal(j, err)
	}
	j, err := c.Add(dec(fresh[1]))
	if err != nil || j == nil || j.Text != strings.Repeat("new ", 50) {
		t.Fatalf("fresh message: %+v, %v", j, err)
	}
	ev := c.Expire()
	if len(ev) != 1 || ev[0].Complete || !strings.HasPrefix(ev[0].Text, "old old") {
		t.Fatalf("evicted = %+v", ev)
	}
}

func TestJoinSingleAndMixed(t *testing.T) {
	m := vectorByID(t, "V1")
	j, err := Join([]*Message{m})
	if err != nil || j.Text != "Woot" || !j.Complete || j.Total != 1 {
		t.Fatalf("single: %+v %v", j, err)
	}
	if _, err := Join([]*Message{vectorByID(t, "V6"), vectorByID(t, "V19")}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("parts of two messages: err = %v", err)
	}
	j, err = Join([]*Message{vectorByID(t, "V8"), vectorByID(t, "V6"), vectorByID(t, "V7"), vectorByID(t, "V7")})
	if err != nil || j.Text != v678Text || j.Parts != 3 {
		t.Fatalf("join: %+v %v", j, err)
	}
}

func TestStatusText(t *testing.T) {
	tests := []struct {
		st    byte
		final bool
		ok    bool
		class StatusClass
		word  string
	}{
		{0x00, true, true, StatusDelivered, "received"},
		{0x21, false, true, StatusPending, "busy"},
		{0x46, true, true, StatusFailed, "expired"},
		{0x62, true, true, StatusFailedTemporary, "no response"},
		{0x18, true, true, StatusDelivered, "SC-specific"},
		{0x0A, true, false, StatusDelivered, "reserved"},
		{0x2A, false, false, StatusPending, "reserved"},
		{0xFF, true, false, StatusFailedTemporary, "reserved"},
	}
	for _, tt := range tests {
		w, final, ok := StatusText(tt.st)
		if final != tt.final || ok != tt.ok || !strings.Contains(w, tt.word) || ClassifyStatus(tt.st) != tt.class {
			t.Errorf("StatusText(%02X) = %q %v %v class %v", tt.st, w, final, ok, ClassifyStatus(tt.st))
		}
	}
}

func TestCollectorConcurrent(t *testing.T) {
	c := NewCollector(time.Hour, nil)
	const senders = 8
	done := make(chan string, senders)
	for s := 0; s < senders; s++ {
		go func(s int) {
			from := Address{TON: TONInternational, NPI: NPIISDN, Digits: "4477009000" + string(rune('0'+s))}
			text := strings.Repeat(string(rune('a'+s)), 400)
			parts, err := Deliver(text, DeliverOptions{From: from, SCTS: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Class: NoClass, Ref: 5})
			if err != nil {
				done <- "deliver: " + err.Error()
				return
			}
			var got *Joined
			for i := len(parts) - 1; i >= 0; i-- {
				m, err := Decode(parts[i].TPDU, DecodeOptions{Direction: MT})
				if err != nil {
					done <- err.Error()
					return
				}
				if j, err := c.Add(m); err != nil {
					done <- err.Error()
					return
				} else if j != nil {
					got = j
				}
			}
			if got == nil || got.Text != text {
				done <- "sender " + from.Digits + ": not joined"
				return
			}
			done <- ""
		}(s)
	}
	for s := 0; s < senders; s++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	if c.Pending() != 0 {
		t.Errorf("%d pending", c.Pending())
	}
}
