package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
	bolt "go.etcd.io/bbolt"
)

// A user's view of their bulk sends (format 7). A bulk send's messages
// write no per-user index entries: one idx_user_batch entry per send holds
// the span of message IDs it wrote, and each recipient's Conversation
// record names the sender's last bulk message there (Conversation.Marketed).
// The listings below merge those into the per-user indexes (idx_user,
// idx_user_sent, uconv_all) at read time, newest first, so that a user sees
// the same lists as when every recipient had its entries.

// bulkSpan is one of a user's bulk sends: its batch and the IDs of its
// first and last messages.
type bulkSpan struct{ batch, first, last model.ID }

func decodeSpan(key, v []byte) bulkSpan {
	return bulkSpan{model.ID(getU64(key[8:16])), model.ID(getU64(v)), model.ID(getU64(v[8:16]))}
}

// spanOf finds u's bulk send whose span holds message id.
func spanOf(c *bolt.Cursor, u, id model.ID) (bulkSpan, bool) {
	prefix := u64(uint64(u))
	// Batch IDs are taken before their messages': the send holding id
	// is the last one of u with a batch ID below it.
	key, _ := c.Seek(k(prefix, u64(uint64(id))))
	var v []byte
	if key == nil {
		key, v = c.Last()
	} else {
		key, v = c.Prev()
	}
	if key == nil || !bytes.HasPrefix(key, prefix) || len(key) != 16 || len(v) != 16 {
		return bulkSpan{}, false
	}
	sp := decodeSpan(key, v)
	return sp, id >= sp.first && id <= sp.last
}

// msgHead is the part of a message record the listings of bulk sends
// look at.
type msgHead struct {
	ID        model.ID        `json:"id"`
	BatchID   model.ID        `json:"batch_id"`
	Direction model.Direction `json:"direction"`
	Number    string          `json:"number"`
	UserID    model.ID        `json:"user_id"`
	Marketing bool            `json:"marketing"`
}

// decodeHead reads a message record's head. Records as the encoder writes
// them (id, batch_id, direction and number first; user_id and marketing
// found by their keys, which cannot occur inside a JSON string, whose
// quotes are escaped) are read directly; anything else goes to
// json.Unmarshal (TestDecodeHeadAgrees).
func decodeHead(v []byte) (msgHead, error) {
	if h, ok := scanHead(v); ok {
		return h, nil
	}
	var h msgHead
	if err := json.Unmarshal(v, &h); err != nil {
		return h, fmt.Errorf("store: decode: %w", err)
	}
	return h, nil
}

func scanHead(v []byte) (msgHead, bool) {
	var h msgHead
	d := convDecoder{b: v}
	var ok bool
	if !d.lit(`{"id":`) {
		return h, false
	}
	if h.ID, ok = d.id(); !ok {
		return h, false
	}
	if d.lit(`,"batch_id":`) {
		if h.BatchID, ok = d.id(); !ok {
			return h, false
		}
	}
	if !d.lit(`,"direction":`) {
		return h, false
	}
	s, ok := d.str()
	if !ok {
		return h, false
	}
	switch string(s) {
	case string(model.Outgoing):
		h.Direction = model.Outgoing
	case string(model.Incoming):
		h.Direction = model.Incoming
	default:
		h.Direction = model.Direction(s)
	}
	if !d.lit(`,"number":`) {
		return h, false
	}
	if s, ok = d.str(); !ok {
		return h, false
	}
	h.Number = string(s)
	rest := d.b
	if i := bytes.Index(rest, []byte(`,"user_id":`)); i >= 0 {
		d.b = rest[i+len(`,"user_id":`):]
		if h.UserID, ok = d.id(); !ok {
			return h, false
		}
	}
	h.Marketing = bytes.Contains(rest, []byte(`,"marketing":true`))
	return h, true
}

// bulkOf reports whether h is a message of u's bulk send sp.
func (h *msgHead) bulkOf(u model.ID, sp bulkSpan) bool {
	return h.BatchID == sp.batch && h.UserID == u && h.Direction == model.Outgoing && h.Marketing
}

// bulkStream yields user u's bulk messages, newest first, strictly below
// before (0: from the newest).
type bulkStream struct {
	u, before model.ID
	bc, mc    *bolt.Cursor
	started   bool
	inSpan    bool
	span      bulkSpan
	err       error
}

func (tx *Tx) bulkStream(u, before model.ID) *bulkStream {
	return &bulkStream{u: u, before: before, bc: tx.b(bIdxUserBatch).Cursor(), mc: tx.b(bMessages).Cursor()}
}

func (s *bulkStream) next() (msgHead, bool) {
	prefix := u64(uint64(s.u))
	for s.err == nil {
		var mk, mv []byte
		if !s.inSpan {
			var key, v []byte
			if !s.started {
				s.started = true
				seek := prefixEnd(prefix)
				if s.before != 0 {
					seek = k(prefix, u64(uint64(s.before)))
				}
				if seek != nil {
					key, _ = s.bc.Seek(seek)
				}
				if key == nil {
					key, v = s.bc.Last()
				} else {
					key, v = s.bc.Prev()
				}
			} else {
				key, v = s.bc.Prev()
			}
			if key == nil || !bytes.HasPrefix(key, prefix) {
				return msgHead{}, false
			}
			if len(key) != 16 || len(v) != 16 {
				continue
			}
			s.span = decodeSpan(key, v)
			top := s.span.last
			if s.before != 0 && s.before-1 < top {
				top = s.before - 1
			}
			if top < s.span.first {
				continue
			}
			s.inSpan = true
			if mk, _ = s.mc.Seek(u64(uint64(top) + 1)); mk == nil {
				mk, mv = s.mc.Last()
			} else {
				mk, mv = s.mc.Prev()
			}
		} else {
			mk, mv = s.mc.Prev()
		}
		if mk == nil || model.ID(getU64(mk)) < s.span.first {
			s.inSpan = false
			continue
		}
		h, err := decodeHead(mv)
		if err != nil {
			s.err = err
			break
		}
		if h.bulkOf(s.u, s.span) {
			return h, true
		}
	}
	return msgHead{}, false
}

// idSource yields message IDs newest first.
type idSource func() (model.ID, bool, error)

// indexSource yields the IDs ending the keys of index with prefix, newest
// first, strictly below before (0: from the newest).
func (tx *Tx) indexSource(index, prefix []byte, before model.ID) idSource {
	c := tx.b(index).Cursor()
	started := false
	return func() (model.ID, bool, error) {
		var key []byte
		if !started {
			started = true
			var from []byte
			if before != 0 {
				from = k(prefix, u64(uint64(before)))
			}
			key = revStart(c, prefix, from)
		} else {
			key, _ = c.Prev()
		}
		if key == nil || !bytes.HasPrefix(key, prefix) || len(key) < len(prefix)+8 {
			return 0, false, nil
		}
		return model.ID(getU64(key[len(key)-8:])), true, nil
	}
}

func (s *bulkStream) source() idSource {
	return func() (model.ID, bool, error) {
		h, ok := s.next()
		return h.ID, ok, s.err
	}
}

// mergeNewest takes up to limit IDs from a and b, newest first.
func mergeNewest(limit int, a, b idSource) ([]model.ID, error) {
	var out []model.ID
	ha, oka, err := a()
	if err != nil {
		return nil, err
	}
	hb, okb, err := b()
	if err != nil {
		return nil, err
	}
	for (oka || okb) && len(out) < limit {
		if oka && (!okb || ha > hb) {
			out = append(out, ha)
			if ha, oka, err = a(); err != nil {
				return nil, err
			}
		} else {
			out = append(out, hb)
			if hb, okb, err = b(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (tx *Tx) messagesByID(ids []model.ID) ([]model.Message, error) {
	out := make([]model.Message, 0, len(ids))
	for _, id := range ids {
		m, err := tx.Message(id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// bulkInConversation yields u's bulk messages with number, newest first,
// from (inclusive) down: the conversation's messages (idx_conv) whose ID
// lies in one of u's bulk spans. When from is u's last bulk message there
// (Conversation.Marketed, so known to be one), it is yielded without a
// look: a list row of an outgoing_only user needs only that one.
func (tx *Tx) bulkInConversation(u model.ID, number string, from model.ID, fromIsLast bool) idSource {
	if from == 0 {
		return func() (model.ID, bool, error) { return 0, false, nil }
	}
	var merged idSource
	return func() (model.ID, bool, error) {
		if merged == nil {
			top := from
			if fromIsLast {
				top = from - 1
			}
			merged = mergeSources(tx.filedBulkIn(u, number, top+1), tx.unfiledSource(number, u, top+1))
			if fromIsLast {
				return from, true, nil
			}
		}
		return merged()
	}
}

// mergeSources yields what a and b yield, newest first.
func mergeSources(a, b idSource) idSource {
	var ha, hb model.ID
	var oka, okb, started bool
	return func() (model.ID, bool, error) {
		var err error
		if !started {
			started = true
			if ha, oka, err = a(); err != nil {
				return 0, false, err
			}
			if hb, okb, err = b(); err != nil {
				return 0, false, err
			}
		}
		switch {
		case oka && (!okb || ha > hb):
			id := ha
			ha, oka, err = a()
			return id, true, err
		case okb:
			id := hb
			hb, okb, err = b()
			return id, true, err
		}
		return 0, false, nil
	}
}

// filedBulkIn yields u's filed bulk messages with number, newest first,
// strictly below before: the conversation's messages (idx_conv) whose ID
// lies in one of u's bulk spans.
func (tx *Tx) filedBulkIn(u model.ID, number string, before model.ID) idSource {
	conv := tx.indexSource(bIdxConv, str(number), before)
	bc := tx.b(bIdxUserBatch).Cursor()
	return func() (model.ID, bool, error) {
		for {
			id, ok, _ := conv()
			if !ok {
				return 0, false, nil
			}
			sp, in := spanOf(bc, u, id)
			if !in {
				continue
			}
			v := tx.get(bMessages, u64(uint64(id)))
			if v == nil {
				continue
			}
			h, err := decodeHead(v)
			if err != nil {
				return 0, false, err
			}
			if h.bulkOf(u, sp) {
				return id, true, nil
			}
		}
	}
}

// lastBulkIn is u's newest bulk message with number below before (0:
// none).
func (tx *Tx) lastBulkIn(u model.ID, number string, before model.ID) model.ID {
	if before <= 1 {
		return 0
	}
	id, ok, err := tx.bulkInConversation(u, number, before-1, false)()
	if err != nil || !ok {
		return 0
	}
	return id
}

// marketedIn is u's last bulk message in the conversation with number (0:
// none; ok false: no such conversation), read without copying the record.
func (tx *Tx) marketedIn(number string, u model.ID) (last model.ID, ok bool) {
	last, ok = tx.filedMarketedIn(number, u)
	// u's unfiled bulk messages there are newer than any filed one of
	// the same send, and a later send's are newer still.
	if ids := tx.unfiledIn(number, u); len(ids) > 0 {
		last, ok = max(last, ids[len(ids)-1]), true
	}
	return last, ok
}

// filedMarketedIn is marketedIn from the conversation record alone.
func (tx *Tx) filedMarketedIn(number string, u model.ID) (last model.ID, ok bool) {
	raw := tx.get(bConversations, []byte(number))
	if raw == nil {
		return 0, false
	}
	var c Conversation
	if decodeConversation(raw, &c, number, tx.convUsers, tx.convMarketed) {
		tx.convUsers, tx.convMarketed = c.Users[:0], c.Marketed[:0]
		return c.marketedBy(u), true
	}
	if err := unmarshal(raw, &c); err != nil {
		return 0, false
	}
	return c.marketedBy(u), true
}
