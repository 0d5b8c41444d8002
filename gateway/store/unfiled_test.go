package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// unfiledFixture is a bulk send stored the way SendBulk stores one.
type unfiledFixture struct {
	batch, user model.ID
	ids         []model.ID // in ID order
	number      map[model.ID]string
	parts       map[model.ID]int
}

// insertBulk stores, in one transaction, one message of batch to each of
// numbers (a message to a number listed in multi has two parts); expires
// is their ExpiresAt (zero: none).
func insertBulk(t *testing.T, db *DB, f *unfiledFixture, numbers []string, multi map[string]bool, expires time.Time) {
	t.Helper()
	if f.number == nil {
		f.number, f.parts = map[model.ID]string{}, map[model.ID]int{}
	}
	if err := db.Update(func(tx *Tx) error {
		for _, number := range numbers {
			np := 1
			if multi[number] {
				np = 2
			}
			parts := make([]model.Part, np)
			for i := range parts {
				parts[i] = model.Part{TPDU: []byte{byte(i), 7}, NextAttempt: db.Now()}
			}
			m := model.Message{ID: tx.NewID(), BatchID: f.batch, Direction: model.Outgoing, Number: number, UserID: f.user,
				Marketing: true, Campaign: "spring", Text: "Spring sale", Parts: np, ExpiresAt: expires}
			if err := tx.InsertMessage(&m, parts); err != nil {
				return err
			}
			f.ids = append(f.ids, m.ID)
			f.number[m.ID], f.parts[m.ID] = number, np
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func newBulk(db *DB) *unfiledFixture { return &unfiledFixture{batch: db.NewID(), user: db.NewID()} }

// unfiledState is what the store holds for a send's unfiled messages.
func unfiledState(t *testing.T, db *DB, batch model.ID) (s unfiledSend, ok bool, tail bool) {
	t.Helper()
	_ = db.View(func(tx *Tx) error {
		s, ok = tx.unfiledSend(batch)
		s.table = bytes.Clone(s.table)
		c := tx.b(bIdxLane).Cursor()
		for key, _ := c.First(); key != nil; key, _ = c.Next() {
			if isTailKey(key) && model.ID(getU64(key[1:9])) == batch {
				tail = true
			}
		}
		return nil
	})
	return s, ok, tail
}

// checkUnfiled asserts what must hold of a send's unfiled record: its
// table is sorted by (number, ID); its messages are exactly those at or
// after next that are still queued and in no thread's index; the head
// counts their parts; a tail key exists while any is left, and nothing
// is left once none is.
func checkUnfiled(t *testing.T, db *DB, f *unfiledFixture) (unfiled []model.ID) {
	t.Helper()
	s, ok, tail := unfiledState(t, db, f.batch)
	if err := db.View(func(tx *Tx) error {
		var wantParts uint64
		for _, id := range f.ids {
			m, err := tx.Message(id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			inThread := tx.b(bIdxConv).Get(k(str(m.Number), u64(uint64(id)))) != nil
			held := ok && s.holds(m.Number, id)
			if held == inThread {
				t.Errorf("message %s: unfiled=%v, in its thread's index=%v", id, held, inThread)
			}
			if held {
				unfiled = append(unfiled, id)
				wantParts += uint64(f.parts[id])
				if m.State != model.StateQueued {
					t.Errorf("unfiled message %s is %s", id, m.State)
				}
			}
		}
		if ok && s.head.parts != wantParts {
			t.Errorf("head counts %d parts, the unfiled messages have %d", s.head.parts, wantParts)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ok {
		for e := unfiledEntry; e+unfiledEntry <= len(s.table); e += unfiledEntry {
			if bytes.Compare(s.table[e-unfiledEntry:e], s.table[e:e+unfiledEntry]) >= 0 {
				t.Errorf("table entry %d out of order", e/unfiledEntry)
			}
		}
	}
	if ok != tail || ok != (len(unfiled) > 0) {
		t.Errorf("unfiled record %v, tail key %v, with %d unfiled messages", ok, tail, len(unfiled))
	}
	return unfiled
}

// claimAll claims and sends every due part, returning the message of each
// in claim order.
func claimAll(t *testing.T, db *DB, f *unfiledFixture) []model.ID {
	t.Helper()
	var order []model.ID
	for {
		var got Claimed
		var ok bool
		if err := db.Update(func(tx *Tx) error {
			var err error
			if got, ok, err = tx.Claim(Claim{Modem: "m1"}); err != nil || !ok {
				return err
			}
			_, err = tx.MarkSent(got.Message.ID, got.Part.Seq, "m1", len(order)%256)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !ok {
			return order
		}
		order = append(order, got.Message.ID)
		checkUnfiled(t, db, f)
	}
}

// wantOrder is each message of ids once per part, in ID order.
func wantOrder(f *unfiledFixture, ids []model.ID) []model.ID {
	var out []model.ID
	for _, id := range ids {
		for range f.parts[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestUnfiledBulkIsFiledAsItIsTaken: a bulk send's messages wait unfiled
// (one record, one tail key), are shown in their threads and views all the
// same, and are filed one by one as the dispatcher takes them, in ID
// order, a two-part message's parts one after the other; a number too long
// for the table is filed at once (and so taken first); at the end nothing
// unfiled is left.
func TestUnfiledBulkIsFiledAsItIsTaken(t *testing.T) {
	db, _, _ := openTest(t)
	f := newBulk(db)
	long := "+" + strings.Repeat("4", unfiledSlot) // (25 bytes)
	numbers := []string{"+447900000003", "+447900000001", long, "+447900000002", "+447900000001"}
	insertBulk(t, db, f, numbers, map[string]bool{"+447900000002": true}, time.Time{})

	unfiled := checkUnfiled(t, db, f)
	if want := []model.ID{f.ids[0], f.ids[1], f.ids[3], f.ids[4]}; !slices.Equal(unfiled, want) {
		t.Fatalf("unfiled %v, want every message but the long number's: %v", unfiled, want)
	}
	if err := db.View(func(tx *Tx) error {
		// The number written to twice shows both messages, newest
		// first, and its view says the sender wrote to it.
		ms, err := tx.ConversationMessages("+447900000001", Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(ms) != 2 || ms[0].ID != f.ids[4] || ms[1].ID != f.ids[1] {
			t.Errorf("thread of +447900000001: %v", messageIDs(ms))
		}
		v, err := tx.ConversationView("+447900000001")
		if err != nil {
			return err
		}
		if !slices.Contains(v.Users, f.user) || v.LastMessageID != f.ids[4] {
			t.Errorf("view of +447900000001: %+v", v)
		}
		if _, err := tx.Conversation("+447900000001"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unfiled message's conversation record exists: %v", err)
		}
		if got := tx.LaneDepth(LaneBulk); got != 6 {
			t.Errorf("LaneDepth(bulk) = %d, want 6 parts", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The long number's message, filed, goes before the unfiled ones
	// due at the same time (their tail key sorts after it).
	order := claimAll(t, db, f)
	if want := wantOrder(f, append([]model.ID{f.ids[2]}, unfiled...)); !slices.Equal(order, want) {
		t.Fatalf("claimed %v, want %v", order, want)
	}
	if _, ok, tail := unfiledState(t, db, f.batch); ok || tail {
		t.Fatalf("after the last claim: record %v, tail key %v", ok, tail)
	}
	if err := db.View(func(tx *Tx) error {
		for _, number := range []string{"+447900000001", long} {
			c, err := tx.Conversation(number)
			if err != nil {
				return fmt.Errorf("%s: %w", number, err)
			}
			if !slices.Contains(c.Users, f.user) {
				t.Errorf("%s: filed conversation without its sender: %+v", number, c)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func messageIDs(ms []model.Message) []model.ID {
	out := make([]model.ID, len(ms))
	for i := range ms {
		out[i] = ms[i].ID
	}
	return out
}

// TestChangingAnUnfiledMessageFilesThoseBefore: deleting or claiming (Only)
// a message in the middle of a send files it and the messages before it;
// the dispatcher then takes the others in order, and the deleted one never.
func TestChangingAnUnfiledMessageFilesThoseBefore(t *testing.T) {
	db, _, _ := openTest(t)
	f := newBulk(db)
	var numbers []string
	for i := range 6 {
		numbers = append(numbers, fmt.Sprintf("+44790000%04d", 6-i)) // (table order is not ID order)
	}
	insertBulk(t, db, f, numbers, nil, time.Time{})

	if err := db.Update(func(tx *Tx) error { return tx.DeleteMessage(f.ids[2]) }); err != nil {
		t.Fatal(err)
	}
	if got, want := checkUnfiled(t, db, f), f.ids[3:]; !slices.Equal(got, want) {
		t.Fatalf("after deleting the third: unfiled %v, want %v", got, want)
	}
	var only Claimed
	if err := db.Update(func(tx *Tx) error {
		var ok bool
		var err error
		if only, ok, err = tx.Claim(Claim{Modem: "m1", Only: f.ids[4]}); err == nil && !ok {
			err = errors.New("nothing claimed")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if only.Message.ID != f.ids[4] {
		t.Fatalf("Only claimed %s, want %s", only.Message.ID, f.ids[4])
	}
	if got, want := checkUnfiled(t, db, f), f.ids[5:]; !slices.Equal(got, want) {
		t.Fatalf("after claiming the fifth: unfiled %v, want %v", got, want)
	}
	order := claimAll(t, db, f)
	if want := []model.ID{f.ids[0], f.ids[1], f.ids[3], f.ids[5]}; !slices.Equal(order, want) {
		t.Fatalf("claimed %v, want %v", order, want)
	}
	if err := db.View(func(tx *Tx) error {
		ms, err := tx.ConversationMessages(f.number[f.ids[2]], Page{Limit: 10})
		if len(ms) != 0 {
			t.Errorf("the deleted message's thread: %v", messageIDs(ms))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestUnfiledSendAcrossTransactionsAndReopen: a send stored in two
// transactions (the second adding to the first's table, with a number in
// both) survives closing and reopening the file, and every message goes
// out once, in ID order.
func TestUnfiledSendAcrossTransactionsAndReopen(t *testing.T) {
	db, c, path := openTest(t)
	f := newBulk(db)
	insertBulk(t, db, f, []string{"+447900000005", "+447900000002", "+447900000009"}, nil, time.Time{})
	// The first message is taken before the rest of the send is stored.
	if err := db.Update(func(tx *Tx) error {
		_, ok, err := tx.Claim(Claim{Modem: "m1"})
		if err == nil && !ok {
			err = errors.New("nothing claimed")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	insertBulk(t, db, f, []string{"+447900000002", "+447900000001", "+447900000007"}, map[string]bool{"+447900000007": true}, time.Time{})
	if got, want := checkUnfiled(t, db, f), f.ids[1:]; !slices.Equal(got, want) {
		t.Fatalf("unfiled %v, want %v", got, want)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{Now: c.Now, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if got, want := checkUnfiled(t, db, f), f.ids[1:]; !slices.Equal(got, want) {
		t.Fatalf("after reopening: unfiled %v, want %v", got, want)
	}
	if err := db.View(func(tx *Tx) error {
		ms, err := tx.ConversationMessages("+447900000002", Page{Limit: 10})
		if len(ms) != 2 {
			t.Errorf("thread of +447900000002 after reopening: %v", messageIDs(ms))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if order, want := claimAll(t, db, f), wantOrder(f, f.ids[1:]); !slices.Equal(order, want) {
		t.Fatalf("claimed %v, want %v", order, want)
	}
}

// TestUnfiledMessagesExpire: a bulk send whose validity ran out while its
// messages waited unfiled is found by ExpiredDue and expired whole, and
// nothing of it is left in the outbox.
func TestUnfiledMessagesExpire(t *testing.T) {
	db, c, _ := openTest(t)
	f := newBulk(db)
	insertBulk(t, db, f, []string{"+447900000003", "+447900000001", "+447900000002"}, map[string]bool{"+447900000001": true}, db.Now().Add(time.Hour))
	var found []model.ID
	_ = db.View(func(tx *Tx) error { found, _ = tx.ExpiredDue(0); return nil })
	if len(found) != 0 {
		t.Fatalf("ExpiredDue before the hour: %v", found)
	}
	c.t = c.t.Add(2 * time.Hour)
	if err := db.View(func(tx *Tx) (err error) { found, err = tx.ExpiredDue(0); return err }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(found, f.ids) {
		t.Fatalf("ExpiredDue = %v, want %v", found, f.ids)
	}
	if err := db.Update(func(tx *Tx) error { _, _, err := tx.ExpireMessages(found); return err }); err != nil {
		t.Fatal(err)
	}
	checkUnfiled(t, db, f)
	if err := db.View(func(tx *Tx) error {
		for _, id := range f.ids {
			m, err := tx.Message(id)
			if err != nil {
				return err
			}
			if m.State != model.StateExpired {
				t.Errorf("message %s is %s", id, m.State)
			}
		}
		if n := tx.LaneDepth(LaneBulk); n != 0 {
			t.Errorf("LaneDepth(bulk) = %d after expiry", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if order := claimAll(t, db, f); len(order) != 0 {
		t.Fatalf("expired messages claimed: %v", order)
	}
}
