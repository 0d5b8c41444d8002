package store

import (
	"errors"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Expiry: messages whose ExpiresAt passed while their parts waited, and the
// next due time the dispatcher sleeps until.

// ExpiredDue lists, looking at no more than scan entries of the outbox
// (oldest due first), the messages with queued parts whose ExpiresAt has
// passed. It only reads, so that the scan does not hold up writers; pass
// the result to ExpireMessages in a write transaction.
func (tx *Tx) ExpiredDue(scan int) ([]model.ID, error) {
	now := tx.Now()
	seen := map[model.ID]bool{}
	var out []model.ID
	c := tx.b(bIdxDue).Cursor()
	n := 0
	for key, _ := c.First(); key != nil && (scan <= 0 || n < scan); key, _ = c.Next() {
		n++
		id := model.ID(getU64(key[8:16]))
		if seen[id] {
			continue
		}
		seen[id] = true
		m, err := tx.Message(id)
		if err != nil {
			return nil, err
		}
		if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
			out = append(out, id)
		}
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
// for this one.
func (tx *Tx) NextDueAfter(t time.Time) (time.Time, bool) {
	after := getU64(tns(t)) + 1
	key, _ := tx.b(bIdxDue).Cursor().Seek(u64(after))
	if key == nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(getU64(key[:8]))).UTC(), true
}
