package store

import (
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func logged(t *testing.T, db *DB) []MessageEvent {
	t.Helper()
	var es []MessageEvent
	_ = db.View(func(tx *Tx) error {
		var bad int
		es, _, bad = tx.MessageEvents(1000)
		if bad != 0 {
			t.Errorf("%d undecodable entries", bad)
		}
		return nil
	})
	return es
}

func TestMessageEventLogRecordsOutcomesWithTheChange(t *testing.T) {
	db, _, _ := openTest(t)

	// No webhook: nothing to deliver to, nothing logged.
	insertOut(t, db, "+447700900001", 1, 1)
	if es := logged(t, db); len(es) != 0 {
		t.Fatalf("logged without a webhook: %+v", es)
	}
	if err := db.Update(func(tx *Tx) error { return tx.PutWebhook(&model.Webhook{ID: tx.NewID(), URL: "http://x/"}) }); err != nil {
		t.Fatal(err)
	}

	out := insertOut(t, db, "+447700900002", 1, 2)
	in := model.Message{ID: db.NewID(), Direction: model.Incoming, Number: "+447700900003", Text: "hi", State: model.StateDelivered,
		RawPDUs: [][]byte{{1, 2, 3}}}
	steps := []struct {
		name string
		fn   func(tx *Tx) error
		want []model.State // new states logged by this step ("" prev marks received)
	}{
		{"incoming stored", func(tx *Tx) error { return tx.InsertMessage(&in, nil) }, []model.State{model.StateDelivered}},
		{"claimed: progress, not logged", func(tx *Tx) error {
			_, err := tx.UpdatePart(out.ID, 1, func(p *model.Part) error { p.State = model.StateSubmitting; return nil })
			return err
		}, nil},
		{"first part sent: still queued", func(tx *Tx) error { _, err := tx.MarkSent(out.ID, 1, "m", 7); return err }, nil},
		{"second part sent", func(tx *Tx) error { _, err := tx.MarkSent(out.ID, 2, "m", 8); return err }, []model.State{model.StateSent}},
		{"one delivered: no change", func(tx *Tx) error { _, err := tx.MarkStatus(out.ID, 1, true, ""); return err }, nil},
		{"both delivered", func(tx *Tx) error { _, err := tx.MarkStatus(out.ID, 2, true, ""); return err }, []model.State{model.StateDelivered}},
	}
	seen := 0
	for _, st := range steps {
		if err := db.Update(st.fn); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		es := logged(t, db)
		if len(es)-seen != len(st.want) {
			t.Fatalf("%s: %d new entries, want %d: %+v", st.name, len(es)-seen, len(st.want), es[seen:])
		}
		for i, w := range st.want {
			if got := es[seen+i].Message.State; got != w {
				t.Errorf("%s: logged state %s, want %s", st.name, got, w)
			}
		}
		seen = len(es)
	}
	es := logged(t, db)
	if !es[0].Received() || es[0].Message.Text != "hi" || es[0].Message.RawPDUs != nil {
		t.Errorf("received entry %+v: want Received, the text, no raw PDUs", es[0])
	}
	if es[1].Received() || es[1].Previous != model.StateQueued || es[2].Previous != model.StateSent {
		t.Errorf("previous states %s, %s: want queued, sent", es[1].Previous, es[2].Previous)
	}
	for i := 1; i < len(es); i++ {
		if es[i].ID <= es[i-1].ID {
			t.Fatalf("keys not in commit order: %v then %v", es[i-1].ID, es[i].ID)
		}
	}

	// Consumption deletes through the last entry read, and no further.
	if err := db.Update(func(tx *Tx) error {
		_, last, _ := tx.MessageEvents(2)
		n, err := tx.DeleteMessageEvents(last)
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if es := logged(t, db); len(es) != 1 || es[0].Message.State != model.StateDelivered || es[0].Received() {
		t.Fatalf("left %+v, want the delivered entry", es)
	}
}

func TestMessageEventLogMigratesFromVersion1(t *testing.T) {
	db, _, path := openTest(t)
	// Make the file what version 1 wrote: no message_events bucket.
	db = asVersion(t, db, path, 1, nil, bMessageEvents)
	var v uint64
	var has bool
	_ = db.View(func(tx *Tx) error {
		v = getU64(tx.b(bMeta).Get([]byte("version")))
		has = tx.b(bMessageEvents) != nil
		return nil
	})
	if v != FormatVersion || !has {
		t.Fatalf("version %d (FormatVersion %d), bucket %v", v, FormatVersion, has)
	}
}

func TestPurgeBatchDropsUnconsumedMessageEvents(t *testing.T) {
	db, c, _ := openTest(t)
	if err := db.Update(func(tx *Tx) error { return tx.PutWebhook(&model.Webhook{ID: tx.NewID(), URL: "http://x/"}) }); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m := model.Message{ID: db.NewID(), Direction: model.Incoming, Number: "+447700900003", State: model.StateDelivered}
		if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	c.t = c.t.Add(time.Hour)
	m := model.Message{ID: db.NewID(), Direction: model.Incoming, Number: "+447700900004", State: model.StateDelivered}
	if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, nil) }); err != nil {
		t.Fatal(err)
	}
	r, err := db.PurgeBatch(c.t.Add(-time.Minute), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if es := logged(t, db); r.MessageEvents != 3 || len(es) != 1 || es[0].Message.ID != m.ID {
		t.Fatalf("purged %d, left %+v: want 3 purged and the newer entry left", r.MessageEvents, es)
	}
}
