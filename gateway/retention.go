package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// PurgeTotals counts what one retention pass removed.
type PurgeTotals struct {
	Messages, DedupKeys, IdempotencyKeys, Deliveries, Notifications, Batches int
}

// PurgeOnce removes what retention allows, in small transactions
// (Options.PurgeBatch records each, Options.PurgePause apart) so the
// dispatcher and readers are never held up for long: messages (in a final state, or sent) older than
// Options.Retention, finished webhook deliveries and notifications (even
// uncleared) as old, part dedup keys
// older than Options.DedupTTL and idempotency keys older than
// Options.IdempotencyTTL. With no Retention only the keys are purged.
func (s *Service) PurgeOnce(ctx context.Context) (PurgeTotals, error) {
	now := s.clock.Now()
	var t PurgeTotals
	for {
		if err := s.rest(ctx, t.Batches); err != nil {
			return t, err
		}
		r, err := s.st.PurgeKeys(now.Add(-s.opt.DedupTTL), now.Add(-s.opt.IdempotencyTTL), s.opt.PurgeBatch)
		if err != nil {
			return t, fmt.Errorf("gateway: retention: %w", err)
		}
		t.Batches++
		t.DedupKeys += r.DedupKeys
		t.IdempotencyKeys += r.IdempotencyKeys
		if r.DedupKeys+r.IdempotencyKeys < s.opt.PurgeBatch {
			break
		}
	}
	if keep := s.retention(); keep > 0 {
		cutoff := now.Add(-keep)
		var from model.ID
		for {
			if err := s.rest(ctx, t.Batches); err != nil {
				return t, err
			}
			r, err := s.st.PurgeBatch(cutoff, from, s.opt.PurgeBatch)
			if err != nil {
				return t, fmt.Errorf("gateway: retention: %w", err)
			}
			t.Batches++
			t.Messages += r.Messages
			t.Deliveries += r.Deliveries
			if r.Next == 0 {
				break
			}
			from = r.Next
		}
		for {
			if err := s.rest(ctx, t.Batches); err != nil {
				return t, err
			}
			n, err := s.st.PurgeNotifications(cutoff, s.opt.PurgeBatch)
			if err != nil {
				return t, fmt.Errorf("gateway: retention: %w", err)
			}
			t.Batches++
			t.Notifications += n
			if n < s.opt.PurgeBatch {
				break
			}
		}
	}
	if t.Messages+t.DedupKeys+t.IdempotencyKeys+t.Deliveries+t.Notifications > 0 {
		s.log.Info("retention purge", "messages", t.Messages, "notifications", t.Notifications, "dedup_keys", t.DedupKeys,
			"idempotency_keys", t.IdempotencyKeys, "webhook_deliveries", t.Deliveries, "transactions", t.Batches)
	}
	return t, nil
}

// RunRetention purges at start and then every Options.PurgeInterval until
// ctx ends.
func (s *Service) RunRetention(ctx context.Context) {
	tick := time.NewTicker(s.opt.PurgeInterval)
	defer tick.Stop()
	for {
		if _, err := s.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("retention purge failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// rest waits Options.PurgePause before every retention transaction but the
// first, so the dispatcher and API writes take the write lock in between;
// it returns early with ctx's error.
func (s *Service) rest(ctx context.Context, done int) error {
	if err := ctxErr(ctx); err != nil || done == 0 {
		return err
	}
	t := time.NewTimer(s.opt.PurgePause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctxErr(ctx)
	case <-t.C:
		return nil
	}
}
