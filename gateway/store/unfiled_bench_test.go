package store

import (
	"fmt"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// bulkFixture stores one bulk send from a new user to n new numbers (one
// part each), committed in one transaction as Send does.
func bulkFixture(b *testing.B, db *DB, n, from int) model.ID {
	b.Helper()
	u := db.NewID()
	if err := db.Update(func(tx *Tx) error {
		batch := tx.NewID()
		for i := range n {
			m := model.Message{ID: tx.NewID(), BatchID: batch, Direction: model.Outgoing, Number: fmt.Sprintf("+4479%08d", from+i),
				UserID: u, Marketing: true, Text: "Spring sale: 20% off everything until Sunday. Reply STOP to opt out.", Parts: 1}
			if err := tx.InsertMessage(&m, []model.Part{{TPDU: make([]byte, 80), NextAttempt: db.Now()}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return u
}

// BenchmarkClaimBulkPart: the dispatcher's two commits for one part of a
// 10,000-recipient bulk send: the claim (which files the message since
// format 8) and the modem's answer (MarkSent). filed=true files the whole
// send first (as format 7 did when accepting it): the difference is what
// filing costs a claim.
func BenchmarkClaimBulkPart(b *testing.B) {
	for _, filed := range []bool{false, true} {
		b.Run(fmt.Sprintf("filed=%v", filed), func(b *testing.B) { benchClaim(b, filed) })
	}
}

func benchClaim(b *testing.B, filed bool) {
	db, _, _ := openTest(b)
	left, next := 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if left == 0 {
			b.StopTimer()
			bulkFixture(b, db, 10000, next)
			if filed {
				if err := db.Update(fileEverything); err != nil {
					b.Fatal(err)
				}
			}
			left, next = 10000, next+10000
			b.StartTimer()
		}
		var d Due
		if err := db.Update(func(tx *Tx) error {
			var ok bool
			var err error
			if d, ok, err = tx.ClaimDue("m1", nil); err == nil && !ok {
				err = fmt.Errorf("nothing due")
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
		if err := db.Update(func(tx *Tx) error {
			_, err := tx.MarkSent(d.Message.ID, d.Part.Seq, "m1", i%256)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		left--
	}
}

// benchReadWithUnfiledBulk runs read while a 10,000-recipient bulk send
// from user u (made after known, when set, gives each number an incoming
// message first) waits unfiled, and once it is all filed.
func benchReadWithUnfiledBulk(b *testing.B, known bool, read func(tx *Tx, u model.ID) error) {
	for _, filed := range []bool{false, true} {
		b.Run(fmt.Sprintf("filed=%v", filed), func(b *testing.B) {
			db, _, _ := openTest(b)
			if known {
				if err := db.Update(func(tx *Tx) error {
					for i := range 10000 {
						m := model.Message{ID: tx.NewID(), Direction: model.Incoming, Number: fmt.Sprintf("+4479%08d", i),
							State: model.StateDelivered, Text: "hello"}
						if err := tx.InsertMessage(&m, nil); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			u := bulkFixture(b, db, 10000, 0)
			if filed {
				if err := db.Update(fileEverything); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := db.View(func(tx *Tx) error { return read(tx, u) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkListWithUnfiledBulk: one page of the sender's conversation
// list, marketing included, each row's view and thread (format 8: each
// row looks the number up in the send's table).
func BenchmarkListWithUnfiledBulk(b *testing.B) {
	benchReadWithUnfiledBulk(b, false, func(tx *Tx, u model.ID) error {
		refs := tx.UserConversations(u, false, nil, 50)
		if len(refs) != 50 {
			return fmt.Errorf("%d rows", len(refs))
		}
		for _, r := range refs {
			if _, err := tx.ConversationView(r.Number); err != nil {
				return err
			}
			if _, err := tx.ConversationMessages(r.Number, Page{Limit: 50}); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkRecentWithUnfiledBulk: the first page of the admins' list of
// all conversations (RecentConversations, 50 rows), every number with a
// conversation before the send.
func BenchmarkRecentWithUnfiledBulk(b *testing.B) {
	benchReadWithUnfiledBulk(b, true, func(tx *Tx, _ model.ID) error {
		if refs := tx.RecentConversations(nil, 50); len(refs) != 50 {
			return fmt.Errorf("%d rows", len(refs))
		}
		return nil
	})
}
