package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// TestRetentionKeepsTheFileBounded: purged pages are reused, so a database
// that keeps receiving as much as it purges stops growing.
func TestRetentionKeepsTheFileBounded(t *testing.T) {
	e := newEnv(t, Options{Retention: 24 * time.Hour, PurgeBatch: 200})
	ctx := context.Background()
	// Filled in one transaction per round (AcceptIncoming would fsync each
	// of the 12,000 messages).
	fill := func(round int) {
		err := e.db.Update(func(tx *store.Tx) error {
			for i := 0; i < 3000; i++ {
				m := model.Message{ID: tx.NewID(), Direction: model.Incoming, State: model.StateDelivered,
					Number: fmt.Sprintf("+4479111%05d", i%500), Text: fmt.Sprintf("round %d message %d with some text", round, i)}
				if err := tx.InsertMessage(&m, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int64
	for round := 0; round < 4; round++ {
		fill(round)
		size, err := e.db.Size()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, size)
		e.clock.Advance(48 * time.Hour)
		tot, err := e.s.PurgeOnce(ctx)
		if err != nil || tot.Messages != 3000 {
			t.Fatalf("round %d purged %+v %v", round, tot, err)
		}
	}
	var n int
	_ = e.db.View(func(tx *store.Tx) error { n = tx.Stats().Conversations; return nil })
	if n != 0 {
		t.Fatalf("%d conversations left after purging everything", n)
	}
	if sizes[3] > sizes[1] {
		t.Fatalf("file grew from %d to %d bytes over rounds with the same traffic: %v", sizes[1], sizes[3], sizes)
	}
}
