package store

import (
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// The message event log (bucket message_events, schema.go). The bus tells
// subscribers what happened after the commit and may drop or lose it (a
// full buffer, a crash between the commit and the subscriber); this log is
// committed with the change, so a consumer that reads it cannot miss an
// event. putMessage writes it: every write of a message passes there.

// MessageEvent is one entry of the message event log.
type MessageEvent struct {
	// ID is the entry's key, from NewID in the writing transaction.
	ID model.ID `json:"id"`
	// At is when the change was committed (the store's clock).
	At time.Time `json:"at"`
	// Previous is the message's state before the change; empty for an
	// incoming message just stored.
	Previous model.State `json:"previous,omitempty"`
	// Message is the message as written (without its raw PDUs).
	Message model.Message `json:"message"`
}

// Received reports whether the entry is an incoming message being stored.
func (e MessageEvent) Received() bool {
	return e.Previous == "" && e.Message.Direction == model.Incoming
}

// logMessageEvent records, with the write of m (old is its previous
// version, nil for a new message), what subscribers must hear of: an
// incoming message stored, or a message reaching a state other than
// queued and submitting (those are progress, not outcomes, and would only
// make the log longer). Nothing is recorded while no webhook is
// registered: an event from before a webhook existed is not delivered to it.
func (tx *Tx) logMessageEvent(old, m *model.Message) error {
	switch {
	case old == nil && m.Direction == model.Incoming:
	case old != nil && old.State != m.State && m.State != model.StateQueued && m.State != model.StateSubmitting:
	default:
		return nil
	}
	if k, _ := tx.b(bWebhooks).Cursor().First(); k == nil {
		return nil
	}
	e := MessageEvent{ID: tx.NewID(), At: tx.Now(), Message: *m}
	if old != nil {
		e.Previous = old.State
	}
	e.Message.RawPDUs = nil
	if err := putJSON(tx.b(bMessageEvents), u64(uint64(e.ID)), &e); err != nil {
		return fmt.Errorf("store: log event of message %s: %w", e.Message.ID, err)
	}
	return nil
}

// MessageEvents returns up to limit entries of the log, oldest first, and
// the ID of the last entry it read (zero when the log is empty). Entries
// that do not decode are counted in bad and left out, so that one damaged
// entry does not hold up those behind it: DeleteMessageEvents(last) removes
// it with the others.
func (tx *Tx) MessageEvents(limit int) (es []MessageEvent, last model.ID, bad int) {
	if limit <= 0 {
		limit = 100
	}
	c := tx.b(bMessageEvents).Cursor()
	for key, v := c.First(); key != nil && len(es)+bad < limit; key, v = c.Next() {
		last = model.ID(getU64(key))
		var e MessageEvent
		if err := unmarshal(v, &e); err != nil {
			bad++
			continue
		}
		e.ID = last
		es = append(es, e)
	}
	return es, last, bad
}

// HasMessageEvents reports whether the log holds an entry (one cursor
// step: a consumer's cheap check before it takes the write lock).
func (tx *Tx) HasMessageEvents() bool {
	k, _ := tx.b(bMessageEvents).Cursor().First()
	return k != nil
}

// MessageEventCount counts the entries not consumed yet.
func (tx *Tx) MessageEventCount() int {
	return tx.b(bMessageEvents).Stats().KeyN
}

// DeleteMessageEvents deletes the entries up to and including through, and
// says how many there were.
func (tx *Tx) DeleteMessageEvents(through model.ID) (int, error) {
	b := tx.b(bMessageEvents)
	var keys [][]byte
	c := b.Cursor()
	for key, _ := c.First(); key != nil && model.ID(getU64(key)) <= through; key, _ = c.Next() {
		keys = append(keys, clone(key))
	}
	for _, key := range keys {
		if err := b.Delete(key); err != nil {
			return 0, fmt.Errorf("store: delete message event: %w", err)
		}
	}
	return len(keys), nil
}
