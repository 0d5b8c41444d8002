package store

import (
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// insertLane stores an outgoing message of batch (0: none) with nparts
// parts due now.
func insertLane(t *testing.T, db *DB, number string, batch model.ID, marketing bool, priority int) model.Message {
	t.Helper()
	m := model.Message{ID: db.NewID(), BatchID: batch, Direction: model.Outgoing, Number: number, UserID: 1, Text: "t",
		Marketing: marketing, Priority: priority}
	parts := []model.Part{{TPDU: []byte{1}, NextAttempt: db.Now()}}
	if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, parts) }); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestClaimServesLanesInOrderAndBulksInTurn: urgent, then conversation,
// then the bulk batches one after the other (round robin), then low.
func TestClaimServesLanesInOrderAndBulksInTurn(t *testing.T) {
	db, _, _ := openTest(t)
	b1 := db.NewID()
	want := map[model.ID]string{}
	for i := range 3 {
		want[insertLane(t, db, fmt.Sprintf("+4410%d", i), b1, true, 0).ID] = fmt.Sprintf("b1-%d", i)
	}
	b2 := db.NewID() // (a batch's messages follow its ID)
	for i := range 2 {
		want[insertLane(t, db, fmt.Sprintf("+4420%d", i), b2, true, 0).ID] = fmt.Sprintf("b2-%d", i)
	}
	want[insertLane(t, db, "+44301", 0, false, -5).ID] = "low"
	want[insertLane(t, db, "+44302", 0, false, 0).ID] = "reply"
	want[insertLane(t, db, "+44303", 0, false, 100).ID] = "urgent"

	var order []string
	after := map[Lane]model.ID{}
	for {
		var got Claimed
		var ok bool
		if err := db.Update(func(tx *Tx) error {
			var err error
			got, ok, err = tx.Claim(Claim{Modem: "m1", After: after})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if got.Lane.Grouped() {
			after[got.Lane] = got.Group
		}
		order = append(order, want[got.Message.ID])
	}
	exp := []string{"urgent", "reply", "b1-0", "b2-0", "b1-1", "b2-1", "b1-2", "low"}
	if fmt.Sprint(order) != fmt.Sprint(exp) {
		t.Fatalf("claimed %v, want %v", order, exp)
	}
}

// TestClaimLanesAndOnly: a claim limited to some lanes leaves the others;
// Only takes the rest of one message whatever its lane.
func TestClaimLanesAndOnly(t *testing.T) {
	db, _, _ := openTest(t)
	bulk := insertLane(t, db, "+44101", db.NewID(), true, 0)
	claim := func(c Claim) (Claimed, bool) {
		t.Helper()
		var got Claimed
		var ok bool
		if err := db.Update(func(tx *Tx) error {
			var err error
			c.Modem = "m1"
			got, ok, err = tx.Claim(c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got, ok
	}
	if _, ok := claim(Claim{Lanes: []Lane{LaneUrgent, LaneConversation}}); ok {
		t.Fatal("a claim of the conversation lanes took a bulk part")
	}
	if got, ok := claim(Claim{Only: bulk.ID}); !ok || got.Message.ID != bulk.ID || got.Lane != LaneBulk || got.Group != bulk.BatchID {
		t.Fatalf("Only claim: %+v %v", got, ok)
	}
}

// TestNextDueInSkipsHeldLanes: with the bulk lanes held (quiet hours) the
// timer looks at the reply, not at the older bulk part.
func TestNextDueInSkipsHeldLanes(t *testing.T) {
	db, c, _ := openTest(t)
	insertLane(t, db, "+44101", db.NewID(), true, 0)
	c.t = c.t.Add(time.Hour)
	r := insertLane(t, db, "+44102", 0, false, 0)
	var at time.Time
	var ok bool
	_ = db.View(func(tx *Tx) error { at, ok = tx.NextDueIn([]Lane{LaneUrgent, LaneConversation}); return nil })
	if !ok || !at.Equal(r.CreatedAt) {
		t.Fatalf("NextDueIn(conversation lanes) = %v %v, want the reply's %v", at, ok, r.CreatedAt)
	}
}

// TestLaneIndexMigratesFromVersion2: a version 2 file's outbox is filed by
// lane on open, and the new buckets exist.
func TestLaneIndexMigratesFromVersion2(t *testing.T) {
	db, _, path := openTest(t)
	bulk := insertLane(t, db, "+44101", db.NewID(), true, 0)
	reply := insertLane(t, db, "+44102", 0, false, 0)
	// Version 2's outbox by due time (gone since version 7), without the
	// buckets versions 3 and later added.
	db = asVersion(t, db, path, 2, func(tx *bolt.Tx) error {
		due, err := tx.CreateBucket(bIdxDue)
		if err != nil {
			return err
		}
		for _, m := range []model.Message{bulk, reply} {
			if err := due.Put(k(tns(m.CreatedAt), partKey(m.ID, 1)), nil); err != nil {
				return err
			}
		}
		return nil
	}, bIdxLane, bModemSends, bOptOuts, bGroups, bSavedSearches, bTemplates, bCampaigns)
	var order []model.ID
	for {
		var got Claimed
		var ok bool
		if err := db.Update(func(tx *Tx) error {
			var err error
			got, ok, err = tx.Claim(Claim{Modem: "m"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		order = append(order, got.Message.ID)
	}
	if len(order) != 2 || order[0] != reply.ID || order[1] != bulk.ID {
		t.Fatalf("after the migration claimed %v, want reply %s then bulk %s", order, reply.ID, bulk.ID)
	}
}
