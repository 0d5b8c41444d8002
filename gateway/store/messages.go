package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Message reads one message.
func (tx *Tx) Message(id model.ID) (model.Message, error) {
	var idb [8]byte
	putU64(idb[:], uint64(id))
	raw := tx.get(bMessages, tx.key(idb[:]))
	if raw == nil {
		return model.Message{}, fmt.Errorf("store: message %s: %w", id, ErrNotFound)
	}
	var m model.Message
	if err := tx.decodeMessage(raw, &m); err != nil {
		return model.Message{}, fmt.Errorf("store: message %s: %w", id, err)
	}
	return m, nil
}

// decodeMessage decodes a message record without the part it may hold
// (its last field, which json.Unmarshal would parse only to skip: listings
// decode many messages and never need it).
func (tx *Tx) decodeMessage(raw []byte, m *model.Message) error {
	if i := bytes.LastIndex(raw, foldedMark); i > 0 {
		tx.decBuf = append(append(tx.decBuf[:0], raw[:i]...), '}')
		raw = tx.decBuf
	}
	return unmarshal(raw, m)
}

// Parts reads a message's parts in order.
func (tx *Tx) Parts(id model.ID) ([]model.Part, error) {
	if p, ok, err := foldedPart(tx.get(bMessages, u64(uint64(id))), id); ok || err != nil {
		return []model.Part{p}, err
	}
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
	if seq == 1 {
		if p, ok, err := foldedPart(tx.get(bMessages, u64(uint64(id))), id); ok || err != nil {
			return p, err
		}
	}
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
	var idb [8]byte // (keys go to bbolt through tx.key: an array handed to it would escape)
	putU64(idb[:], uint64(m.ID))
	id := idb[:]
	if tx.get(bMessages, tx.key(id)) != nil {
		return fmt.Errorf("store: insert message %s: %w", m.ID, ErrExists)
	}
	if m.Direction == model.Outgoing && m.Marketing && m.UserID != 0 && m.BatchID == 0 {
		return fmt.Errorf("store: insert message %s: a marketing message needs its batch", m.ID)
	}
	if m.BatchID != 0 {
		if err := tx.joinBatch(m); err != nil {
			return err
		}
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
	}
	// A bulk message waiting in a grouped lane is filed when first taken
	// (unfiled.go): only its record is written now.
	unfiled := m.BatchID != 0 && deferFiling(m, parts)
	for i := range parts {
		if err := tx.putPart(m, nil, &parts[i], len(parts) == 1, !unfiled); err != nil {
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
	if err := tx.putMessage(nil, m, parts); err != nil {
		return err
	}
	if unfiled {
		tx.leaveUnfiled(m, parts)
		// Someone wrote to this number: its conversation leaves the
		// unassigned inbox now, as when the message is filed (an
		// incoming message meanwhile goes to the sender, or to the
		// inbox when nobody may see it: ConversationView).
		return tx.removeUnassigned(m.Number)
	}
	return tx.fileConversation(m, false)
}

// fileConversation gives message m (whose record is written) its place in
// its conversation: idx_conv, the conversation record, idx_conv_last, the
// unassigned inbox and its users' listings. late is set when m was left
// unfiled (its insert took the conversation out of the unassigned inbox
// then; an incoming message since put it back there for a reason).
func (tx *Tx) fileConversation(m *model.Message, late bool) error {
	var idb [8]byte
	putU64(idb[:], uint64(m.ID))
	id := idb[:]
	bulk := isBulk(m)
	if err := tx.b(bIdxConv).Put(tx.keyS(m.Number, id), nil); err != nil {
		return err
	}
	// The record is encoded below and dropped: its lists can live in the
	// transaction's scratch.
	var conv Conversation
	if raw := tx.get(bConversations, []byte(m.Number)); raw != nil {
		if !decodeConversation(raw, &conv, m.Number, tx.convUsers, tx.convMarketed) {
			var c Conversation // (its own variable: conv stays off the heap)
			if err := unmarshal(raw, &c); err != nil {
				return err
			}
			conv = c
		}
	} else {
		conv.Users, conv.Marketed = tx.convUsers[:0], tx.convMarketed[:0]
	}
	defer func() { tx.convUsers, tx.convMarketed = conv.Users[:0], conv.Marketed[:0] }()
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
		if !slices.Contains(conv.Users, m.UserID) {
			conv.Users = append(conv.Users, m.UserID)
		}
		if bulk {
			// The sender's listings find it through idx_user_batch
			// (written once for the send by Tx.finish); the
			// conversation remembers where it places it for them.
			if m.ID > conv.marketedBy(m.UserID) {
				conv.setMarketed(m.UserID, m.ID)
			}
		} else {
			users = []model.ID{m.UserID}
		}
		// Someone wrote to this number: its conversation leaves the
		// unassigned inbox.
		if !late {
			if err := tx.removeUnassigned(m.Number); err != nil {
				return err
			}
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

// isBulk reports whether m is one message of a bulk send: outgoing
// marketing from a user, with its batch. Such a message writes no per-user
// index entries (see idx_user_batch).
func isBulk(m *model.Message) bool {
	return m.Direction == model.Outgoing && m.Marketing && m.UserID != 0 && m.BatchID != 0
}

// batchRun is the batch whose messages this transaction is inserting.
type batchRun struct {
	batch, user, first, last model.ID
	bulk                     bool
	// the messages left unfiled (see unfiled.go), their parts, lane and
	// earliest due time
	unfiled []unfiledRef
	parts   uint64
	lane    Lane
	due     uint64
}

// joinBatch checks that m continues its batch's run of message keys: a
// batch's messages are the messages that follow its ID, up to the first
// message of another batch (BatchMessages reads them so, and the spans of
// idx_user_batch are those runs). IDs only grow (NewID) and a send inserts
// its messages one after the other in one transaction, so nothing else
// lands in between; this guards that.
func (tx *Tx) joinBatch(m *model.Message) error {
	c := tx.cursor(bMessages)
	if tx.run.batch == m.BatchID {
		var next [8]byte
		putU64(next[:], uint64(tx.run.last)+1)
		if key, _ := c.Seek(tx.key(next[:])); key != nil {
			return fmt.Errorf("store: insert message %s: batch %s's messages must follow one another (found %s)",
				m.ID, m.BatchID, model.ID(getU64(key)))
		}
	} else if key, v := c.Last(); key != nil && model.ID(getU64(key)) > m.BatchID {
		// The batch goes on from an earlier transaction: the newest
		// message must be its.
		h, err := decodeHead(v)
		if err != nil {
			return err
		}
		if h.BatchID != m.BatchID {
			return fmt.Errorf("store: insert message %s: batch %s's messages must follow its ID without another message between (found %s)",
				m.ID, m.BatchID, h.ID)
		}
	}
	if tx.run.batch != m.BatchID {
		if err := tx.closeRun(); err != nil {
			return err
		}
		tx.run = batchRun{batch: m.BatchID, user: m.UserID, first: m.ID, bulk: isBulk(m)}
	}
	if isBulk(m) != tx.run.bulk || (tx.run.bulk && m.UserID != tx.run.user) {
		return fmt.Errorf("store: insert message %s: batch %s mixes bulk and other messages or senders", m.ID, m.BatchID)
	}
	tx.run.last = m.ID
	return nil
}

// closeRun writes the idx_user_batch entry of the bulk send being
// inserted, if any (extending an entry an earlier transaction wrote).
func (tx *Tx) closeRun() error {
	r := tx.run
	tx.run = batchRun{}
	if !r.bulk {
		return nil
	}
	if len(r.unfiled) > 0 {
		if err := tx.writeUnfiled(&r); err != nil {
			return err
		}
	}
	key := k(u64(uint64(r.user)), u64(uint64(r.batch)))
	b := tx.b(bIdxUserBatch)
	if v := b.Get(key); len(v) == 16 {
		r.first = min(r.first, model.ID(getU64(v)))
		r.last = max(r.last, model.ID(getU64(v[8:])))
	}
	return b.Put(key, k(u64(uint64(r.first)), u64(uint64(r.last))))
}

// finish runs when a write transaction's function returned nil, before the
// commit: it writes what the transaction kept for its end.
func (tx *Tx) finish() error { return tx.closeRun() }

// associate adds m (not a bulk message) to user u's indexes and moves the
// conversation in u's sort order.
func (tx *Tx) associate(u model.ID, m *model.Message) error {
	uid, id := u64(uint64(u)), u64(uint64(m.ID))
	if err := tx.b(bIdxUser).Put(tx.key(uid, id), nil); err != nil {
		return err
	}
	if m.Direction == model.Outgoing && m.UserID == u {
		if err := tx.b(bIdxUserSent).Put(tx.key(uid, str(m.Number), id), nil); err != nil {
			return err
		}
	}
	if m.Marketing {
		return nil // (only a bulk send's messages are marketing; kept for safety)
	}
	ucKey := k(uid, []byte(m.Number))
	var uc UserConv
	if err := tx.getRecord(bUConv, ucKey, &uc); err != nil && err != ErrNotFound {
		return err
	}
	if m.ID <= uc.LastPlain {
		return nil
	}
	if uc.LastPlain != 0 {
		if err := tx.b(bUConvAll).Delete(uconvAllKey(u, uc.LastPlain, m.Number)); err != nil {
			return err
		}
	}
	uc.LastPlain = m.ID
	if err := tx.b(bUConvAll).Put(uconvAllKey(u, uc.LastPlain, m.Number), nil); err != nil {
		return err
	}
	return tx.putUserConvRecord(tx.b(bUConv), ucKey, &uc)
}

func uconvAllKey(u, last model.ID, number string) []byte {
	return k(u64(uint64(u)), u64(uint64(last)), []byte(number))
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
// message event log in step with old (nil for a new message). parts are
// m's parts when the caller has them: the part of a one-part outgoing
// message is kept in its message record (format 7). With nil, a part the
// record holds is kept as it is.
func (tx *Tx) putMessage(old, m *model.Message, parts []model.Part) error {
	var idb [8]byte
	putU64(idb[:], uint64(m.ID))
	id := idb[:]
	// Queued messages are found through idx_lane (MessagesByState):
	// idx_msg_state has the others.
	if old != nil && old.State != m.State && old.State != model.StateQueued {
		if err := tx.b(bIdxMsgState).Delete(tx.key([]byte{stateCode[old.State]}, id)); err != nil {
			return err
		}
	}
	if (old == nil || old.State != m.State) && m.State != model.StateQueued {
		if err := tx.b(bIdxMsgState).Put(tx.key([]byte{stateCode[m.State]}, id), nil); err != nil {
			return err
		}
	}
	if old != nil && failureListed(old) {
		var at [8]byte
		putU64(at[:], unixNano(old.FailedAt))
		if err := tx.b(bIdxFailures).Delete(tx.key(at[:], id)); err != nil {
			return err
		}
	}
	if failureListed(m) {
		var at [8]byte
		putU64(at[:], unixNano(m.FailedAt))
		if err := tx.b(bIdxFailures).Put(tx.key(at[:], id), nil); err != nil {
			return err
		}
	}
	if err := tx.logMessageEvent(old, m); err != nil {
		return err
	}
	var fold *model.Part
	var raw []byte
	switch {
	case len(parts) == 1:
		fold = &parts[0]
		if old != nil {
			// A part written before format 7 moves into the record.
			pk := tx.key(id, []byte{1})
			if tx.get(bParts, pk) != nil {
				if err := tx.b(bParts).Delete(pk); err != nil {
					return err
				}
			}
		}
	case parts == nil && old != nil:
		raw = foldedRaw(tx.get(bMessages, tx.key(id)))
	}
	return tx.putMessageRecord(tx.b(bMessages), tx.key(id), m, fold, raw)
}

// foldedMark starts the part a one-part message's record holds (always its
// last field; a quote inside a JSON string is escaped, so the mark only
// occurs as that key).
var foldedMark = []byte(`,"part":{`)

// foldedRaw is the JSON object of the part a message record holds (nil:
// none).
func foldedRaw(v []byte) []byte {
	i := bytes.LastIndex(v, foldedMark)
	if i < 0 || len(v) < i+len(foldedMark)+1 {
		return nil
	}
	return v[i+len(foldedMark)-1 : len(v)-1]
}

// foldedPart decodes the part a message record holds (ok false: none).
func foldedPart(v []byte, id model.ID) (model.Part, bool, error) {
	raw := foldedRaw(v)
	if raw == nil {
		return model.Part{}, false, nil
	}
	var p model.Part
	if err := unmarshal(raw, &p); err != nil {
		return model.Part{}, false, fmt.Errorf("store: part %s/1: %w", id, err)
	}
	p.MessageID, p.Seq = id, 1
	return p, true, nil
}

func failureListed(m *model.Message) bool {
	return m.Direction == model.Outgoing && m.State.IsFailure() && !m.Dismissed
}

// putPart writes p (a part of m), keeping the part-state, lane (outbox) and
// MR indexes in step with old (nil for a new part). The part of a one-part
// message (folded) is written by putMessage, in the message's record.
func (tx *Tx) putPart(m *model.Message, old, p *model.Part, folded, filed bool) error {
	var kb [9]byte
	putU64(kb[:], uint64(p.MessageID))
	kb[8] = byte(p.Seq)
	key := kb[:]
	if old != nil {
		if old.State != p.State && old.State != model.StateQueued {
			if err := tx.b(bIdxPartState).Delete(tx.key([]byte{stateCode[old.State]}, key)); err != nil {
				return err
			}
		}
		if old.State == model.StateQueued {
			if err := tx.b(bIdxLane).Delete(tx.laneKey(m, old)); err != nil {
				return err
			}
		}
		if old.MR >= 0 && old.Modem != "" && (old.MR != p.MR || old.Modem != p.Modem) {
			if err := tx.b(bIdxMR).Delete(mrKey(old.Modem, old.MR, clone(key))); err != nil {
				return err
			}
		}
	}
	// Queued parts are idx_lane's; idx_part_state has the others.
	if (old == nil || old.State != p.State) && p.State != model.StateQueued {
		if err := tx.b(bIdxPartState).Put(tx.key([]byte{stateCode[p.State]}, key), nil); err != nil {
			return err
		}
	}
	if p.State == model.StateQueued && filed {
		if err := tx.b(bIdxLane).Put(tx.laneKey(m, p), nil); err != nil {
			return err
		}
	}
	if p.MR >= 0 && p.Modem != "" {
		if err := tx.b(bIdxMR).Put(mrKey(p.Modem, p.MR, clone(key)), nil); err != nil {
			return err
		}
	}
	if folded {
		return nil // (putMessage writes it)
	}
	return tx.putPartRecord(tx.b(bParts), tx.key(key), p)
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
	if err := tx.fileIfUnfiled(&m); err != nil {
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
			if err := tx.putPart(&m, &oldParts[i], &parts[i], len(parts) == 1, true); err != nil {
				return model.Message{}, err
			}
		}
	}
	if len(parts) > 0 {
		rollUpInto(&m, parts, now)
	}
	m.UpdatedAt = now
	if err := tx.putMessage(&oldM, &m, parts); err != nil {
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
	if err := tx.fileIfUnfiled(&m); err != nil {
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
		if p.State == model.StateQueued {
			_ = tx.b(bIdxLane).Delete(laneKey(&m, p))
		} else {
			_ = tx.b(bIdxPartState).Delete(k([]byte{stateCode[p.State]}, pk))
		}
		if p.MR >= 0 && p.Modem != "" {
			_ = tx.b(bIdxMR).Delete(mrKey(p.Modem, p.MR, pk))
		}
		// (a one-part message's part is in its record since format 7,
		// or still here when written before)
		if err := tx.b(bParts).Delete(pk); err != nil {
			return err
		}
	}
	if m.State != model.StateQueued {
		if err := tx.b(bIdxMsgState).Delete(k([]byte{stateCode[m.State]}, key)); err != nil {
			return err
		}
	}
	if failureListed(&m) {
		if err := tx.b(bIdxFailures).Delete(k(tns(m.FailedAt), key)); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxConv).Delete(k(str(m.Number), key)); err != nil {
		return err
	}
	users := m.Users
	if m.Direction == model.Outgoing && m.UserID != 0 && !isBulk(&m) {
		users = []model.ID{m.UserID}
		if err := tx.b(bIdxUserSent).Delete(k(u64(uint64(m.UserID)), str(m.Number), key)); err != nil {
			return err
		}
	}
	for _, u := range users {
		if err := tx.b(bIdxUser).Delete(k(u64(uint64(u)), key)); err != nil {
			return err
		}
	}
	conv, err := tx.Conversation(m.Number)
	if err == nil {
		if isBulk(&m) && conv.marketedBy(m.UserID) == id {
			// Its idx_conv entry is gone: the sender's last bulk
			// message here is now the newest one left, if any.
			conv.setMarketed(m.UserID, tx.lastBulkIn(m.UserID, m.Number, id))
		}
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
			_ = tx.b(bUConvAll).Delete(uconvAllKey(u, uc.LastPlain, conv.Number))
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

// ConversationView is the conversation with number as readers see it: its
// record with the unfiled bulk messages there (unfiled.go) counted in, their
// senders among its users and the newest of them as its last message when
// newer. ErrNotFound when there is neither. Not for writing back.
func (tx *Tx) ConversationView(number string) (Conversation, error) {
	c, err := tx.Conversation(number)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return c, err
	}
	found := err == nil
	if !tx.anyUnfiled() {
		return c, err
	}
	if err := tx.unfiledSends(func(s *unfiledSend) bool {
		ids := s.ids(nil, number)
		if len(ids) == 0 {
			return true
		}
		found = true
		c.Count += len(ids)
		c.LastMessageID = max(c.LastMessageID, ids[len(ids)-1])
		if !slices.Contains(c.Users, s.head.user) {
			c.Users = append(c.Users, s.head.user)
		}
		if ids[len(ids)-1] > c.marketedBy(s.head.user) {
			c.setMarketed(s.head.user, ids[len(ids)-1])
		}
		return true
	}); err != nil {
		return Conversation{}, err
	}
	if !found {
		return Conversation{}, ErrNotFound
	}
	c.Number = number
	return c, nil
}

// UserConv reads user u's sort key for a conversation (ErrNotFound when
// the user has no message in it but bulk messages).
func (tx *Tx) UserConv(u model.ID, number string) (UserConv, error) {
	var uc UserConv
	err := getJSON(tx.b(bUConv), k(u64(uint64(u)), []byte(number)), &uc)
	return uc, err
}

// HasConversation reports whether user u has a message in the conversation
// with number: sent (bulk sends included) or associated.
func (tx *Tx) HasConversation(u model.ID, number string) bool {
	if tx.b(bUConv).Get(k(u64(uint64(u)), []byte(number))) != nil {
		return true
	}
	mk, _ := tx.marketedIn(number, u)
	return mk != 0
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
		if err := tx.putMessage(&old, &m, nil); err != nil {
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
