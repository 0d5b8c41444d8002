package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gsmgate/gsmgate/gateway/model"
	bolt "go.etcd.io/bbolt"
)

func unmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}

// Page bounds a listing: Limit rows (default 50, at most 1000) strictly
// before the cursor Before (the zero ID: from the newest).
type Page struct {
	Before model.ID
	Limit  int
}

func (p Page) limit() int {
	switch {
	case p.Limit <= 0:
		return 50
	case p.Limit > 1000:
		return 1000
	}
	return p.Limit
}

// messagesFromIndex loads the messages whose ID ends each index key, newest
// first, skipping those skip rejects (skip may be nil).
func (tx *Tx) messagesFromIndex(name, prefix []byte, p Page, skip func(*model.Message) bool) ([]model.Message, error) {
	var before []byte
	if p.Before != 0 {
		before = k(prefix, u64(uint64(p.Before)))
	}
	var out []model.Message
	var err error
	n := p.limit()
	revScan(tx.b(name), prefix, before, func(key, _ []byte) bool {
		id := model.ID(getU64(key[len(key)-8:]))
		var m model.Message
		if m, err = tx.Message(id); err != nil {
			return false
		}
		if skip != nil && skip(&m) {
			return true
		}
		out = append(out, m)
		return len(out) < n
	})
	return out, err
}

// ConversationMessages lists the messages with number, newest first
// (idx_conv merged with the unfiled bulk messages there).
func (tx *Tx) ConversationMessages(number string, p Page) ([]model.Message, error) {
	ids, err := mergeNewest(p.limit(), tx.indexSource(bIdxConv, str(number), p.Before), tx.unfiledSource(number, 0, p.Before))
	if err != nil {
		return nil, err
	}
	return tx.messagesByID(ids)
}

// UserSentMessages lists the messages user u sent to number, newest first:
// idx_user_sent merged with u's bulk messages there.
func (tx *Tx) UserSentMessages(u model.ID, number string, p Page) ([]model.Message, error) {
	// u's newest bulk message there, below the page's cursor
	from, _ := tx.marketedIn(number, u)
	isLast := true
	if p.Before != 0 && from >= p.Before {
		from, isLast = p.Before-1, false
	}
	ids, err := mergeNewest(p.limit(), tx.indexSource(bIdxUserSent, k(u64(uint64(u)), str(number)), p.Before),
		tx.bulkInConversation(u, number, from, isLast))
	if err != nil {
		return nil, err
	}
	return tx.messagesByID(ids)
}

// LastSentMessage is the newest message user u sent to number, bulk sends
// included (ok false: none): an outgoing_only user's list row.
func (tx *Tx) LastSentMessage(u model.ID, number string) (model.Message, bool, error) {
	prefix := k(u64(uint64(u)), str(number))
	var best model.ID
	if key := revStart(tx.b(bIdxUserSent).Cursor(), prefix, nil); key != nil && bytes.HasPrefix(key, prefix) {
		best = model.ID(getU64(key[len(key)-8:]))
	}
	if mk, _ := tx.marketedIn(number, u); mk > best {
		best = mk
	}
	if best == 0 {
		return model.Message{}, false, nil
	}
	m, err := tx.Message(best)
	return m, err == nil, err
}

// UserMessages lists the messages associated with user u, newest first;
// without marketing messages (u's bulk sends) when plain is set.
func (tx *Tx) UserMessages(u model.ID, plain bool, p Page) ([]model.Message, error) {
	if plain {
		return tx.messagesFromIndex(bIdxUser, u64(uint64(u)), p, nil)
	}
	ids, err := mergeNewest(p.limit(), tx.indexSource(bIdxUser, u64(uint64(u)), p.Before), tx.bulkStream(u, p.Before).source())
	if err != nil {
		return nil, err
	}
	return tx.messagesByID(ids)
}

// MessagesByState lists messages in state s, newest first.
func (tx *Tx) MessagesByState(s model.State, p Page) ([]model.Message, error) {
	code, ok := stateCode[s]
	if !ok {
		return nil, fmt.Errorf("store: unknown state %q", s)
	}
	if s == model.StateQueued {
		return tx.queuedMessages(p)
	}
	return tx.messagesFromIndex(bIdxMsgState, []byte{code}, p, nil)
}

// queuedMessages is MessagesByState for queued messages: those of idx_lane
// (every queued part) whose state is queued. It reads the whole outbox
// index, which holds only what waits to be sent.
func (tx *Tx) queuedMessages(p Page) ([]model.Message, error) {
	var ids []model.ID
	var err error
	fwdScan(tx.b(bIdxLane), nil, nil, func(key, _ []byte) bool {
		if isTailKey(key) {
			var tail []model.ID
			if tail, err = tx.tailIDs(key, 0); err != nil {
				return false
			}
			for _, id := range tail {
				if p.Before == 0 || id < p.Before {
					ids = append(ids, id)
				}
			}
			return true
		}
		if id := model.ID(getU64(key[17:25])); p.Before == 0 || id < p.Before {
			ids = append(ids, id)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []model.Message
	for i := len(ids) - 1; i >= 0 && len(out) < p.limit(); i-- {
		m, err := tx.Message(ids[i])
		if err != nil {
			return nil, err
		}
		if m.State == model.StateQueued {
			out = append(out, m)
		}
	}
	return out, nil
}

// AllMessages lists every message, newest first.
func (tx *Tx) AllMessages(p Page) ([]model.Message, error) {
	return tx.messagesFromIndex(bMessages, nil, p, nil)
}

// BatchMessages lists the messages of one Send in recipient order: the
// run of messages that follows the batch's ID (see InsertMessage).
func (tx *Tx) BatchMessages(batch model.ID) ([]model.Message, error) {
	var out []model.Message
	c := tx.b(bMessages).Cursor()
	for key, v := c.Seek(u64(uint64(batch) + 1)); key != nil; key, v = c.Next() {
		var m model.Message
		if err := tx.decodeMessage(v, &m); err != nil {
			return nil, err
		}
		if m.BatchID != batch {
			break
		}
		out = append(out, m)
	}
	return out, nil
}

// BatchStates calls fn with the ID and state of each message of one Send,
// in recipient order, until fn returns false. It reads each record's state
// in place (scanState): a bulk send's progress, read each second while its
// page is open, would otherwise decode 10,000 whole messages each time.
func (tx *Tx) BatchStates(batch model.ID, fn func(id model.ID, st model.State) bool) error {
	c := tx.b(bMessages).Cursor()
	for key, v := c.Seek(u64(uint64(batch) + 1)); key != nil; key, v = c.Next() {
		b, st, ok := scanState(v)
		if !ok {
			var m model.Message
			if err := tx.decodeMessage(v, &m); err != nil {
				return err
			}
			b, st = m.BatchID, m.State
		}
		if b != batch {
			return nil
		}
		if !fn(model.ID(getU64(key)), st) {
			return nil
		}
	}
	return nil
}

// knownStates are the states a message record holds.
var knownStates = [...]model.State{model.StateQueued, model.StateSubmitting, model.StateSent, model.StateDelivered,
	model.StateFailed, model.StateUnknown, model.StateCancelled, model.StateExpired}

// scanState reads a message record's batch and state as the encoder
// writes them: id and batch_id first, then, after the text (a JSON string
// cannot hold `,"`: its quotes are escaped), parts and state side by side.
// ok is false for anything else (TestScanStateAgrees).
func scanState(v []byte) (batch model.ID, st model.State, ok bool) {
	d := convDecoder{b: v}
	if !d.lit(`{"id":`) {
		return 0, "", false
	}
	if _, ok = d.id(); !ok {
		return 0, "", false
	}
	if d.lit(`,"batch_id":`) {
		if batch, ok = d.id(); !ok {
			return 0, "", false
		}
	}
	i := bytes.Index(d.b, []byte(`,"parts":`))
	if i < 0 {
		return 0, "", false
	}
	d.b = d.b[i+len(`,"parts":`):]
	if _, ok = d.int(); !ok || !d.lit(`,"state":`) {
		return 0, "", false
	}
	s, ok := d.str()
	if !ok {
		return 0, "", false
	}
	for _, known := range knownStates {
		if string(s) == string(known) {
			return batch, known, true // (the constant: no string per record)
		}
	}
	return batch, model.State(s), true
}

// ConvRef is one row of a conversation listing: the number and the message
// that places it in the order. Cursor continues the listing after it.
type ConvRef struct {
	Number string
	SortID model.ID
	Cursor []byte
}

// UserConversations lists user u's conversations, most recent first, by
// their last message (marketing ignored when plain is set, conversations
// with only marketing then last). Pass the last row's Cursor to continue.
//
// uconv_all orders them by u's last message that is not marketing; u's
// bulk sends (idx_user_batch) are merged in: with marketing, a bulk
// message places its conversation when it is u's last bulk message there
// (Conversation.Marketed) and newer than the last other one; without, the
// conversations holding only u's bulk messages follow the others.
func (tx *Tx) UserConversations(u model.ID, plain bool, cursor []byte, limit int) []ConvRef {
	if limit <= 0 {
		limit = 50
	}
	prefix := u64(uint64(u))
	if plain {
		return tx.userConvsPlain(u, cursor, limit)
	}
	var before []byte // a uconv_all key: u | id | number
	var beforeID model.ID
	if len(cursor) >= 16 && bytes.HasPrefix(cursor, prefix) {
		before, beforeID = cursor, model.ID(getU64(cursor[8:16]))
	}
	var out []ConvRef
	pc := tx.b(bUConvAll).Cursor()
	pk := revStart(pc, prefix, before)
	bulk := tx.bulkStream(u, beforeID)
	bh, bok := bulk.next()
	for len(out) < limit && ((pk != nil && bytes.HasPrefix(pk, prefix)) || bok) {
		if pk != nil && bytes.HasPrefix(pk, prefix) && (!bok || model.ID(getU64(pk[8:16])) > bh.ID) {
			id, number := model.ID(getU64(pk[8:16])), string(pk[16:])
			if mk, ok := tx.marketedIn(number, u); !ok || mk < id {
				out = append(out, ConvRef{Number: number, SortID: id, Cursor: clone(pk)})
			}
			pk, _ = pc.Prev()
			continue
		}
		if mk, ok := tx.marketedIn(bh.Number, u); ok && mk == bh.ID {
			var uc UserConv
			if err := tx.getRecord(bUConv, k(prefix, []byte(bh.Number)), &uc); err != nil || uc.LastPlain < bh.ID {
				out = append(out, ConvRef{Number: bh.Number, SortID: bh.ID, Cursor: uconvAllKey(u, bh.ID, bh.Number)})
			}
		}
		bh, bok = bulk.next()
	}
	return out
}

// userConvsPlain is UserConversations with marketing ignored. Its cursors
// are u | u8(1) | id | number in the first part (uconv_all) and u | u8(0)
// | id | number in the second (conversations with only u's bulk sends).
func (tx *Tx) userConvsPlain(u model.ID, cursor []byte, limit int) []ConvRef {
	prefix := u64(uint64(u))
	var out []ConvRef
	tail := false
	var tailBefore model.ID
	if len(cursor) >= 17 && bytes.HasPrefix(cursor, prefix) && cursor[8] == 0 {
		tail, tailBefore = true, model.ID(getU64(cursor[9:17]))
	}
	if !tail {
		var before []byte
		if len(cursor) >= 17 && bytes.HasPrefix(cursor, prefix) {
			before = k(prefix, cursor[9:])
		}
		revScan(tx.b(bUConvAll), prefix, before, func(key, _ []byte) bool {
			out = append(out, ConvRef{Number: string(key[16:]), SortID: model.ID(getU64(key[8:16])),
				Cursor: k(prefix, []byte{1}, key[8:])})
			return len(out) < limit
		})
		if len(out) >= limit {
			return out
		}
	}
	bulk := tx.bulkStream(u, tailBefore)
	for h, ok := bulk.next(); ok && len(out) < limit; h, ok = bulk.next() {
		if mk, ok := tx.marketedIn(h.Number, u); !ok || mk != h.ID || tx.get(bUConv, k(prefix, []byte(h.Number))) != nil {
			continue
		}
		out = append(out, ConvRef{Number: h.Number, SortID: h.ID, Cursor: k(prefix, []byte{0}, u64(uint64(h.ID)), []byte(h.Number))})
	}
	return out
}

// revStart places c on the last key with prefix strictly below before
// (nil: the last key with prefix) and returns it (nil or a key without
// the prefix when there is none).
func revStart(c *bolt.Cursor, prefix, before []byte) []byte {
	seek := before
	if seek == nil {
		seek = prefixEnd(prefix)
	}
	var key []byte
	if seek != nil {
		key, _ = c.Seek(seek)
	}
	if key == nil {
		key, _ = c.Last()
	} else {
		key, _ = c.Prev()
	}
	return key
}

// UnassignedConversations lists the conversations in the unassigned inbox,
// most recent first.
func (tx *Tx) UnassignedConversations(cursor []byte, limit int) []ConvRef {
	return tx.convsByLast(bUnassignedTime, cursor, limit)
}

// RecentConversations lists every conversation by its last message, most
// recent first. A conversation whose last message is an unfiled bulk
// message (unfiled.go) is placed by it: the filed conversations
// (idx_conv_last) and each send's unfiled messages, newest first, are
// merged a row at a time, and a row is checked (is it its conversation's
// last message?) only when it would be shown, so that a page costs what it
// shows, not the size of the sends waiting.
func (tx *Tx) RecentConversations(cursor []byte, limit int) []ConvRef {
	if !tx.anyUnfiled() {
		return tx.convsByLast(bIdxConvLast, cursor, limit)
	}
	if limit <= 0 {
		limit = 50
	}
	var sends []unfiledSend
	_ = tx.unfiledSends(func(s *unfiledSend) bool { sends = append(sends, *s); return true })
	streams := []*recentStream{tx.filedRecent(sends, cursor)}
	for i := range sends {
		streams = append(streams, tx.unfiledRecent(sends, i, cursor))
	}
	var out []ConvRef
	for len(out) < limit {
		var best *recentStream
		for _, st := range streams {
			if st.ok && (best == nil || st.id > best.id) {
				best = st
			}
		}
		if best == nil {
			break
		}
		if best.last() {
			out = append(out, ConvRef{Number: string(best.number), SortID: best.id, Cursor: k(u64(uint64(best.id)), best.number)})
		}
		best.advance()
	}
	return out
}

// recentStream is one source of RecentConversations' candidate rows,
// newest first: the current one (id, number; valid for the transaction)
// while ok. last reports whether it is its conversation's last message.
type recentStream struct {
	id      model.ID
	number  []byte
	ok      bool
	advance func()
	last    func() bool
}

// newestUnfiledFor is the newest unfiled message to number among sends (0:
// none).
func newestUnfiledFor(sends []unfiledSend, slot [unfiledSlot]byte) model.ID {
	var newest model.ID
	for i := range sends {
		s := &sends[i]
		// (a number's entries are in ID order: its last is its newest)
		if lo, hi := s.findSlot(slot); lo < hi {
			if id := s.idAt(hi - 1); id >= s.head.next {
				newest = max(newest, id)
			}
		}
	}
	return newest
}

// filedRecent yields idx_conv_last's rows below cursor; a row is the last
// message unless its number has a newer unfiled message.
func (tx *Tx) filedRecent(sends []unfiledSend, cursor []byte) *recentStream {
	st := &recentStream{}
	c := tx.b(bIdxConvLast).Cursor()
	key := revStart(c, nil, cursor)
	st.advance = func() {
		for ; key != nil && len(key) < 8; key, _ = c.Prev() {
		}
		st.ok = key != nil
		if st.ok {
			st.id, st.number = model.ID(getU64(key[:8])), key[8:]
			key, _ = c.Prev()
		}
	}
	st.last = func() bool {
		return len(st.number) > unfiledSlot || newestUnfiledFor(sends, unfiledNumber(st.number)) < st.id
	}
	st.advance()
	return st
}

// unfiledRecent yields the unfiled messages of sends[i] below cursor,
// newest first; one is the last message when no newer message, unfiled
// or filed, went to its number.
func (tx *Tx) unfiledRecent(sends []unfiledSend, i int, cursor []byte) *recentStream {
	st := &recentStream{}
	s := &sends[i]
	from := s.head.last
	if cursor != nil {
		var top [8]byte
		copy(top[:], cursor) // (a row's ID is its cursor's first 8 bytes)
		if at := model.ID(getU64(top[:])); at == 0 {
			st.advance, st.last = func() {}, func() bool { return false }
			return st // nothing below
		} else if at <= from {
			from = at - 1 // (one message, one row: the cursor's own row is not below it)
		}
	}
	c := tx.b(bMessages).Cursor()
	key, v := c.Seek(u64(uint64(from)))
	if key == nil || model.ID(getU64(key)) > from {
		key, v = c.Prev()
	}
	st.advance = func() {
		for ; key != nil; key, v = c.Prev() {
			id := model.ID(getU64(key))
			if id < s.head.next {
				break
			}
			number, err := recordNumber(v)
			if err != nil || len(number) > unfiledSlot || !s.holdsSlot(unfiledNumber(number), id) {
				continue
			}
			st.id, st.number, st.ok = id, number, true
			key, v = c.Prev()
			return
		}
		st.ok = false
	}
	var users []model.ID
	var marketed []Marketed
	st.last = func() bool {
		if newestUnfiledFor(sends, unfiledNumber(st.number)) != st.id {
			return false
		}
		raw := tx.get(bConversations, st.number)
		if raw == nil {
			return true
		}
		var conv Conversation
		if decodeConversation(raw, &conv, "", users, marketed) {
			users, marketed = conv.Users, conv.Marketed
		} else if unmarshal(raw, &conv) != nil {
			return false
		}
		return conv.LastMessageID < st.id // (else a newer filed message places it)
	}
	st.advance()
	return st
}

// convsByLast lists a u64(lastMessageID) | number index, newest first.
func (tx *Tx) convsByLast(index, cursor []byte, limit int) []ConvRef {
	if limit <= 0 {
		limit = 50
	}
	var out []ConvRef
	revScan(tx.b(index), nil, cursor, func(key, _ []byte) bool {
		out = append(out, ConvRef{Number: string(key[8:]), SortID: model.ID(getU64(key[:8])), Cursor: clone(key)})
		return len(out) < limit
	})
	return out
}

// IsUnassigned reports whether the conversation with number is in the
// unassigned inbox.
func (tx *Tx) IsUnassigned(number string) bool {
	return tx.b(bUnassigned).Get([]byte(number)) != nil
}

// AllConversations lists every conversation by number (a full scan of the
// conversations bucket: for admins' search and tools, not the main listing).
//
// Conversations with unfiled bulk messages (unfiled.go) are given as
// ConversationView sees them, in their place.
func (tx *Tx) AllConversations(fn func(Conversation) bool) error {
	newest, err := tx.newestUnfiled()
	if err != nil {
		return err
	}
	// the numbers with only unfiled messages, in order
	var only []string
	for number := range newest {
		if tx.get(bConversations, []byte(number)) == nil {
			only = append(only, number)
		}
	}
	slices.Sort(only)
	view := func(number string) (bool, error) {
		conv, err := tx.ConversationView(number)
		if err != nil {
			return false, err
		}
		return fn(conv), nil
	}
	c := tx.b(bConversations).Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		for len(only) > 0 && only[0] < string(key) {
			if more, err := view(only[0]); err != nil || !more {
				return err
			}
			only = only[1:]
		}
		if _, ok := newest[string(key)]; ok {
			if more, err := view(string(key)); err != nil || !more {
				return err
			}
			continue
		}
		var conv Conversation
		if err = unmarshal(v, &conv); err != nil {
			return err
		}
		if !fn(conv) {
			return nil
		}
	}
	for _, number := range only {
		if more, err := view(number); err != nil || !more {
			return err
		}
	}
	return nil
}

// FailureRef is one row of the failures listing.
type FailureRef struct {
	Message model.Message
	Cursor  []byte
}

// Failures lists failed, unknown and expired outgoing messages that were
// not dismissed, newest failure first.
func (tx *Tx) Failures(cursor []byte, limit int) ([]FailureRef, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []FailureRef
	var err error
	revScan(tx.b(bIdxFailures), nil, cursor, func(key, _ []byte) bool {
		var m model.Message
		if m, err = tx.Message(model.ID(getU64(key[8:]))); err != nil {
			return false
		}
		out = append(out, FailureRef{Message: m, Cursor: clone(key)})
		return len(out) < limit
	})
	return out, err
}

// UserConvNumbers calls fn with every number user u has a conversation
// with (a range scan of the user's entries, then the numbers of u's bulk
// sends not seen there), until fn returns false.
func (tx *Tx) UserConvNumbers(u model.ID, fn func(number string) bool) {
	seen := map[string]bool{}
	stop := false
	fwdScan(tx.b(bUConv), u64(uint64(u)), nil, func(key, _ []byte) bool {
		seen[string(key[8:])] = true
		stop = !fn(string(key[8:]))
		return !stop
	})
	if stop {
		return
	}
	bulk := tx.bulkStream(u, 0)
	for h, ok := bulk.next(); ok; h, ok = bulk.next() {
		if seen[h.Number] {
			continue
		}
		seen[h.Number] = true
		if !fn(h.Number) {
			return
		}
	}
}
