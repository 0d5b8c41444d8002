package store

import (
	"bytes"
	"errors"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Expiry: messages whose ExpiresAt passed while their parts waited, and the
// next due time the dispatcher sleeps until.

// ExpiredDue lists, looking at no more than scan entries of the outbox
// (each queue of idx_lane from its earliest due part, at most scan/8 of
// one queue, so that a long bulk does not hide the others), the messages
// with queued parts whose ExpiresAt has passed. It only reads, so that the
// scan does not hold up writers; pass the result to ExpireMessages in a
// write transaction.
func (tx *Tx) ExpiredDue(scan int) ([]model.ID, error) {
	now := tx.Now()
	seen := map[model.ID]bool{}
	var out []model.ID
	perQueue := scan / 8
	if perQueue < 64 {
		perQueue = 64
	}
	c := tx.b(bIdxLane).Cursor()
	n, inQueue := 0, 0
	var queue []byte
	for key, _ := c.First(); key != nil && (scan <= 0 || n < scan); {
		if queue == nil || !bytes.Equal(key[:9], queue) {
			queue, inQueue = clone(key[:9]), 0
		}
		if scan > 0 && inQueue >= perQueue {
			next := prefixEnd(queue)
			if next == nil {
				break
			}
			key, _ = c.Seek(next)
			continue
		}
		if isTailKey(key) {
			// The send's unfiled messages share their expiry: the
			// first one tells.
			limit := 0 // (all)
			if scan > 0 {
				limit = max(perQueue-inQueue, 1)
			}
			ids, err := tx.tailIDs(key, limit)
			if err != nil {
				return nil, err
			}
			n += len(ids)
			inQueue += len(ids)
			if len(ids) > 0 {
				m, err := tx.Message(ids[0])
				if err != nil {
					return nil, err
				}
				if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
					out = append(out, ids...)
				}
			}
			key, _ = c.Next()
			continue
		}
		n++
		inQueue++
		id := model.ID(getU64(key[17:25]))
		if !seen[id] {
			seen[id] = true
			m, err := tx.Message(id)
			if err != nil {
				return nil, err
			}
			if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
				out = append(out, id)
			}
		}
		key, _ = c.Next()
	}
	return out, nil
}

// ExpireMessages marks expired the queued parts of the messages in ids
// whose ExpiresAt has passed, and returns the messages it changed with
// their previous state so that the caller can publish the change. ClaimDue
// expires what it meets silently; this lets every expiry be reported.
func (tx *Tx) ExpireMessages(ids []model.ID) (changed []model.Message, prev []model.State, err error) {
	now := tx.Now()
	for _, id := range ids {
		m, err := tx.Message(id)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // purged meanwhile
			}
			return nil, nil, err
		}
		if m.ExpiresAt.IsZero() || now.Before(m.ExpiresAt) {
			continue
		}
		old := m.State
		queued := false
		m, err = tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
			for i := range parts {
				if parts[i].State == model.StateQueued {
					parts[i].State, parts[i].Error = model.StateExpired, "expired before it could be sent"
					queued = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		if queued {
			changed = append(changed, m)
			prev = append(prev, old)
		}
	}
	return changed, prev, nil
}

// NextDueAfter is the earliest NextAttempt among queued parts that is
// later than t (ok false when there is none): when the parts due now cannot
// be taken (they wait for an earlier part), the dispatcher sets its timer
// for this one. One Seek per queue of idx_lane.
func (tx *Tx) NextDueAfter(t time.Time) (time.Time, bool) {
	after := u64(getU64(tns(t)) + 1)
	var best time.Time
	found := false
	c := tx.b(bIdxLane).Cursor()
	key, _ := c.First()
	for key != nil {
		queue := clone(key[:9])
		if k2, _ := c.Seek(k(queue, after)); k2 != nil && bytes.HasPrefix(k2, queue) {
			at := time.Unix(0, int64(getU64(k2[9:17]))).UTC()
			if !found || at.Before(best) {
				best, found = at, true
			}
		}
		next := prefixEnd(queue)
		if next == nil {
			break
		}
		key, _ = c.Seek(next)
	}
	return best, found
}
