package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// ReasonUnknown is the reason given to a message whose part was being
// handed to a modem when the gateway stopped.
const ReasonUnknown = "outcome unknown: the gateway stopped while the modem was sending"

// Failures lists failed, unknown and expired messages not dismissed: all of
// them for an admin, the viewer's own for anyone else.
func (s *Service) Failures(ctx context.Context, viewer model.ID, q Page) (Paged[model.Message], error) {
	return s.failures(viewer, 0, q)
}

// BatchFailures is Failures of one bulk send (batch): the list its
// failure notice and its progress page link to.
func (s *Service) BatchFailures(ctx context.Context, viewer, batch model.ID, q Page) (Paged[model.Message], error) {
	if batch == 0 {
		return Paged[model.Message]{}, ErrNotFound
	}
	return s.failures(viewer, batch, q)
}

// failures lists the viewer's failures, those of batch only when not 0.
func (s *Service) failures(viewer, batch model.ID, q Page) (Paged[model.Message], error) {
	var page Paged[model.Message]
	limit := q.limit(50, 500)
	cur, err := q.keyCursor()
	if err != nil {
		return page, err
	}
	err = s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		for len(page.Items) < limit {
			refs, err := tx.Failures(cur, 200)
			if err != nil {
				return err
			}
			for _, r := range refs {
				if (u.Role == model.RoleAdmin || r.Message.UserID == u.ID) && (batch == 0 || r.Message.BatchID == batch) {
					page.Items = append(page.Items, r.Message)
					if len(page.Items) == limit {
						page.Next = keyNext(r.Cursor)
						return nil
					}
				}
			}
			if len(refs) < 200 {
				return nil
			}
			cur = refs[len(refs)-1].Cursor
		}
		return nil
	})
	return page, err
}

// changeOwn runs fn on a message the viewer may act on: their own, or any
// for an admin (ErrNotFound otherwise). It publishes the state change.
func (s *Service) changeOwn(ctx context.Context, viewer, id model.ID, fn func(m *model.Message, parts []model.Part) error) (model.Message, error) {
	if err := ctxErr(ctx); err != nil {
		return model.Message{}, err
	}
	var prev model.State
	var out model.Message
	err := s.st.Update(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		cur, err := tx.Message(id)
		if err != nil || cur.Direction != model.Outgoing || (u.Role != model.RoleAdmin && cur.UserID != u.ID) {
			return ErrNotFound
		}
		prev = cur.State
		out, err = tx.UpdateMessage(id, fn)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrUnauthorized) {
			return model.Message{}, err
		}
		return model.Message{}, fmt.Errorf("gateway: message %s: %w", id, err)
	}
	s.PublishStatus(prev, out)
	return out, nil
}

// Cancel cancels a message none of whose parts has gone to a modem yet
// (ErrConflict otherwise).
func (s *Service) Cancel(ctx context.Context, viewer, id model.ID) (model.Message, error) {
	return s.changeOwn(ctx, viewer, id, func(m *model.Message, parts []model.Part) error {
		for _, p := range parts {
			if p.State != model.StateQueued {
				return fmt.Errorf("%w: message is %s; only a queued message can be cancelled", ErrConflict, m.State)
			}
		}
		for i := range parts {
			parts[i].State, parts[i].Error = model.StateCancelled, "cancelled"
		}
		return nil
	})
}

// Retry puts a failed, unknown, expired or cancelled message back in the
// outbox, due now. Only the parts that did not go out are sent again, with
// the same concatenation reference (their TPDUs are kept), so a multipart
// message is retried from the part that failed. An expiry is dropped: the
// user asked for it to go now.
func (s *Service) Retry(ctx context.Context, viewer, id model.ID) (model.Message, error) {
	m, err := s.changeOwn(ctx, viewer, id, func(m *model.Message, parts []model.Part) error {
		if !m.State.IsFailure() && m.State != model.StateCancelled {
			return fmt.Errorf("%w: message is %s; only a failed or cancelled message can be retried", ErrConflict, m.State)
		}
		now := s.clock.Now()
		m.ExpiresAt = time.Time{}
		for i := range parts {
			switch parts[i].State {
			case model.StateFailed, model.StateUnknown, model.StateExpired, model.StateCancelled:
				parts[i].State, parts[i].Error, parts[i].NextAttempt, parts[i].MR = model.StateQueued, "", now, -1
			}
		}
		return nil
	})
	if err == nil {
		s.WakeOutbox()
	}
	return m, err
}

// Dismiss hides a failure from the failures listing (the message stays).
func (s *Service) Dismiss(ctx context.Context, viewer, id model.ID) (model.Message, error) {
	return s.changeOwn(ctx, viewer, id, func(m *model.Message, _ []model.Part) error {
		if !m.State.IsFailure() {
			return fmt.Errorf("%w: message is %s, not a failure", ErrConflict, m.State)
		}
		m.Dismissed = true
		return nil
	})
}

// RecoverAtStartup deals with parts left "submitting" by a process that
// died while sending them, before the dispatcher starts (store.RecoverSubmitting):
// a part sent with AT+CMGS becomes "unknown" (ReasonUnknown, retry one
// click away) or, with resend, goes back to the outbox at the risk of a
// duplicate; a part claimed for store-and-send that never reached AT+CMSS
// goes back to the outbox; a part sent from storage stays "submitting"
// until the dispatcher reads its modem's copy (resolveStored). It returns
// the messages made unknown (or resent).
func (s *Service) RecoverAtStartup(ctx context.Context, resend bool) ([]model.Message, error) {
	rec, err := s.st.RecoverSubmitting(ReasonUnknown, resend)
	if err != nil {
		return nil, fmt.Errorf("gateway: recover: %w", err)
	}
	for _, m := range rec.Requeued {
		s.log.Info("part claimed for store-and-send but never sent; queued again", "message", m.ID, "number", m.Number)
		s.PublishStatus(model.StateSubmitting, m)
	}
	for _, d := range rec.Stored {
		s.log.Info("part sent from storage when the gateway stopped; its modem's copy decides", "message", d.Message.ID, "part", d.Part.Seq, "modem", d.Part.Modem)
	}
	if len(rec.Requeued) > 0 {
		s.WakeOutbox()
	}
	msgs := rec.Unknown
	for _, m := range msgs {
		s.log.Warn("message outcome unknown after restart", "message", m.ID, "number", m.Number, "resend", resend)
		s.PublishStatus(model.StateSubmitting, m)
	}
	if resend && len(msgs) > 0 {
		s.WakeOutbox()
	}
	return msgs, nil
}
