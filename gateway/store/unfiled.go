package store

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Bulk messages filed when first taken (format 8).
//
// Accepting a bulk send used to write, for every recipient, the message
// record and four entries that place it: idx_conv (its conversation's
// thread), the conversation record, idx_conv_last and idx_lane (the
// outbox). bbolt's cost is per key (BENCHMARKS.md), and a 10,000-recipient
// send paid it 50,000 times in one transaction before any of them could
// go. Since format 8, InsertMessage writes only the record of a bulk
// message that waits in a grouped lane (LaneBulk, LaneLow); the send's
// transaction ends by writing, once:
//
//   - a head (bulk_unfiled): the first message that may still be unfiled
//     (next), the send's last message, the sender, the lane, when its parts
//     are due and how many parts are unfiled; each filing rewrites it;
//   - a table (bulk_unfiled_table) of (number, message ID), sorted, fixed
//     width, read in place by binary search: which unfiled message goes to
//     a number. Written once and deleted with the head: in a bucket of its
//     own, so that rewriting a head does not rewrite the leaf holding a
//     table of 320 KB (10,000 recipients);
//   - one idx_lane key standing for all of them (the tail key, sorted after
//     every filed part due at the same time, so that a multipart message
//     the dispatcher started is finished before the next one starts).
//
// A message is filed — given the entries InsertMessage gives any other
// message — the first time it changes (UpdateMessage, DeleteMessage),
// together with every earlier unfiled message of its send: the unfiled
// messages of a send are always the table's entries from next on. The
// dispatcher's claim is that first change for nearly every message, so the
// claim's transaction files one message, as accepting it used to. Readers
// that place messages in conversations merge the unfiled ones in (threads,
// a user's last bulk message in a conversation and with it the listings,
// the recent conversations, the outbox's walks and counts).

// unfiledSlot is the width of a number in the table (zero-padded: a phone
// number holds no zero byte, so padded slots sort as the numbers do). A
// longer number is filed when inserted.
const (
	unfiledSlot  = 24
	unfiledEntry = unfiledSlot + 8
	unfiledHeadN = 8 + 8 + 8 + 1 + 8 + 8
)

// unfiledHead is the head of a send's unfiled messages.
type unfiledHead struct {
	next, last, user model.ID
	lane             Lane
	due              uint64 // unix nanoseconds
	parts            uint64
}

func (h *unfiledHead) encode() []byte {
	b := make([]byte, unfiledHeadN)
	putU64(b[0:], uint64(h.next))
	putU64(b[8:], uint64(h.last))
	putU64(b[16:], uint64(h.user))
	b[24] = byte(h.lane)
	putU64(b[25:], h.due)
	putU64(b[33:], h.parts)
	return b
}

func decodeUnfiledHead(v []byte) (unfiledHead, bool) {
	if len(v) != unfiledHeadN {
		return unfiledHead{}, false
	}
	return unfiledHead{
		next: model.ID(getU64(v[0:])), last: model.ID(getU64(v[8:])), user: model.ID(getU64(v[16:])),
		lane: Lane(v[24]), due: getU64(v[25:]), parts: getU64(v[33:]),
	}, true
}

// unfiledSend is one send's unfiled messages as stored.
type unfiledSend struct {
	batch model.ID
	head  unfiledHead
	table []byte // valid for the transaction
}

// tailKey is the idx_lane key standing for the send's unfiled messages:
// lane | group | due | all ones | seq 0 (a real part's seq is at least 1).
func (s *unfiledSend) tailKey() []byte {
	b := make([]byte, 0, 26)
	b = append(b, byte(s.head.lane))
	b = append(b, u64(uint64(s.batch))...)
	b = append(b, u64(s.head.due)...)
	b = append(b, u64(^uint64(0))...)
	return append(b, 0)
}

// isTailKey reports whether an idx_lane key is a send's tail key.
func isTailKey(key []byte) bool { return len(key) == 26 && key[25] == 0 }

func unfiledNumber[T string | []byte](number T) (slot [unfiledSlot]byte) {
	copy(slot[:], number)
	return slot
}

// find is the range of table entries for number.
func (s *unfiledSend) find(number string) (lo, hi int) { return s.findSlot(unfiledNumber(number)) }

func (s *unfiledSend) findSlot(slot [unfiledSlot]byte) (lo, hi int) {
	n := len(s.table) / unfiledEntry
	at := func(i int) []byte { return s.table[i*unfiledEntry : i*unfiledEntry+unfiledSlot] }
	lo = sort.Search(n, func(i int) bool { return bytes.Compare(at(i), slot[:]) >= 0 })
	hi = lo
	for hi < n && bytes.Equal(at(hi), slot[:]) {
		hi++
	}
	return lo, hi
}

func (s *unfiledSend) idAt(i int) model.ID {
	return model.ID(getU64(s.table[i*unfiledEntry+unfiledSlot:]))
}

// ids appends the send's unfiled messages to number, oldest first.
func (s *unfiledSend) ids(out []model.ID, number string) []model.ID {
	lo, hi := s.find(number)
	for i := lo; i < hi; i++ {
		if id := s.idAt(i); id >= s.head.next {
			out = append(out, id)
		}
	}
	return out
}

// holds reports whether message id to number is one of the send's unfiled
// messages.
func (s *unfiledSend) holds(number string, id model.ID) bool {
	return s.holdsSlot(unfiledNumber(number), id)
}

func (s *unfiledSend) holdsSlot(slot [unfiledSlot]byte, id model.ID) bool {
	if id < s.head.next || id > s.head.last {
		return false
	}
	lo, hi := s.findSlot(slot)
	for i := lo; i < hi; i++ {
		if s.idAt(i) == id {
			return true
		}
	}
	return false
}

// unfiledRef is a message InsertMessage left unfiled, until the run's end.
type unfiledRef struct {
	number string
	id     model.ID
}

// deferFiling reports whether InsertMessage leaves m unfiled: a bulk
// message whose every part waits in a grouped lane.
func deferFiling(m *model.Message, parts []model.Part) bool {
	if !isBulk(m) || !LaneOf(m).Grouped() || len(parts) == 0 || len(m.Number) > unfiledSlot || m.Number == "" {
		return false
	}
	for i := range parts {
		if parts[i].State != model.StateQueued || !parts[i].NextAttempt.Equal(parts[0].NextAttempt) {
			return false
		}
	}
	return true
}

// leaveUnfiled notes m in the run being inserted (InsertMessage).
func (tx *Tx) leaveUnfiled(m *model.Message, parts []model.Part) {
	r := &tx.run
	due := unixNano(parts[0].NextAttempt)
	if len(r.unfiled) == 0 || due < r.due {
		r.due = due
	}
	r.unfiled = append(r.unfiled, unfiledRef{m.Number, m.ID})
	r.parts += uint64(len(parts))
	r.lane = LaneOf(m)
}

// writeUnfiled writes the run's unfiled messages (closeRun), merging them
// with those an earlier transaction left for the same send.
func (tx *Tx) writeUnfiled(r *batchRun) error {
	refs := r.unfiled
	slices.SortFunc(refs, func(a, b unfiledRef) int {
		if c := cmp.Compare(a.number, b.number); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	s, had := tx.unfiledSend(r.batch)
	old := s.table
	table := make([]byte, 0, len(old)+len(refs)*unfiledEntry)
	add := func(ref unfiledRef) {
		slot := unfiledNumber(ref.number)
		table = append(table, slot[:]...)
		table = append(table, u64(uint64(ref.id))...)
	}
	// Merge the two sorted lists (an earlier table's entries below next
	// are filed: dropped).
	i := 0
	for e := 0; e+unfiledEntry <= len(old); e += unfiledEntry {
		entry := old[e : e+unfiledEntry]
		if model.ID(getU64(entry[unfiledSlot:])) < s.head.next {
			continue
		}
		for i < len(refs) {
			slot := unfiledNumber(refs[i].number)
			if c := bytes.Compare(slot[:], entry[:unfiledSlot]); c > 0 || (c == 0 && refs[i].id > model.ID(getU64(entry[unfiledSlot:]))) {
				break
			}
			add(refs[i])
			i++
		}
		table = append(table, entry...)
	}
	for ; i < len(refs); i++ {
		add(refs[i])
	}
	b := tx.b(bBulkUnfiled)
	if had {
		if s.head.due != r.due && r.due < s.head.due {
			if err := tx.b(bIdxLane).Delete(s.tailKey()); err != nil {
				return err
			}
			s.head.due = r.due
		}
		s.head.last = max(s.head.last, r.last)
		s.head.parts += r.parts
	} else {
		s = unfiledSend{batch: r.batch, head: unfiledHead{next: r.last, last: r.last, user: r.user, lane: r.lane, due: r.due, parts: r.parts}}
		for _, ref := range refs {
			s.head.next = min(s.head.next, ref.id)
		}
	}
	s.table = table
	if err := b.Put(u64(uint64(r.batch)), s.head.encode()); err != nil {
		return err
	}
	if err := tx.b(bBulkUnfiledTable).Put(u64(uint64(r.batch)), table); err != nil {
		return err
	}
	return tx.b(bIdxLane).Put(s.tailKey(), nil)
}

// flushRun writes the unfiled messages of the run being inserted, if it is
// batch's (any batch when batch is 0), so that a lookup in the same
// transaction finds them.
func (tx *Tx) flushRun(batch model.ID) error {
	if len(tx.run.unfiled) > 0 && (batch == 0 || tx.run.batch == batch) {
		return tx.closeRun()
	}
	return nil
}

// unfiledSend reads batch's unfiled messages (ok false: none).
func (tx *Tx) unfiledSend(batch model.ID) (unfiledSend, bool) {
	b := tx.b(bBulkUnfiled)
	if b == nil {
		return unfiledSend{}, false // (a read-only open of an older file)
	}
	h, ok := decodeUnfiledHead(b.Get(u64(uint64(batch))))
	if !ok {
		return unfiledSend{}, false
	}
	return unfiledSend{batch: batch, head: h, table: tx.b(bBulkUnfiledTable).Get(u64(uint64(batch)))}, true
}

// unfiledSends calls fn for every send with unfiled messages, oldest send
// first, until fn returns false.
func (tx *Tx) unfiledSends(fn func(s *unfiledSend) bool) error {
	if err := tx.flushRun(0); err != nil {
		return err
	}
	b := tx.b(bBulkUnfiled)
	if b == nil {
		return nil // (a read-only open of an older file)
	}
	tables := tx.b(bBulkUnfiledTable)
	c := b.Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		h, ok := decodeUnfiledHead(v)
		if len(key) != 8 || !ok {
			continue
		}
		s := unfiledSend{batch: model.ID(getU64(key)), head: h, table: tables.Get(key)}
		if !fn(&s) {
			break
		}
	}
	return nil
}

// unfiledIn lists the unfiled messages to number, oldest first: user u's
// (every sender's when u is 0).
func (tx *Tx) unfiledIn(number string, u model.ID) []model.ID {
	if !tx.anyUnfiled() {
		return nil // (the usual case: nothing waits unfiled)
	}
	var out []model.ID
	_ = tx.unfiledSends(func(s *unfiledSend) bool {
		if u == 0 || s.head.user == u {
			out = s.ids(out, number)
		}
		return true
	})
	slices.Sort(out)
	return out
}

// anyUnfiled reports whether any message may be unfiled.
func (tx *Tx) anyUnfiled() bool {
	if len(tx.run.unfiled) > 0 {
		return true
	}
	b := tx.b(bBulkUnfiled)
	if b == nil {
		return false
	}
	key, _ := b.Cursor().First()
	return key != nil
}

// unfiledSource yields unfiledIn(number, u) newest first, strictly below
// before (0: from the newest).
func (tx *Tx) unfiledSource(number string, u, before model.ID) idSource {
	ids := tx.unfiledIn(number, u)
	i := len(ids) - 1
	return func() (model.ID, bool, error) {
		for ; i >= 0; i-- {
			if before == 0 || ids[i] < before {
				id := ids[i]
				i--
				return id, true, nil
			}
		}
		return 0, false, nil
	}
}

// unfiledOf reports whether m is unfiled, with its send.
func (tx *Tx) unfiledOf(m *model.Message) (unfiledSend, bool, error) {
	if !isBulk(m) || m.State != model.StateQueued {
		return unfiledSend{}, false, nil
	}
	if err := tx.flushRun(m.BatchID); err != nil {
		return unfiledSend{}, false, err
	}
	s, ok := tx.unfiledSend(m.BatchID)
	return s, ok && s.holds(m.Number, m.ID), nil
}

// unfiledWalk calls fn with the send's unfiled messages in ID order, from
// the first, until fn returns false.
func (tx *Tx) unfiledWalk(s *unfiledSend, fn func(id model.ID) bool) error {
	c := tx.b(bMessages).Cursor()
	for key, v := c.Seek(u64(uint64(s.head.next))); key != nil; key, v = c.Next() {
		id := model.ID(getU64(key))
		if id > s.head.last {
			break
		}
		number, err := recordNumber(v)
		if err != nil {
			return err
		}
		if len(number) <= unfiledSlot && s.holdsSlot(unfiledNumber(number), id) && !fn(id) {
			break
		}
	}
	return nil
}

// fileThrough files the send's unfiled messages up to through: each gets
// the conversation entries InsertMessage gives any message and its parts
// their place in the outbox. When none is left, the unfiled record and its
// tail key go.
func (tx *Tx) fileThrough(s *unfiledSend, through model.ID) error {
	var ids []model.ID
	if err := tx.unfiledWalk(s, func(id model.ID) bool {
		if id > through {
			return false
		}
		ids = append(ids, id)
		return true
	}); err != nil {
		return err
	}
	for _, id := range ids {
		m, err := tx.Message(id)
		if err != nil {
			return err
		}
		parts, err := tx.Parts(id)
		if err != nil {
			return err
		}
		for i := range parts {
			if parts[i].State == model.StateQueued {
				if err := tx.b(bIdxLane).Put(tx.laneKey(&m, &parts[i]), nil); err != nil {
					return err
				}
			}
			if s.head.parts > 0 {
				s.head.parts--
			}
		}
		if err := tx.fileConversation(&m, true); err != nil {
			return fmt.Errorf("store: file message %s: %w", id, err)
		}
	}
	b := tx.b(bBulkUnfiled)
	s.head.next = max(s.head.next, through+1)
	if s.head.next > s.head.last {
		if err := tx.b(bIdxLane).Delete(s.tailKey()); err != nil {
			return err
		}
		if err := b.Delete(u64(uint64(s.batch))); err != nil {
			return err
		}
		return tx.b(bBulkUnfiledTable).Delete(u64(uint64(s.batch)))
	}
	return b.Put(u64(uint64(s.batch)), s.head.encode())
}

// fileIfUnfiled files m (and the earlier unfiled messages of its send)
// before it changes.
func (tx *Tx) fileIfUnfiled(m *model.Message) error {
	s, ok, err := tx.unfiledOf(m)
	if err != nil || !ok {
		return err
	}
	return tx.fileThrough(&s, m.ID)
}

// tailIDs lists the unfiled messages a tail key stands for, oldest first,
// at most max (0: all).
func (tx *Tx) tailIDs(key []byte, max int) ([]model.ID, error) {
	s, ok := tx.unfiledSend(model.ID(getU64(key[1:9])))
	if !ok {
		return nil, nil
	}
	var out []model.ID
	err := tx.unfiledWalk(&s, func(id model.ID) bool {
		out = append(out, id)
		return max <= 0 || len(out) < max
	})
	return out, err
}

// tailParts is how many unfiled parts a tail key stands for.
func (tx *Tx) tailParts(key []byte) int {
	s, ok := tx.unfiledSend(model.ID(getU64(key[1:9])))
	if !ok {
		return 0
	}
	return int(s.head.parts)
}

// newestUnfiled maps each number with unfiled messages to its newest one.
func (tx *Tx) newestUnfiled() (map[string]model.ID, error) {
	out := map[string]model.ID{}
	err := tx.unfiledSends(func(s *unfiledSend) bool {
		for e := 0; e+unfiledEntry <= len(s.table); e += unfiledEntry {
			id := model.ID(getU64(s.table[e+unfiledSlot:]))
			if id < s.head.next {
				continue
			}
			number := string(bytes.TrimRight(s.table[e:e+unfiledSlot], "\x00"))
			if id > out[number] {
				out[number] = id
			}
		}
		return true
	})
	return out, err
}

// recordNumber is the number of a message record, read in place when the
// record is as the encoder writes it (decodeHead otherwise): the claim
// walks a send's unfiled records one by one.
func recordNumber(v []byte) ([]byte, error) {
	d := convDecoder{b: v}
	if d.lit(`{"id":`) {
		if _, ok := d.id(); ok {
			if d.lit(`,"batch_id":`) {
				d.id()
			}
			if d.lit(`,"direction":`) {
				if _, ok := d.str(); ok && d.lit(`,"number":`) {
					if s, ok := d.str(); ok {
						return s, nil
					}
				}
			}
		}
	}
	h, err := decodeHead(v)
	return []byte(h.Number), err
}
