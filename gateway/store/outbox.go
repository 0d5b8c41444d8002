package store

import (
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Due is a claimed part with its message.
type Due struct {
	Message model.Message
	Part    model.Part
	// Expired are the messages ClaimDue found past their expiry on the way
	// and marked expired, each with the state it had before (the caller
	// publishes these changes whether or not a part was claimed).
	Expired []Expired
}

// Expired is a message ClaimDue expired, with its previous state.
type Expired struct {
	Previous model.State
	Message  model.Message
}

// ClaimDue takes the next part due by now (by lane, bulks in turn, then
// oldest NextAttempt first, parts of one message in order) that accept agrees to (accept may be nil), marks
// it submitting on modem with one more attempt, and commits before
// returning, so a crash after this point leaves the part visibly
// "submitting". Parts of messages whose ExpiresAt passed are marked expired
// on the way. ok is false when nothing is due.
func (db *DB) ClaimDue(modem string, accept func(m *model.Message, p *model.Part) bool) (d Due, ok bool, err error) {
	err = db.Update(func(tx *Tx) error {
		d, ok, err = tx.ClaimDue(modem, accept)
		return err
	})
	return d, ok, err
}

// ClaimDue is DB.ClaimDue inside a transaction: Claim over every lane.
func (tx *Tx) ClaimDue(modem string, accept func(m *model.Message, p *model.Part) bool) (Due, bool, error) {
	d, ok, err := tx.Claim(Claim{Modem: modem, Accept: accept})
	return d.Due, ok, err
}

// NextDue is the earliest NextAttempt among queued parts (ok false when the
// outbox is empty), for the dispatcher's timer.
func (tx *Tx) NextDue() (time.Time, bool) {
	key, _ := tx.b(bIdxDue).Cursor().First()
	if key == nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(getU64(key[:8]))).UTC(), true
}

// MarkSent records that modem accepted part seq with message reference mr.
func (tx *Tx) MarkSent(id model.ID, seq int, modem string, mr int) (model.Message, error) {
	if mr < 0 || mr > 0xffff {
		return model.Message{}, fmt.Errorf("store: mark sent %s/%d: bad MR %d", id, seq, mr)
	}
	m, err := tx.UpdatePart(id, seq, func(p *model.Part) error {
		p.State, p.Modem, p.MR, p.Error = model.StateSent, modem, mr, ""
		p.SentAt = tx.Now()
		return nil
	})
	if err != nil {
		return m, err
	}
	return m, tx.SetConversationModem(m.Number, modem)
}

// MarkRetry puts part seq back in the outbox, due at next, remembering the
// temporary error.
func (tx *Tx) MarkRetry(id model.ID, seq int, errText string, next time.Time) (model.Message, error) {
	return tx.UpdatePart(id, seq, func(p *model.Part) error {
		p.State, p.Error, p.NextAttempt, p.MR = model.StateQueued, errText, next, -1
		return nil
	})
}

// MarkFailed fails part seq for good with reason, and with it the parts of
// the message still waiting (they are not sent: the message failed).
func (tx *Tx) MarkFailed(id model.ID, seq int, reason string) (model.Message, error) {
	return tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
		found := false
		for i := range parts {
			if parts[i].Seq == seq {
				parts[i].State, parts[i].Error = model.StateFailed, reason
				found = true
			}
		}
		if !found {
			return fmt.Errorf("store: part %s/%d: %w", id, seq, ErrNotFound)
		}
		for i := range parts {
			if parts[i].State == model.StateQueued {
				parts[i].State = model.StateFailed
				parts[i].Error = fmt.Sprintf("not sent: part %d failed", seq)
			}
		}
		return nil
	})
}

// FindByMR finds the part most recently sent by modem with reference mr to
// recipient (E.164; "" matches any), sent at or after since. ok is false
// when none matches.
func (tx *Tx) FindByMR(modem string, mr int, recipient string, since time.Time) (Due, bool, error) {
	var d Due
	var found bool
	var err error
	revScan(tx.b(bIdxMR), k(str(modem), []byte{byte(mr >> 8), byte(mr)}), nil, func(key, _ []byte) bool {
		pk := key[len(key)-9:]
		var m model.Message
		if m, err = tx.Message(model.ID(getU64(pk[:8]))); err != nil {
			return false
		}
		if recipient != "" && m.Number != recipient {
			return true
		}
		var p model.Part
		if p, err = tx.Part(m.ID, int(pk[8])); err != nil {
			return false
		}
		if p.SentAt.Before(since) {
			return true
		}
		d, found = Due{Message: m, Part: p}, true
		return false
	})
	return d, found, err
}

// MarkStatus records a final status report for a part: delivered, or failed
// with reason.
func (tx *Tx) MarkStatus(id model.ID, seq int, delivered bool, reason string) (model.Message, error) {
	return tx.UpdatePart(id, seq, func(p *model.Part) error {
		if delivered {
			p.State, p.DeliveredAt, p.Error = model.StateDelivered, tx.Now(), ""
		} else {
			p.State, p.Error = model.StateFailed, reason
		}
		return nil
	})
}

// RecoverSubmitting handles the parts left "submitting" by a process that
// died during AT+CMGS: their outcome is unknown. With resend they go back to
// the outbox (risking a duplicate); otherwise they become "unknown" with
// reason and the parts of the message still queued are held back
// (cancelled, so that a retry sends them), as when a send times out: the
// message as a whole is unknown and a person decides. It returns the
// affected messages.
func (db *DB) RecoverSubmitting(reason string, resend bool) ([]model.Message, error) {
	var out []model.Message
	err := db.Update(func(tx *Tx) error {
		out = out[:0]
		type pk struct {
			id  model.ID
			seq int
		}
		var list []pk
		fwdScan(tx.b(bIdxPartState), []byte{stateCode[model.StateSubmitting]}, nil, func(key, _ []byte) bool {
			list = append(list, pk{model.ID(getU64(key[1:9])), int(key[9])})
			return true
		})
		for _, x := range list {
			m, err := tx.UpdateMessage(x.id, func(_ *model.Message, parts []model.Part) error {
				for i := range parts {
					p := &parts[i]
					switch {
					case p.Seq == x.seq && resend:
						p.State, p.NextAttempt, p.Error = model.StateQueued, tx.Now(), reason
					case p.Seq == x.seq:
						p.State, p.Error = model.StateUnknown, reason
					case !resend && p.State == model.StateQueued:
						p.State, p.Error = model.StateCancelled, fmt.Sprintf("not sent: the outcome of part %d is unknown", x.seq)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// PartsInState lists (message, seq) of parts in state s, oldest first.
func (tx *Tx) PartsInState(s model.State, limit int) ([]model.Part, error) {
	var out []model.Part
	var err error
	fwdScan(tx.b(bIdxPartState), []byte{stateCode[s]}, nil, func(key, _ []byte) bool {
		var p model.Part
		if p, err = tx.Part(model.ID(getU64(key[1:9])), int(key[9])); err != nil {
			return false
		}
		out = append(out, p)
		return limit <= 0 || len(out) < limit
	})
	return out, err
}
