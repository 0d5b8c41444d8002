package pdu

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors of reassembly.
var (
	// ErrInconsistent: a part's concatenation element contradicts itself
	// (sequence 0 or above the total, a total of 0) or the other parts.
	ErrInconsistent = errors.New("inconsistent part")
)

// Joined is a reassembled message.
type Joined struct {
	Originator Address
	// Encoding is UCS2 when any part was UCS-2, else that of the first
	// part.
	Encoding Encoding
	// Text is the joined text (empty for 8-bit data).
	Text string
	// Data is the parts' Data one after the other.
	Data []byte
	// Parts is how many distinct parts arrived, Total how many the header
	// announced (1 for a message that is not concatenated).
	Parts, Total int
	Complete     bool
	// Missing lists the sequence numbers that did not arrive.
	Missing []int
	// SCTS is the time stamp of the lowest part that arrived.
	SCTS time.Time
	// Key identifies the concatenated message: originator, reference
	// width, reference and total ("" for a single message).
	Key string
	// Messages are the parts in sequence order.
	Messages []*Message
}

// concatKey is the collector's key: originator, reference width,
// reference and total. A SUBMIT has no originator (it is ours); its
// destination stands in, so that parts we sent to two people under the
// same reference are not taken for one message.
func concatKey(m *Message, c Concat) string {
	w := 8
	if c.Ref16 {
		w = 16
	}
	peer := m.Originator
	if m.Type == TypeSubmit {
		peer = m.Destination
	}
	return fmt.Sprintf("%d/%s|%d|%d|%d", peer.TON, peer.Digits, w, c.Ref, c.Total)
}

func checkConcat(c Concat) error {
	if c.Total < 1 || c.Seq < 1 || c.Seq > c.Total {
		return fmt.Errorf("pdu: join: %w: part %d of %d (reference %d)", ErrInconsistent, c.Seq, c.Total, c.Ref)
	}
	return nil
}

// Join joins the parts of one message, in any order; exact duplicates are
// dropped. UCS-2 parts are joined on their octets so that a surrogate pair
// split by a sender still decodes. Parts must share originator, reference
// and total; a part without a concatenation element must be alone.
func Join(parts []*Message) (*Joined, error) {
	if len(parts) == 0 {
		return nil, errors.New("pdu: join: no parts")
	}
	first := parts[0]
	c0, ok := first.UDH.Concat()
	if !ok || (c0.Total == 1 && len(parts) == 1) {
		if len(parts) > 1 {
			return nil, fmt.Errorf("pdu: join: %w: %d parts but the first is not concatenated", ErrInconsistent, len(parts))
		}
		if ok {
			if err := checkConcat(c0); err != nil {
				return nil, err
			}
		}
		j := &Joined{Originator: first.Originator, Encoding: first.Encoding, Text: first.Text, Parts: 1, Total: 1, Complete: true, SCTS: first.SCTS, Messages: []*Message{first}}
		j.Data = append([]byte(nil), first.Data...)
		return j, nil
	}
	key := concatKey(first, c0)
	bySeq := make([]*Message, c0.Total+1)
	for _, m := range parts {
		c, ok := m.UDH.Concat()
		if !ok {
			return nil, fmt.Errorf("pdu: join: %w: a part without concatenation element", ErrInconsistent)
		}
		if err := checkConcat(c); err != nil {
			return nil, err
		}
		if k := concatKey(m, c); k != key {
			return nil, fmt.Errorf("pdu: join: %w: part of %s among parts of %s", ErrInconsistent, k, key)
		}
		if prev := bySeq[c.Seq]; prev != nil {
			if !samePart(prev, m) {
				return nil, fmt.Errorf("pdu: join: %w: two different parts %d of %s", ErrInconsistent, c.Seq, key)
			}
			continue
		}
		bySeq[c.Seq] = m
	}
	return joinSeq(key, bySeq[1:], c0.Total), nil
}

// samePart reports whether two parts are exact duplicates.
func samePart(a, b *Message) bool {
	return a.Encoding == b.Encoding && a.DCS == b.DCS && bytes.Equal(a.Data, b.Data) && bytes.Equal(a.UDH.Bytes(), b.UDH.Bytes())
}

// joinSeq joins parts by sequence (index seq-1; nil where missing).
// Consecutive UCS-2 parts are decoded together from their octets and
// consecutive 7-bit parts with the same tables from their septets, so a
// surrogate pair or an escape sequence a sender split across two parts
// still decodes.
func joinSeq(key string, bySeq []*Message, total int) *Joined {
	j := &Joined{Total: total, Key: key}
	var text strings.Builder
	var run16 []byte // pending UCS-2 octets
	var run7 []byte  // pending septets, decoded with cs7
	var cs7 charset
	flush := func() {
		if len(run16) > 0 {
			s, _ := decodeUTF16(run16)
			text.WriteString(s)
			run16 = run16[:0]
		}
		if len(run7) > 0 {
			text.WriteString(cs7.decode(run7))
			run7 = run7[:0]
		}
	}
	for i, m := range bySeq {
		if m == nil {
			j.Missing = append(j.Missing, i+1)
			flush()
			continue
		}
		if j.Parts == 0 {
			j.Originator, j.Encoding, j.SCTS = m.Originator, m.Encoding, m.SCTS
		}
		j.Parts++
		j.Messages = append(j.Messages, m)
		j.Data = append(j.Data, m.Data...)
		switch m.Encoding {
		case UCS2:
			j.Encoding = UCS2
			if len(run7) > 0 {
				flush()
			}
			run16 = append(run16, m.Data[:len(m.Data)&^1]...)
		case GSM7:
			lock, single, _ := m.UDH.National()
			cs, _ := newCharset(lock, single)
			if len(run16) > 0 || len(run7) > 0 && (cs.lock != cs7.lock || cs.single != cs7.single) {
				flush()
			}
			cs7 = cs
			run7 = append(run7, m.Data...)
		default:
			flush()
		}
	}
	flush()
	j.Text = text.String()
	j.Complete = len(j.Missing) == 0
	return j
}

// Collector reassembles concatenated messages from parts arriving in any
// order, keyed by originator, reference width, reference and total. It is
// safe for concurrent use.
type Collector struct {
	mu      sync.Mutex
	timeout time.Duration
	now     func() time.Time
	pending map[string]*pendingMsg
	// evicted holds messages pushed out by a conflicting part (a sender
	// reusing a reference while an old message is still incomplete); the
	// next Expire hands them over.
	evicted []*Joined
}

type pendingMsg struct {
	first time.Time
	total int
	parts []*Message // by seq-1
}

// NewCollector returns a collector that hands over an incomplete message
// timeout after its first part arrived. now is the clock (time.Now when
// nil).
func NewCollector(timeout time.Duration, now func() time.Time) *Collector {
	if now == nil {
		now = time.Now
	}
	return &Collector{timeout: timeout, now: now, pending: make(map[string]*pendingMsg)}
}

// Add adds a part received now. It returns the joined message when m
// completes one (or is not part of a concatenated message), nil while
// parts are missing. A part whose concatenation element contradicts
// itself (V4: part 6 of 2) is rejected with ErrInconsistent; an exact
// duplicate is ignored.
func (c *Collector) Add(m *Message) (*Joined, error) {
	return c.AddAt(m, c.now())
}

// AddAt adds a part that arrived at the given time (for parts read back
// from storage after a restart, so their timeout runs from their arrival).
func (c *Collector) AddAt(m *Message, at time.Time) (*Joined, error) {
	if m == nil {
		return nil, errors.New("pdu: collect: nil message")
	}
	cc, ok := m.UDH.Concat()
	if !ok {
		return Join([]*Message{m})
	}
	if err := checkConcat(cc); err != nil {
		return nil, err
	}
	if cc.Total == 1 {
		return Join([]*Message{m})
	}
	key := concatKey(m, cc)
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[key]
	if p != nil {
		if prev := p.parts[cc.Seq-1]; prev != nil {
			if samePart(prev, m) {
				return nil, nil
			}
			// The same key with other content: the sender has reused the
			// reference. Hand over the old message as it is and start anew.
			c.evicted = append(c.evicted, joinSeq(key, p.parts, p.total))
			p = nil
		}
	}
	if p == nil {
		p = &pendingMsg{first: at, total: cc.Total, parts: make([]*Message, cc.Total)}
		c.pending[key] = p
	}
	if at.Before(p.first) {
		p.first = at
	}
	p.parts[cc.Seq-1] = m
	for _, x := range p.parts {
		if x == nil {
			return nil, nil
		}
	}
	delete(c.pending, key)
	return joinSeq(key, p.parts, p.total), nil
}

// Expire hands over, incomplete, the messages whose first part arrived at
// least the timeout ago (oldest first), and any pushed out by a reused
// reference.
func (c *Collector) Expire() []*Joined {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	out := c.evicted
	c.evicted = nil
	type aged struct {
		key   string
		first time.Time
	}
	var due []aged
	for k, p := range c.pending {
		if now.Sub(p.first) >= c.timeout {
			due = append(due, aged{k, p.first})
		}
	}
	slices.SortFunc(due, func(a, b aged) int {
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	for _, d := range due {
		p := c.pending[d.key]
		delete(c.pending, d.key)
		out = append(out, joinSeq(d.key, p.parts, p.total))
	}
	return out
}

// Pending is the number of incomplete messages held.
func (c *Collector) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}
