package store

import (
	"cmp"
	"fmt"
	"slices"
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
func (tx *Tx) NextDue() (time.Time, bool) { return tx.NextDueIn(Lanes) }

// MarkSent records that modem accepted part seq with message reference mr.
func (tx *Tx) MarkSent(id model.ID, seq int, modem string, mr int) (model.Message, error) {
	if mr < 0 || mr > 0xffff {
		return model.Message{}, fmt.Errorf("store: mark sent %s/%d: bad MR %d", id, seq, mr)
	}
	m, err := tx.UpdatePart(id, seq, func(p *model.Part) error {
		p.State, p.Modem, p.MR, p.Error = model.StateSent, modem, mr, ""
		p.SentAt = tx.Now()
		p.SlotStorage, p.SlotIndex = "", 0 // the copy is deleted after this commit
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
		p.SlotStorage, p.SlotIndex = "", 0
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
				parts[i].SlotStorage, parts[i].SlotIndex = "", 0
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

// Recovered is what RecoverSubmitting did with the parts a crashed process
// left "submitting".
type Recovered struct {
	// Unknown are the messages whose part became "unknown" (or, with
	// resend, went back to the outbox at the risk of a duplicate): it was
	// sent directly (+CMGS) and may or may not have gone.
	Unknown []model.Message
	// Requeued are the messages whose part went back to the outbox
	// because it had not reached +CMSS: it was claimed for store-and-send
	// and no stored copy was committed, so it was never sent.
	Requeued []model.Message
	// Stored are the parts left "submitting" because their modem holds a
	// copy whose status says whether they went: ResolveStored settles
	// each when that modem is back.
	Stored []Due
}

// RecoverSubmitting handles the parts left "submitting" by a process that
// died while sending them:
//   - a part claimed for store-and-send without a committed slot never
//     reached +CMSS: it goes back to the outbox (Recovered.Requeued);
//   - a part with a slot stays "submitting" for ResolveStored
//     (Recovered.Stored);
//   - any other part died during +CMGS and its outcome is unknown. With
//     resend it goes back to the outbox (risking a duplicate); otherwise it
//     becomes "unknown" with reason and the parts of the message still
//     queued are held back (cancelled, so that a retry sends them), as when
//     a send times out: the message as a whole is unknown and a person
//     decides (Recovered.Unknown).
func (db *DB) RecoverSubmitting(reason string, resend bool) (Recovered, error) {
	var out Recovered
	err := db.Update(func(tx *Tx) error {
		out = Recovered{}
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
			p, err := tx.Part(x.id, x.seq)
			if err != nil {
				return err
			}
			switch {
			case p.Stored():
				m, err := tx.Message(x.id)
				if err != nil {
					return err
				}
				out.Stored = append(out.Stored, Due{Message: m, Part: p})
				continue
			case p.StoreSend:
				m, err := tx.UpdatePart(x.id, x.seq, func(p *model.Part) error {
					p.State, p.NextAttempt, p.StoreSend = model.StateQueued, tx.Now(), false
					return nil
				})
				if err != nil {
					return err
				}
				out.Requeued = append(out.Requeued, m)
				continue
			}
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
			out.Unknown = append(out.Unknown, m)
		}
		return nil
	})
	return out, err
}

// SetStoreSend records, in the transaction that claimed part seq, whether
// it goes through store-and-send (see Part.StoreSend); false is committed
// before falling back to +CMGS.
func (tx *Tx) SetStoreSend(id model.ID, seq int, on bool) (model.Message, error) {
	return tx.UpdatePart(id, seq, func(p *model.Part) error {
		p.StoreSend = on
		return nil
	})
}

// SetSlot records where the modem stored part seq (+CMGW); it must be
// committed before +CMSS.
func (tx *Tx) SetSlot(id model.ID, seq int, storage string, index int) (model.Message, error) {
	return tx.UpdatePart(id, seq, func(p *model.Part) error {
		if p.State != model.StateSubmitting {
			return fmt.Errorf("store: set slot of %s/%d: part is %s, not submitting", id, seq, p.State)
		}
		p.StoreSend, p.SlotStorage, p.SlotIndex = true, storage, index
		return nil
	})
}

// StoredOutcome is what a part's stored copy said (ResolveStored).
type StoredOutcome int

const (
	// StoredGone: the copy is not there; the outcome stays unknown.
	StoredGone StoredOutcome = iota
	// StoredUnsent: the copy was never sent: the part is sent again.
	StoredUnsent
	// StoredSent: the network accepted the copy: the part is sent (its
	// message reference is not known, so a status report cannot be
	// matched to it).
	StoredSent
)

// ResolveStored settles part seq, left "submitting" with a stored copy, by
// what the copy says; reason is the unknown reason for StoredGone. A part
// no longer submitting is left alone (ok false). The slot is forgotten:
// the caller deletes the copy after the commit.
func (tx *Tx) ResolveStored(id model.ID, seq int, outcome StoredOutcome, reason string) (m model.Message, ok bool, err error) {
	p, err := tx.Part(id, seq)
	if err != nil {
		return model.Message{}, false, err
	}
	if p.State != model.StateSubmitting || !p.Stored() {
		return model.Message{}, false, nil
	}
	switch outcome {
	case StoredSent:
		m, err = tx.UpdatePart(id, seq, func(p *model.Part) error {
			p.State, p.MR, p.Error, p.SentAt = model.StateSent, -1, "", tx.Now()
			p.StoreSend, p.SlotStorage, p.SlotIndex = false, "", 0
			return nil
		})
		if err == nil {
			err = tx.SetConversationModem(m.Number, p.Modem)
		}
	case StoredUnsent:
		m, err = tx.UpdatePart(id, seq, func(p *model.Part) error {
			p.State, p.MR, p.NextAttempt = model.StateQueued, -1, tx.Now()
			p.StoreSend, p.SlotStorage, p.SlotIndex = false, "", 0
			return nil
		})
	default:
		m, err = tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
			for i := range parts {
				q := &parts[i]
				switch {
				case q.Seq == seq:
					q.State, q.Error = model.StateUnknown, reason
					q.StoreSend, q.SlotStorage, q.SlotIndex = false, "", 0
				case q.State == model.StateQueued:
					q.State, q.Error = model.StateCancelled, fmt.Sprintf("not sent: the outcome of part %d is unknown", seq)
				}
			}
			return nil
		})
	}
	return m, err == nil, err
}

// StoredSlots lists the parts "submitting" with a stored copy on modem
// ("" any), for ResolveStored.
func (tx *Tx) StoredSlots(modem string) ([]Due, error) {
	ps, err := tx.PartsInState(model.StateSubmitting, 0)
	if err != nil {
		return nil, err
	}
	var out []Due
	for _, p := range ps {
		if !p.Stored() || (modem != "" && p.Modem != modem) {
			continue
		}
		m, err := tx.Message(p.MessageID)
		if err != nil {
			return nil, err
		}
		out = append(out, Due{Message: m, Part: p})
	}
	return out, nil
}

// PartsInState lists (message, seq) of parts in state s, oldest first.
func (tx *Tx) PartsInState(s model.State, limit int) ([]model.Part, error) {
	if s == model.StateQueued {
		return tx.queuedParts(limit)
	}
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

// queuedParts is PartsInState for queued parts, which idx_lane holds (by
// lane, so sorted here).
func (tx *Tx) queuedParts(limit int) ([]model.Part, error) {
	type pk struct {
		id  model.ID
		seq int
	}
	var keys []pk
	var err error
	fwdScan(tx.b(bIdxLane), nil, nil, func(key, _ []byte) bool {
		if !isTailKey(key) {
			keys = append(keys, pk{model.ID(getU64(key[17:25])), int(key[25])})
			return true
		}
		var ids []model.ID
		if ids, err = tx.tailIDs(key, 0); err != nil {
			return false
		}
		for _, id := range ids {
			var m model.Message
			if m, err = tx.Message(id); err != nil {
				return false
			}
			for seq := 1; seq <= max(m.Parts, 1); seq++ {
				keys = append(keys, pk{id, seq})
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b pk) int {
		if a.id != b.id {
			return cmp.Compare(a.id, b.id)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]model.Part, 0, len(keys))
	for _, x := range keys {
		p, err := tx.Part(x.id, x.seq)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
