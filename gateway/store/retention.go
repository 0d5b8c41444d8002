package store

import (
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// IDAt is the smallest ID made at or after t: IDs below it are older.
func IDAt(t time.Time) model.ID { return model.IDAt(t) }

// PurgeResult counts what one PurgeBatch removed.
type PurgeResult struct {
	Messages, DedupKeys, IdempotencyKeys, Deliveries, Notifications int
	// MessageEvents counts unconsumed message events older than the
	// cutoff (see bucket message_events).
	MessageEvents int
	// Spans counts idx_user_batch entries dropped: bulk sends older than
	// the cutoff none of whose messages is left.
	Spans int
	// Next resumes the walk over messages (messages not yet final are
	// skipped, not deleted); zero when the walk reached the cutoff.
	Next model.ID
}

// PurgeBatch deletes, in one short write transaction, at most max records
// older than cutoff: messages in a final state (or sent, or incoming)
// created before cutoff, starting at ID from, then finished webhook
// deliveries, then message events nobody consumed. Call it repeatedly (passing Next) so that the
// dispatcher and readers get the database between batches.
func (db *DB) PurgeBatch(cutoff time.Time, from model.ID, max int) (PurgeResult, error) {
	if max <= 0 {
		max = 500
	}
	var r PurgeResult
	err := db.Update(func(tx *Tx) error {
		r = PurgeResult{}
		var err error
		end := IDAt(cutoff)
		var ids []model.ID
		// Messages that are not final (queued for a send-at far ahead, or
		// stuck while every modem is down) are skipped, not deleted; the
		// walk over them is bounded too, so one batch stays short however
		// many there are.
		scanned := 0
		c := tx.b(bMessages).Cursor()
		key, v := c.Seek(u64(uint64(from)))
		for ; key != nil && len(ids) < max && scanned < 4*max; key, v = c.Next() {
			scanned++
			id := model.ID(getU64(key))
			if id >= end {
				key = nil
				break
			}
			var m model.Message
			if err := unmarshal(v, &m); err != nil {
				return err
			}
			if m.State.Final() || m.State == model.StateSent || m.Direction == model.Incoming {
				ids = append(ids, id)
			}
			r.Next = id + 1
		}
		if key == nil {
			r.Next = 0
		}
		for _, id := range ids {
			if err := tx.DeleteMessage(id); err != nil {
				return err
			}
		}
		r.Messages = len(ids)
		if r.Spans, err = tx.purgeEmptySpans(end, max); err != nil {
			return err
		}
		budget := max - len(ids)
		// Finished deliveries: their IDs sort by creation time.
		var dels [][]byte
		dc := tx.b(bWebhookDeliveries).Cursor()
		for key, v := dc.First(); key != nil && len(dels) < budget && model.ID(getU64(key)) < end; key, v = dc.Next() {
			var d model.WebhookDelivery
			if err := unmarshal(v, &d); err != nil {
				return err
			}
			if d.State != model.DeliveryPending {
				dels = append(dels, clone(key))
			}
		}
		for _, key := range dels {
			if err := tx.deleteDelivery(model.ID(getU64(key))); err != nil {
				return err
			}
		}
		r.Deliveries = len(dels)
		// Message events older than the cutoff that nobody consumed (no
		// webhook sender ran all that time): a backstop so the log cannot
		// grow without bound; a running sender empties it within a second.
		var evs [][]byte
		ec := tx.b(bMessageEvents).Cursor()
		for key, _ := ec.First(); key != nil && len(evs) < budget-len(dels) && model.ID(getU64(key)) < end; key, _ = ec.Next() {
			evs = append(evs, clone(key))
		}
		for _, key := range evs {
			if err := tx.b(bMessageEvents).Delete(key); err != nil {
				return err
			}
		}
		r.MessageEvents = len(evs)
		return nil
	})
	return r, err
}

// purgeEmptySpans drops, looking at no more than max, the idx_user_batch
// entries of bulk sends that ended before end and have no message left (one
// Seek each), so that the listings do not walk the spans of sends retention
// emptied.
func (tx *Tx) purgeEmptySpans(end model.ID, max int) (int, error) {
	var drop [][]byte
	mc := tx.b(bMessages).Cursor()
	looked := 0
	c := tx.b(bIdxUserBatch).Cursor()
	// (one entry per bulk send: a walk over all of them is short)
	for key, v := c.First(); key != nil && looked < max; key, v = c.Next() {
		if len(key) != 16 || len(v) != 16 {
			continue
		}
		sp := decodeSpan(key, v)
		if sp.last >= end {
			continue
		}
		looked++
		if mk, _ := mc.Seek(u64(uint64(sp.first))); mk == nil || model.ID(getU64(mk)) > sp.last {
			drop = append(drop, clone(key))
		}
	}
	for _, key := range drop {
		if err := tx.b(bIdxUserBatch).Delete(key); err != nil {
			return 0, err
		}
	}
	return len(drop), nil
}

// PurgeNotifications deletes, in one write transaction, at most max
// notifications made before cutoff, over all users. They are kept until
// cleared, but not past the retention of the messages they are about: a
// user who never clears them must not grow the file without bound.
func (db *DB) PurgeNotifications(cutoff time.Time, max int) (int, error) {
	if max <= 0 {
		max = 500
	}
	end := IDAt(cutoff)
	n := 0
	err := db.Update(func(tx *Tx) error {
		n = 0
		var keys [][]byte
		uc := tx.b(bUsers).Cursor()
		for ukey, _ := uc.First(); ukey != nil && len(keys) < max; ukey, _ = uc.Next() {
			// A user's notification keys sort by ID, so by time: the old
			// ones are the first of the user's range.
			fwdScan(tx.b(bNotifications), ukey, nil, func(key, _ []byte) bool {
				if model.ID(getU64(key[8:])) >= end || len(keys) >= max {
					return false
				}
				keys = append(keys, clone(key))
				return true
			})
		}
		for _, key := range keys {
			if err := tx.deleteNotification(key); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}

// PurgeKeys deletes, in one write transaction, at most max dedup keys of
// received parts stored before dedupBefore and idempotency keys created
// before idemBefore.
func (db *DB) PurgeKeys(dedupBefore, idemBefore time.Time, max int) (PurgeResult, error) {
	if max <= 0 {
		max = 500
	}
	var r PurgeResult
	err := db.Update(func(tx *Tx) error {
		r = PurgeResult{}
		var err error
		tail := func(key []byte) []byte { return key[8:] }
		if r.DedupKeys, err = tx.purgeTimeIndex(bIdxDedupTime, bInboundDedup, string(tns(dedupBefore)), max, tail); err != nil {
			return err
		}
		r.IdempotencyKeys, err = tx.purgeTimeIndex(bIdxIdemTime, bIdem, string(tns(idemBefore)), max-r.DedupKeys, tail)
		return err
	})
	return r, err
}

// purgeTimeIndex deletes up to max entries of a u64(time)|... index older
// than limit, with the records they point at (target(key) in data).
func (tx *Tx) purgeTimeIndex(idx, data []byte, limit string, max int, target func([]byte) []byte) (int, error) {
	if max <= 0 {
		return 0, nil
	}
	var keys [][]byte
	c := tx.b(idx).Cursor()
	for key, _ := c.First(); key != nil && string(key[:8]) < limit && len(keys) < max; key, _ = c.Next() {
		keys = append(keys, clone(key))
	}
	for _, key := range keys {
		if err := tx.b(data).Delete(target(key)); err != nil {
			return 0, err
		}
		if err := tx.b(idx).Delete(key); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Stats counts records, for /metrics and the benchmark. Parts counts the
// records of the parts bucket: multipart messages' parts, and one-part
// messages' parts written before format 7 (since, such a part is in its
// message's record).
type Stats struct {
	Messages, Parts, Conversations, Users, Queued int
}

// Stats counts records. It walks the buckets: for tools and tests, not for
// hot paths.
func (tx *Tx) Stats() Stats {
	n := func(b []byte) int { return tx.b(b).Stats().KeyN }
	return Stats{
		Messages: n(bMessages), Parts: n(bParts), Conversations: n(bConversations),
		Users: n(bUsers), Queued: tx.queuedCount(),
	}
}

// queuedCount is how many parts wait in the outbox, filed or not.
func (tx *Tx) queuedCount() int {
	n := 0
	for _, lane := range Lanes {
		n += tx.LaneDepth(lane)
	}
	return n
}
