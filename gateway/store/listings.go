package store

import (
	"encoding/json"
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
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

// ConversationMessages lists the messages with number, newest first.
func (tx *Tx) ConversationMessages(number string, p Page) ([]model.Message, error) {
	return tx.messagesFromIndex(bIdxConv, str(number), p, nil)
}

// UserSentMessages lists the messages user u sent to number, newest first.
func (tx *Tx) UserSentMessages(u model.ID, number string, p Page) ([]model.Message, error) {
	return tx.messagesFromIndex(bIdxUserSent, k(u64(uint64(u)), str(number)), p, nil)
}

// UserMessages lists the messages associated with user u, newest first;
// without marketing messages when plain is set.
func (tx *Tx) UserMessages(u model.ID, plain bool, p Page) ([]model.Message, error) {
	b := bIdxUser
	if plain {
		b = bIdxUserNoMkt
	}
	return tx.messagesFromIndex(b, u64(uint64(u)), p, nil)
}

// MessagesByState lists messages in state s, newest first.
func (tx *Tx) MessagesByState(s model.State, p Page) ([]model.Message, error) {
	code, ok := stateCode[s]
	if !ok {
		return nil, fmt.Errorf("store: unknown state %q", s)
	}
	return tx.messagesFromIndex(bIdxMsgState, []byte{code}, p, nil)
}

// AllMessages lists every message, newest first.
func (tx *Tx) AllMessages(p Page) ([]model.Message, error) {
	return tx.messagesFromIndex(bMessages, nil, p, nil)
}

// BatchMessages lists the messages of one Send in recipient order.
func (tx *Tx) BatchMessages(batch model.ID) ([]model.Message, error) {
	var out []model.Message
	var err error
	fwdScan(tx.b(bBatches), u64(uint64(batch)), nil, func(key, _ []byte) bool {
		var m model.Message
		if m, err = tx.Message(model.ID(getU64(key[8:]))); err != nil {
			return false
		}
		out = append(out, m)
		return true
	})
	return out, err
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
func (tx *Tx) UserConversations(u model.ID, plain bool, cursor []byte, limit int) []ConvRef {
	b, prefix := bUConvAll, u64(uint64(u))
	if plain {
		b = bUConvNoMkt
	}
	if limit <= 0 {
		limit = 50
	}
	var out []ConvRef
	revScan(tx.b(b), prefix, cursor, func(key, _ []byte) bool {
		rest := key[8:]
		if plain {
			rest = rest[1:]
		}
		out = append(out, ConvRef{Number: string(rest[8:]), SortID: model.ID(getU64(rest[:8])), Cursor: clone(key)})
		return len(out) < limit
	})
	return out
}

// UnassignedConversations lists the conversations in the unassigned inbox,
// most recent first.
func (tx *Tx) UnassignedConversations(cursor []byte, limit int) []ConvRef {
	return tx.convsByLast(bUnassignedTime, cursor, limit)
}

// RecentConversations lists every conversation by its last message, most
// recent first.
func (tx *Tx) RecentConversations(cursor []byte, limit int) []ConvRef {
	return tx.convsByLast(bIdxConvLast, cursor, limit)
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
func (tx *Tx) AllConversations(fn func(Conversation) bool) error {
	var err error
	c := tx.b(bConversations).Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		var conv Conversation
		if err = unmarshal(v, &conv); err != nil {
			return err
		}
		if !fn(conv) {
			break
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
// with (a range scan of the user's entries), until fn returns false.
func (tx *Tx) UserConvNumbers(u model.ID, fn func(number string) bool) {
	fwdScan(tx.b(bUConv), u64(uint64(u)), nil, func(key, _ []byte) bool {
		return fn(string(key[8:]))
	})
}
