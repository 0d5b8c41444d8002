package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// NoticeBulkFailed is the Kind of the notification a bulk send's sender
// gets when messages of it fail: one per bulk send, not one per message
// (a send to 10,000 numbers failing would bury the screen), saying how
// many of how many failed; BatchID names the send, for a link to its
// failures.
const NoticeBulkFailed = "bulk_failed"

// bulkNotices gathers the failures of bulk messages and tells each sender
// once per bulk send: after a quiet moment following its first failures
// ("N of M failed so far" while parts are still on their way, or "N of M
// failed" when it had finished), then, if more failed after that notice,
// once more when the send has finished. It lives in memory: failures of a
// send that were not yet told when the gateway stopped are not told after
// a restart (they are in Send Failures all the same).
type bulkNotices struct {
	mu sync.Mutex
	// pending are the bulk sends with failures not yet told, by batch,
	// with their sender and the mark of the last failure.
	pending map[model.ID]pendingMark
	// seq numbers the failures, so that a flush forgets only what it
	// looked at (a failure noted during a flush stays pending).
	seq uint64
	// told is how many failures the last notice of a send still under
	// way counted.
	told map[model.ID]int
	kick chan struct{}
}

func newBulkNotices() *bulkNotices {
	return &bulkNotices{pending: map[model.ID]pendingMark{}, told: map[model.ID]int{}, kick: make(chan struct{}, 1)}
}

type pendingMark struct {
	user model.ID
	seq  uint64
}

// failed notes that a message of batch, sent by user, failed.
func (b *bulkNotices) failed(batch, user model.ID) {
	b.mu.Lock()
	b.seq++
	b.pending[batch] = pendingMark{user: user, seq: b.seq}
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// runBulkNotices tells senders about their bulk sends' failures until ctx
// ends, each time delay after failures came in (so a burst is one notice),
// and every delay while a told send that failed again is still going.
func (s *Service) runBulkNotices(ctx context.Context, delay time.Duration) {
	b := s.bulkNotes
	t := time.NewTimer(delay)
	t.Stop()
	waiting := false
	for {
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-b.kick:
			if !waiting {
				t.Reset(delay)
				waiting = true
			}
		case <-t.C:
			waiting = false
			if s.flushBulkNotices(ctx) > 0 {
				t.Reset(delay)
				waiting = true
			}
		}
	}
}

// flushBulkNotices writes the notices due and returns how many bulk sends
// are still watched (told once, failed again, not finished).
func (s *Service) flushBulkNotices(ctx context.Context) int {
	b := s.bulkNotes
	b.mu.Lock()
	due := make(map[model.ID]pendingMark, len(b.pending))
	for batch, m := range b.pending {
		due[batch] = m
	}
	b.mu.Unlock()
	watched := 0
	for batch, mark := range due {
		if ctx.Err() != nil {
			break
		}
		o, err := s.batchOutcome(batch)
		if err != nil || o.total == 0 {
			// The send is gone: nothing to tell.
			b.forget(batch, mark)
			continue
		}
		failed, finished := o.failed, o.finished
		b.mu.Lock()
		told := b.told[batch]
		b.mu.Unlock()
		switch {
		case failed <= told && finished:
			b.forget(batch, mark)
			continue
		case failed <= told:
			// Retried meanwhile: nothing new to tell.
			b.settle(batch, mark, told, false)
			continue
		case told > 0 && !finished:
			// Told once already: the next notice waits for the end.
			watched++
			continue
		}
		text := fmt.Sprintf("Bulk '%s': %d of %d failed", o.name, failed, o.total)
		if !finished {
			text += " so far"
		}
		if err := s.addNotice(model.Notification{UserID: mark.user, Kind: NoticeBulkFailed, BatchID: batch, Text: text}); err != nil {
			s.log.Error("gateway: bulk failure notification", "batch", batch, "error", err)
			watched++ // tried again after the next delay
			continue
		}
		b.settle(batch, mark, failed, finished)
	}
	return watched
}

// outcome is where a bulk send stands, for its notice.
type outcome struct {
	name          string
	total, failed int
	finished      bool
}

// batchOutcome reads a bulk send: its name (the campaign's; for a send to
// several recipients through the messages API without one, the start of
// its text), how many messages it has, how many failed, and whether every
// message is sent or final.
func (s *Service) batchOutcome(batch model.ID) (outcome, error) {
	var o outcome
	err := s.st.View(func(tx *store.Tx) error {
		var first model.ID
		pending := 0
		if err := tx.BatchStates(batch, func(id model.ID, st model.State) bool {
			if first == 0 {
				first = id
			}
			o.total++
			if st.IsFailure() {
				o.failed++
			}
			if !st.Final() && st != model.StateSent {
				pending++
			}
			return true
		}); err != nil || first == 0 {
			return err
		}
		o.finished = pending == 0
		if c, err := tx.Campaign(batch); err == nil && c.Name != "" {
			o.name = c.Name
			return nil
		}
		m, err := tx.Message(first)
		if err != nil {
			return err
		}
		if m.Campaign != "" {
			o.name = m.Campaign
		} else {
			o.name = textStart(m.Text, 30)
		}
		return nil
	})
	return o, err
}

// textStart is text's first n characters, with an ellipsis when cut.
func textStart(text string, n int) string {
	r := []rune(strings.Join(strings.Fields(text), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// settle records that a notice counted failed failures of batch, looked
// at as of mark: a finished send is forgotten, one under way keeps its
// count. A failure noted since mark keeps the send pending.
func (b *bulkNotices) settle(batch model.ID, mark pendingMark, failed int, finished bool) {
	if finished {
		b.forget(batch, mark)
		return
	}
	b.mu.Lock()
	b.unmark(batch, mark)
	b.told[batch] = failed
	b.mu.Unlock()
}

// forget drops batch, unless a failure was noted since mark (it is then
// told, counted afresh, at the next flush).
func (b *bulkNotices) forget(batch model.ID, mark pendingMark) {
	b.mu.Lock()
	if b.unmark(batch, mark) {
		delete(b.told, batch)
	}
	b.mu.Unlock()
}

// unmark removes batch from pending if nothing was noted since mark, and
// says whether it did. Called with b.mu held.
func (b *bulkNotices) unmark(batch model.ID, mark pendingMark) bool {
	if b.pending[batch].seq != mark.seq {
		return false
	}
	delete(b.pending, batch)
	return true
}

// addNotice stores a notification (its ID and time made here) and
// publishes it.
func (s *Service) addNotice(n model.Notification) error {
	n.CreatedAt = s.clock.Now()
	err := s.st.Update(func(tx *store.Tx) error {
		n.ID = tx.NewID()
		return tx.AddNotification(&n)
	})
	if err != nil {
		return err
	}
	s.bus.Publish(&NotificationAdded{At: n.CreatedAt, Notification: n})
	return nil
}
