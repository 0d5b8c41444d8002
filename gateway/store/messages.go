package store

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Message reads one message.
func (tx *Tx) Message(id model.ID) (model.Message, error) {
	var m model.Message
	if err := getJSON(tx.b(bMessages), u64(uint64(id)), &m); err != nil {
		return model.Message{}, fmt.Errorf("store: message %s: %w", id, err)
	}
	return m, nil
}

// Parts reads a message's parts in order.
func (tx *Tx) Parts(id model.ID) ([]model.Part, error) {
	var out []model.Part
	var err error
	fwdScan(tx.b(bParts), u64(uint64(id)), nil, func(_, v []byte) bool {
		var p model.Part
		if err = unmarshal(v, &p); err != nil {
			return false
		}
		out = append(out, p)
		return true
	})
	return out, err
}

// Part reads one part.
func (tx *Tx) Part(id model.ID, seq int) (model.Part, error) {
	var p model.Part
	if err := getJSON(tx.b(bParts), partKey(id, seq), &p); err != nil {
		return model.Part{}, fmt.Errorf("store: part %s/%d: %w", id, seq, err)
	}
	return p, nil
}

// InsertMessage stores a new message and its parts (outgoing: at least one;
// incoming: none) with every index: conversation, users (sender of an
// outgoing message; m.Users of an incoming one, none meaning unassigned),
// state, outbox, batch. m.ID must be new (from NewID); m.State is derived
// from the parts when there are any.
func (tx *Tx) InsertMessage(m *model.Message, parts []model.Part) error {
	if m.ID == 0 {
		return fmt.Errorf("store: insert message: zero id")
	}
	if tx.get(bMessages, u64(uint64(m.ID))) != nil {
		return fmt.Errorf("store: insert message %s: %w", m.ID, ErrExists)
	}
	tx.fillForAppends()
	now := tx.Now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	m.UpdatedAt = now
	for i := range parts {
		parts[i].MessageID = m.ID
		if parts[i].Seq == 0 {
			parts[i].Seq = i + 1
		}
		if parts[i].State == "" {
			parts[i].State = model.StateQueued
		}
		if parts[i].Modem == "" {
			parts[i].MR = -1 // MR 0 is a real reference
		}
		parts[i].UpdatedAt = now
		if err := tx.putPart(m, nil, &parts[i]); err != nil {
			return err
		}
	}
	if len(parts) > 0 {
		m.State = model.RollUp(parts)
		if m.Parts == 0 {
			m.Parts = len(parts)
		}
	}
	if m.State == "" {
		m.State = model.StateQueued
	}
	if err := tx.putMessage(nil, m); err != nil {
		return err
	}
	id := u64(uint64(m.ID))
	if m.BatchID != 0 {
		if err := tx.b(bBatches).Put(tx.key(u64(uint64(m.BatchID)), id), nil); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxConv).Put(tx.key(str(m.Number), id), nil); err != nil {
		return err
	}
	conv, err := tx.Conversation(m.Number)
	if err != nil && err != ErrNotFound {
		return err
	}
	conv.Number = m.Number
	conv.Count++
	if m.ID > conv.LastMessageID {
		if conv.LastMessageID != 0 {
			if err := tx.b(bIdxConvLast).Delete(tx.key(u64(uint64(conv.LastMessageID)), []byte(m.Number))); err != nil {
				return err
			}
		}
		if err := tx.b(bIdxConvLast).Put(tx.key(id, []byte(m.Number)), nil); err != nil {
			return err
		}
		conv.LastMessageID = m.ID
	}
	var users []model.ID
	if m.Direction == model.Outgoing && m.UserID != 0 {
		users = []model.ID{m.UserID}
		if !slices.Contains(conv.Users, m.UserID) {
			conv.Users = append(conv.Users, m.UserID)
		}
		// Someone wrote to this number: its conversation leaves the
		// unassigned inbox.
		if err := tx.removeUnassigned(m.Number); err != nil {
			return err
		}
	} else if m.Direction == model.Incoming {
		if m.Modem != "" {
			conv.Modem = m.Modem
		}
		users = m.Users
		for _, u := range users {
			if !slices.Contains(conv.Users, u) {
				conv.Users = append(conv.Users, u)
			}
		}
		if len(users) == 0 {
			if err := tx.setUnassigned(m.Number, m.ID); err != nil {
				return err
			}
		}
	}
	if err := tx.putConversationRecord(tx.b(bConversations), []byte(m.Number), &conv); err != nil {
		return err
	}
	for _, u := range users {
		if err := tx.associate(u, m); err != nil {
			return err
		}
	}
	return nil
}

// associate adds m to user u's indexes and moves the conversation in u's
// sort order.
func (tx *Tx) associate(u model.ID, m *model.Message) error {
	uid, id := u64(uint64(u)), u64(uint64(m.ID))
	if err := tx.b(bIdxUser).Put(tx.key(uid, id), nil); err != nil {
		return err
	}
	if !m.Marketing {
		if err := tx.b(bIdxUserNoMkt).Put(tx.key(uid, id), nil); err != nil {
			return err
		}
	}
	if m.Direction == model.Outgoing && m.UserID == u {
		if err := tx.b(bIdxUserSent).Put(tx.key(uid, str(m.Number), id), nil); err != nil {
			return err
		}
	}
	ucKey := k(uid, []byte(m.Number))
	var uc UserConv
	if err := tx.getRecord(bUConv, ucKey, &uc); err != nil && err != ErrNotFound {
		return err
	}
	old := uc
	if m.ID > uc.LastAll {
		uc.LastAll = m.ID
	}
	if !m.Marketing && m.ID > uc.LastPlain {
		uc.LastPlain = m.ID
	}
	if old == uc {
		return nil
	}
	if old.LastAll != 0 {
		if err := tx.b(bUConvAll).Delete(uconvAllKey(u, old, m.Number)); err != nil {
			return err
		}
		if err := tx.b(bUConvNoMkt).Delete(uconvNoMktKey(u, old, m.Number)); err != nil {
			return err
		}
	}
	if err := tx.b(bUConvAll).Put(uconvAllKey(u, uc, m.Number), nil); err != nil {
		return err
	}
	if err := tx.b(bUConvNoMkt).Put(uconvNoMktKey(u, uc, m.Number), nil); err != nil {
		return err
	}
	return tx.putUserConvRecord(tx.b(bUConv), ucKey, &uc)
}

func uconvAllKey(u model.ID, uc UserConv, number string) []byte {
	return k(u64(uint64(u)), u64(uint64(uc.LastAll)), []byte(number))
}

func uconvNoMktKey(u model.ID, uc UserConv, number string) []byte {
	if uc.LastPlain != 0 {
		return k(u64(uint64(u)), []byte{1}, u64(uint64(uc.LastPlain)), []byte(number))
	}
	return k(u64(uint64(u)), []byte{0}, u64(uint64(uc.LastAll)), []byte(number))
}

func (tx *Tx) setUnassigned(number string, id model.ID) error {
	b := tx.b(bUnassigned)
	if v := b.Get([]byte(number)); v != nil {
		if model.ID(getU64(v)) >= id {
			return nil
		}
		if err := tx.b(bUnassignedTime).Delete(k(v, []byte(number))); err != nil {
			return err
		}
	}
	if err := b.Put([]byte(number), u64(uint64(id))); err != nil {
		return err
	}
	return tx.b(bUnassignedTime).Put(k(u64(uint64(id)), []byte(number)), nil)
}

func (tx *Tx) removeUnassigned(number string) error {
	b := tx.b(bUnassigned)
	v := tx.get(bUnassigned, []byte(number))
	if v == nil {
		return nil
	}
	if err := tx.b(bUnassignedTime).Delete(k(clone(v), []byte(number))); err != nil {
		return err
	}
	return b.Delete([]byte(number))
}

// putMessage writes m, keeping the state and failure indexes and the
// message event log in step with old (nil for a new message).
func (tx *Tx) putMessage(old, m *model.Message) error {
	id := u64(uint64(m.ID))
	if old != nil && old.State != m.State {
		if err := tx.b(bIdxMsgState).Delete(tx.key([]byte{stateCode[old.State]}, id)); err != nil {
			return err
		}
	}
	if old == nil || old.State != m.State {
		if err := tx.b(bIdxMsgState).Put(tx.key([]byte{stateCode[m.State]}, id), nil); err != nil {
			return err
		}
	}
	if old != nil && failureListed(old) {
		if err := tx.b(bIdxFailures).Delete(tx.key(tns(old.FailedAt), id)); err != nil {
			return err
		}
	}
	if failureListed(m) {
		if err := tx.b(bIdxFailures).Put(tx.key(tns(m.FailedAt), id), nil); err != nil {
			return err
		}
	}
	if err := tx.logMessageEvent(old, m); err != nil {
		return err
	}
	return tx.putMessageRecord(tx.b(bMessages), id, m)
}

func failureListed(m *model.Message) bool {
	return m.Direction == model.Outgoing && m.State.IsFailure() && !m.Dismissed
}

// putPart writes p (a part of m), keeping the part-state, outbox, lane and
// MR indexes in step with old (nil for a new part).
func (tx *Tx) putPart(m *model.Message, old, p *model.Part) error {
	key := partKey(p.MessageID, p.Seq)
	if old != nil {
		if old.State != p.State {
			if err := tx.b(bIdxPartState).Delete(tx.key([]byte{stateCode[old.State]}, key)); err != nil {
				return err
			}
		}
		if old.State == model.StateQueued {
			if err := tx.b(bIdxDue).Delete(tx.key(tns(old.NextAttempt), key)); err != nil {
				return err
			}
			if err := tx.b(bIdxLane).Delete(laneKey(m, old)); err != nil {
				return err
			}
		}
		if old.MR >= 0 && old.Modem != "" && (old.MR != p.MR || old.Modem != p.Modem) {
			if err := tx.b(bIdxMR).Delete(mrKey(old.Modem, old.MR, key)); err != nil {
				return err
			}
		}
	}
	if old == nil || old.State != p.State {
		if err := tx.b(bIdxPartState).Put(tx.key([]byte{stateCode[p.State]}, key), nil); err != nil {
			return err
		}
	}
	if p.State == model.StateQueued {
		if err := tx.b(bIdxDue).Put(tx.key(tns(p.NextAttempt), key), nil); err != nil {
			return err
		}
		if err := tx.b(bIdxLane).Put(laneKey(m, p), nil); err != nil {
			return err
		}
	}
	if p.MR >= 0 && p.Modem != "" {
		if err := tx.b(bIdxMR).Put(mrKey(p.Modem, p.MR, key), nil); err != nil {
			return err
		}
	}
	return tx.putPartRecord(tx.b(bParts), key, p)
}

func mrKey(modem string, mr int, pkey []byte) []byte {
	return k(str(modem), []byte{byte(mr >> 8), byte(mr)}, pkey)
}

// UpdateMessage loads a message and its parts, lets fn change them, then
// writes what changed, rolls the message's state up from its parts and keeps
// every index in step. It returns the message as written.
func (tx *Tx) UpdateMessage(id model.ID, fn func(m *model.Message, parts []model.Part) error) (model.Message, error) {
	m, err := tx.Message(id)
	if err != nil {
		return model.Message{}, err
	}
	parts, err := tx.Parts(id)
	if err != nil {
		return model.Message{}, err
	}
	oldM := m
	oldParts := slices.Clone(parts)
	if err := fn(&m, parts); err != nil {
		return model.Message{}, err
	}
	now := tx.Now()
	for i := range parts {
		if !partEqual(&oldParts[i], &parts[i]) {
			parts[i].UpdatedAt = now
			if err := tx.putPart(&m, &oldParts[i], &parts[i]); err != nil {
				return model.Message{}, err
			}
		}
	}
	if len(parts) > 0 {
		rollUpInto(&m, parts, now)
	}
	m.UpdatedAt = now
	if err := tx.putMessage(&oldM, &m); err != nil {
		return model.Message{}, err
	}
	return m, nil
}

// UpdatePart is UpdateMessage for one part.
func (tx *Tx) UpdatePart(id model.ID, seq int, fn func(p *model.Part) error) (model.Message, error) {
	return tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
		for i := range parts {
			if parts[i].Seq == seq {
				return fn(&parts[i])
			}
		}
		return fmt.Errorf("store: part %s/%d: %w", id, seq, ErrNotFound)
	})
}

func partEqual(a, b *model.Part) bool {
	return a.State == b.State && a.Modem == b.Modem && a.MR == b.MR && a.Attempts == b.Attempts &&
		a.NextAttempt.Equal(b.NextAttempt) && a.Error == b.Error && a.SentAt.Equal(b.SentAt) &&
		a.DeliveredAt.Equal(b.DeliveredAt) && bytes.Equal(a.TPDU, b.TPDU) &&
		a.StoreSend == b.StoreSend && a.SlotStorage == b.SlotStorage && a.SlotIndex == b.SlotIndex
}

// rollUpInto derives m's state and its summary fields from its parts.
func rollUpInto(m *model.Message, parts []model.Part, now time.Time) {
	prev := m.State
	m.State = model.RollUp(parts)
	m.Attempts = 0
	var lastSent, lastDelivered time.Time
	for _, p := range parts {
		m.Attempts += p.Attempts
		if p.Modem != "" {
			m.Modem = p.Modem
		}
		if p.SentAt.After(lastSent) {
			lastSent = p.SentAt
		}
		if p.DeliveredAt.After(lastDelivered) {
			lastDelivered = p.DeliveredAt
		}
	}
	switch m.State {
	case model.StateSent:
		m.SentAt = lastSent
	case model.StateDelivered:
		m.SentAt, m.DeliveredAt = lastSent, lastDelivered
	}
	if m.State.IsFailure() {
		if m.State != prev || m.FailedAt.IsZero() {
			m.FailedAt = now
			m.Dismissed = false
		}
		for _, p := range parts {
			if p.State == m.State && p.Error != "" {
				m.Reason = p.Error
				break
			}
		}
	} else {
		m.Reason, m.FailedAt = "", time.Time{}
	}
}

// DeleteMessage removes a message, its parts and every index entry pointing
// at it (retention). A conversation left empty is removed with its per-user
// sort entries.
func (tx *Tx) DeleteMessage(id model.ID) error {
	m, err := tx.Message(id)
	if err != nil {
		return err
	}
	parts, err := tx.Parts(id)
	if err != nil {
		return err
	}
	key := u64(uint64(id))
	for i := range parts {
		p := &parts[i]
		pk := partKey(id, p.Seq)
		_ = tx.b(bIdxPartState).Delete(k([]byte{stateCode[p.State]}, pk))
		if p.State == model.StateQueued {
			_ = tx.b(bIdxDue).Delete(k(tns(p.NextAttempt), pk))
			_ = tx.b(bIdxLane).Delete(laneKey(&m, p))
		}
		if p.MR >= 0 && p.Modem != "" {
			_ = tx.b(bIdxMR).Delete(mrKey(p.Modem, p.MR, pk))
		}
		if err := tx.b(bParts).Delete(pk); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxMsgState).Delete(k([]byte{stateCode[m.State]}, key)); err != nil {
		return err
	}
	if failureListed(&m) {
		if err := tx.b(bIdxFailures).Delete(k(tns(m.FailedAt), key)); err != nil {
			return err
		}
	}
	if m.BatchID != 0 {
		if err := tx.b(bBatches).Delete(k(u64(uint64(m.BatchID)), key)); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxConv).Delete(k(str(m.Number), key)); err != nil {
		return err
	}
	users := m.Users
	if m.Direction == model.Outgoing && m.UserID != 0 {
		users = []model.ID{m.UserID}
		if err := tx.b(bIdxUserSent).Delete(k(u64(uint64(m.UserID)), str(m.Number), key)); err != nil {
			return err
		}
	}
	for _, u := range users {
		uid := u64(uint64(u))
		if err := tx.b(bIdxUser).Delete(k(uid, key)); err != nil {
			return err
		}
		if err := tx.b(bIdxUserNoMkt).Delete(k(uid, key)); err != nil {
			return err
		}
	}
	conv, err := tx.Conversation(m.Number)
	if err == nil {
		conv.Count--
		if conv.Count <= 0 {
			if err := tx.deleteConversation(conv); err != nil {
				return err
			}
		} else {
			if conv.LastMessageID == id {
				// Retention skips messages still queued, so the newest
				// message can go while older ones stay: the conversation's
				// last message becomes the newest left.
				if err := tx.replaceLast(&conv); err != nil {
					return err
				}
			}
			if err := putJSON(tx.b(bConversations), []byte(m.Number), &conv); err != nil {
				return err
			}
		}
	}
	return tx.b(bMessages).Delete(key)
}

// replaceLast points conv at the newest message left in its index (its
// idx_conv entry for the deleted last message is already gone).
func (tx *Tx) replaceLast(conv *Conversation) error {
	var last model.ID
	revScan(tx.b(bIdxConv), str(conv.Number), nil, func(key, _ []byte) bool {
		last = model.ID(getU64(key[len(key)-8:]))
		return false
	})
	if last == 0 {
		return nil
	}
	m, err := tx.Message(last)
	if err != nil {
		return err
	}
	if err := tx.b(bIdxConvLast).Delete(k(u64(uint64(conv.LastMessageID)), []byte(conv.Number))); err != nil {
		return err
	}
	if err := tx.b(bIdxConvLast).Put(k(u64(uint64(m.ID)), []byte(conv.Number)), nil); err != nil {
		return err
	}
	conv.LastMessageID = m.ID
	return nil
}

func (tx *Tx) deleteConversation(conv Conversation) error {
	for _, u := range conv.Users {
		ucKey := k(u64(uint64(u)), []byte(conv.Number))
		var uc UserConv
		if err := getJSON(tx.b(bUConv), ucKey, &uc); err == nil {
			_ = tx.b(bUConvAll).Delete(uconvAllKey(u, uc, conv.Number))
			_ = tx.b(bUConvNoMkt).Delete(uconvNoMktKey(u, uc, conv.Number))
			_ = tx.b(bUConv).Delete(ucKey)
		}
	}
	if err := tx.removeUnassigned(conv.Number); err != nil {
		return err
	}
	if err := tx.b(bIdxConvLast).Delete(k(u64(uint64(conv.LastMessageID)), []byte(conv.Number))); err != nil {
		return err
	}
	return tx.b(bConversations).Delete([]byte(conv.Number))
}

// Conversation reads the conversation with number.
func (tx *Tx) Conversation(number string) (Conversation, error) {
	if tx.get(bConversations, []byte(number)) == nil {
		return Conversation{}, ErrNotFound // (a new number: nothing to decode)
	}
	var c Conversation
	if err := tx.getRecord(bConversations, []byte(number), &c); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// UserConv reads user u's sort keys for a conversation (ErrNotFound when
// the user has no message in it).
func (tx *Tx) UserConv(u model.ID, number string) (UserConv, error) {
	var uc UserConv
	err := getJSON(tx.b(bUConv), k(u64(uint64(u)), []byte(number)), &uc)
	return uc, err
}

// AssignConversation associates user u with the conversation with number:
// its incoming messages are added to u's listings (and name u among their
// users) and the conversation leaves the unassigned inbox. It returns how
// many messages were newly associated (0 when u already was).
func (tx *Tx) AssignConversation(number string, u model.ID) (int, error) {
	conv, err := tx.Conversation(number)
	if err != nil {
		return 0, err
	}
	var ids []model.ID
	fwdScan(tx.b(bIdxConv), str(number), nil, func(key, _ []byte) bool {
		ids = append(ids, model.ID(getU64(key[len(key)-8:])))
		return true
	})
	n := 0
	for _, id := range ids {
		m, err := tx.Message(id)
		if err != nil {
			return n, err
		}
		if m.Direction != model.Incoming || slices.Contains(m.Users, u) {
			continue
		}
		old := m
		m.Users = append(slices.Clone(m.Users), u)
		if err := tx.putMessage(&old, &m); err != nil {
			return n, err
		}
		if err := tx.associate(u, &m); err != nil {
			return n, err
		}
		n++
	}
	if !slices.Contains(conv.Users, u) {
		conv.Users = append(conv.Users, u)
		if err := putJSON(tx.b(bConversations), []byte(number), &conv); err != nil {
			return n, err
		}
	}
	return n, tx.removeUnassigned(number)
}
