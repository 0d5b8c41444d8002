package store

import (
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestPurgeBatchIsBoundedAndKeepsWhatIsLive: one batch walks a bounded
// number of messages even when the old ones are all still queued, a walk of
// several batches deletes every final old message and nothing live, and a
// pending webhook delivery survives while a finished one goes.
func TestPurgeBatchIsBoundedAndKeepsWhatIsLive(t *testing.T) {
	db, c, _ := openTest(t)
	var queued, done []model.ID
	var pending, finished model.WebhookDelivery
	err := db.Update(func(tx *Tx) error {
		for i := 0; i < 30; i++ {
			m := model.Message{ID: tx.NewID(), Direction: model.Outgoing, Number: "+447911123451", UserID: 1, Text: "q"}
			if err := tx.InsertMessage(&m, []model.Part{{TPDU: []byte{1}}}); err != nil {
				return err
			}
			queued = append(queued, m.ID)
		}
		for i := 0; i < 3; i++ {
			m := model.Message{ID: tx.NewID(), Direction: model.Incoming, Number: "+447911123452", State: model.StateDelivered, Text: "in"}
			if err := tx.InsertMessage(&m, nil); err != nil {
				return err
			}
			done = append(done, m.ID)
		}
		pending = model.WebhookDelivery{WebhookID: 1, Event: "x", Payload: []byte(`{}`)}
		finished = model.WebhookDelivery{WebhookID: 1, Event: "y", Payload: []byte(`{}`)}
		if err := tx.EnqueueDelivery(&pending); err != nil {
			return err
		}
		if err := tx.EnqueueDelivery(&finished); err != nil {
			return err
		}
		_, err := tx.MarkDeliveryAttempt(finished.ID, true, "", time.Time{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(48 * time.Hour)
	cutoff := c.t.Add(-24 * time.Hour)

	r, err := db.PurgeBatch(cutoff, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Messages != 0 || r.Next == 0 || r.Next > queued[7]+1 {
		t.Fatalf("first batch %+v: want nothing deleted and the walk stopped within 8 messages (next <= %s)", r, queued[7]+1)
	}
	total, deliveries := r.Messages, r.Deliveries
	for batches := 1; r.Next != 0; batches++ {
		if batches > 20 {
			t.Fatal("the walk does not end")
		}
		if r, err = db.PurgeBatch(cutoff, r.Next, 2); err != nil {
			t.Fatal(err)
		}
		total += r.Messages
		deliveries += r.Deliveries
	}
	if total != 3 || deliveries != 1 {
		t.Fatalf("purged %d messages and %d deliveries, want 3 and 1", total, deliveries)
	}
	_ = db.View(func(tx *Tx) error {
		for _, id := range queued {
			if _, err := tx.Message(id); err != nil {
				t.Errorf("queued message %s purged", id)
			}
		}
		for _, id := range done {
			if _, err := tx.Message(id); err == nil {
				t.Errorf("delivered message %s kept", id)
			}
		}
		if _, err := tx.Delivery(pending.ID); err != nil {
			t.Errorf("pending delivery purged: %v", err)
		}
		if _, err := tx.Delivery(finished.ID); err == nil {
			t.Errorf("finished delivery kept")
		}
		return nil
	})
}
