package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	bolt "go.etcd.io/bbolt"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func openTest(t testing.TB) (*DB, *clock, string) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path, Options{Now: c.Now, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, c, path
}

// asVersion makes db's file what an older format wrote: it drops the buckets
// that format did not have, lets shape add what it had instead (nil: nothing),
// stamps version, closes db and reopens the file, running the migrations.
func asVersion(t *testing.T, db *DB, path string, version uint64, shape func(*bolt.Tx) error, drop ...[]byte) *DB {
	t.Helper()
	if version < 8 {
		// Before format 8 every message was filed when inserted.
		if err := db.Update(fileEverything); err != nil {
			t.Fatal(err)
		}
		drop = append(drop, bBulkUnfiled, bBulkUnfiledTable)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range drop {
			if err := tx.DeleteBucket(b); err != nil {
				return fmt.Errorf("drop %s: %w", b, err)
			}
		}
		if shape != nil {
			if err := shape(tx); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Put([]byte("version"), u64(version))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	_, _, path := openTest(t)
	_, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	db, _, path := openTest(t)
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bMeta).Put([]byte("version"), u64(FormatVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("open: %v, want ErrNewerFormat", err)
	}
}

func TestOpenRunsMigrations(t *testing.T) {
	db, _, _ := openTest(t)
	var ran []uint64
	migs := map[uint64]migration{
		FormatVersion: func(tx *Tx) error {
			ran = append(ran, FormatVersion)
			return tx.PutSetting("migrated", true)
		},
		FormatVersion + 1: func(tx *Tx) error {
			ran = append(ran, FormatVersion+1)
			return nil
		},
	}
	var told [][2]uint64
	db.onMigrate = func(from, to uint64) { told = append(told, [2]uint64{from, to}) }
	if err := db.migrateTo(FormatVersion+2, migs); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ran, []uint64{FormatVersion, FormatVersion + 1}) {
		t.Fatalf("ran %v", ran)
	}
	if want := [][2]uint64{{FormatVersion, FormatVersion + 2}}; !reflect.DeepEqual(told, want) {
		t.Fatalf("OnMigrate told %v, want %v (once, before the upgrade)", told, want)
	}
	var v uint64
	var migrated bool
	_ = db.View(func(tx *Tx) error {
		v = getU64(tx.b(bMeta).Get([]byte("version")))
		return tx.Setting("migrated", &migrated)
	})
	if v != FormatVersion+2 || !migrated {
		t.Fatalf("version %d migrated %v", v, migrated)
	}
	// Idempotent: nothing runs again; a missing step is an error.
	ran = nil
	if err := db.migrateTo(FormatVersion+2, migs); err != nil || len(ran) != 0 || len(told) != 1 {
		t.Fatalf("rerun: ran %v, told %v, %v", ran, told, err)
	}
	if err := db.migrateTo(FormatVersion+3, migs); err == nil {
		t.Fatal("missing migration not reported")
	}
}

func TestIDsIncreaseEvenWhenTheClockGoesBack(t *testing.T) {
	db, c, path := openTest(t)
	a := db.NewID()
	b := db.NewID()
	c.t = c.t.Add(-time.Hour)
	cc := db.NewID()
	if !(a < b && b < cc) {
		t.Fatalf("ids %v %v %v not increasing", a, b, cc)
	}
	if got := a.Time(); !got.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a.Time() = %v", got)
	}
	m := model.Message{ID: cc, Direction: model.Incoming, Number: "+441", State: model.StateDelivered}
	if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, nil) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if d := db2.NewID(); d <= cc {
		t.Fatalf("after reopen %v <= %v", d, cc)
	}
	// Text form round-trips and sorts.
	for _, id := range []model.ID{a, cc, 1, 1<<64 - 1} {
		back, err := model.ParseID(id.String())
		if err != nil || back != id {
			t.Fatalf("ParseID(%s) = %v %v", id, back, err)
		}
	}
	if a.String() >= cc.String() {
		t.Fatal("text form does not sort")
	}
}

func TestRollUp(t *testing.T) {
	ps := func(states ...model.State) []model.Part {
		var out []model.Part
		for _, s := range states {
			out = append(out, model.Part{State: s})
		}
		return out
	}
	cases := []struct {
		parts []model.Part
		want  model.State
	}{
		{ps(model.StateQueued), model.StateQueued},
		{ps(model.StateSent, model.StateQueued), model.StateQueued},
		{ps(model.StateSent, model.StateSubmitting), model.StateSubmitting},
		{ps(model.StateSent, model.StateSent), model.StateSent},
		{ps(model.StateDelivered, model.StateSent), model.StateSent},
		{ps(model.StateDelivered, model.StateDelivered), model.StateDelivered},
		{ps(model.StateDelivered, model.StateFailed), model.StateFailed},
		{ps(model.StateUnknown, model.StateSent), model.StateUnknown},
		{ps(model.StateFailed, model.StateUnknown), model.StateFailed},
		{ps(model.StateExpired, model.StateQueued), model.StateExpired},
		{ps(model.StateCancelled, model.StateCancelled), model.StateCancelled},
		{nil, model.StateQueued},
	}
	for _, c := range cases {
		if got := model.RollUp(c.parts); got != c.want {
			t.Errorf("RollUp(%v) = %s, want %s", c.parts, got, c.want)
		}
	}
}

func insertOut(t *testing.T, db *DB, number string, user model.ID, nparts int) model.Message {
	t.Helper()
	m := model.Message{ID: db.NewID(), Direction: model.Outgoing, Number: number, UserID: user, Text: "t"}
	parts := make([]model.Part, nparts)
	for i := range parts {
		parts[i].TPDU = []byte{byte(i)}
		parts[i].NextAttempt = db.Now()
	}
	if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, parts) }); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMRIndexFollowsThePart(t *testing.T) {
	db, c, _ := openTest(t)
	m := insertOut(t, db, "+441", 7, 1)
	if _, ok, _ := db.ClaimDue("m1", nil); !ok {
		t.Fatal("nothing due")
	}
	find := func(mr int, since time.Time) bool {
		var ok bool
		_ = db.View(func(tx *Tx) error { _, ok, _ = tx.FindByMR("m1", mr, "+441", since); return nil })
		return ok
	}
	if err := db.Update(func(tx *Tx) error { _, err := tx.MarkSent(m.ID, 1, "m1", 255); return err }); err != nil {
		t.Fatal(err)
	}
	if !find(255, time.Time{}) || find(254, time.Time{}) {
		t.Fatal("MR 255 not found or 254 found")
	}
	// Too old for the recency window.
	if find(255, c.t.Add(time.Second)) {
		t.Fatal("matched a part sent before the window")
	}
	// A retry removes the old MR from the index.
	if err := db.Update(func(tx *Tx) error { _, err := tx.MarkRetry(m.ID, 1, "busy", c.t); return err }); err != nil {
		t.Fatal(err)
	}
	if find(255, time.Time{}) {
		t.Fatal("stale MR still indexed after retry")
	}
	// The same MR reused later on another message: the newest wins.
	if _, ok, _ := db.ClaimDue("m1", nil); !ok {
		t.Fatal("retried part not due")
	}
	_ = db.Update(func(tx *Tx) error { _, err := tx.MarkSent(m.ID, 1, "m1", 9); return err })
	c.t = c.t.Add(time.Minute)
	m2 := insertOut(t, db, "+441", 7, 1)
	db.ClaimDue("m1", nil)
	_ = db.Update(func(tx *Tx) error { _, err := tx.MarkSent(m2.ID, 1, "m1", 9); return err })
	var d Due
	_ = db.View(func(tx *Tx) error { d, _, _ = tx.FindByMR("m1", 9, "+441", time.Time{}); return nil })
	if d.Message.ID != m2.ID {
		t.Fatalf("FindByMR picked %s, want the newest %s", d.Message.ID, m2.ID)
	}
}

func TestClaimDueAcceptAndOrder(t *testing.T) {
	db, c, _ := openTest(t)
	a := insertOut(t, db, "+441", 1, 2)
	c.t = c.t.Add(time.Second)
	b := insertOut(t, db, "+442", 1, 1)
	// The dispatcher may refuse a part (e.g. it wants another modem).
	d, ok, err := db.ClaimDue("m2", func(m *model.Message, p *model.Part) bool { return m.ID == b.ID })
	if err != nil || !ok || d.Message.ID != b.ID {
		t.Fatalf("accept filter: %+v %v %v", d, ok, err)
	}
	var got []int
	for {
		d, ok, _ := db.ClaimDue("m1", nil)
		if !ok {
			break
		}
		if d.Message.ID != a.ID {
			t.Fatalf("claimed %s", d.Message.ID)
		}
		got = append(got, d.Part.Seq)
	}
	if !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("parts claimed in order %v", got)
	}
	var subs []model.Part
	_ = db.View(func(tx *Tx) error { subs, _ = tx.PartsInState(model.StateSubmitting, 0); return nil })
	if len(subs) != 3 {
		t.Fatalf("%d submitting parts, want 3", len(subs))
	}
}

func TestWebhookDeliveries(t *testing.T) {
	db, c, _ := openTest(t)
	var d1, d2 model.WebhookDelivery
	err := db.Update(func(tx *Tx) error {
		d1 = model.WebhookDelivery{WebhookID: 1, Event: "message.received", Payload: []byte(`{}`)}
		d2 = model.WebhookDelivery{WebhookID: 1, Event: "message.status", Payload: []byte(`{}`), NextAttempt: c.t.Add(time.Hour)}
		if err := tx.EnqueueDelivery(&d1); err != nil {
			return err
		}
		return tx.EnqueueDelivery(&d2)
	})
	if err != nil {
		t.Fatal(err)
	}
	due := func() []model.ID {
		var ids []model.ID
		_ = db.View(func(tx *Tx) error {
			ds, _ := tx.DueDeliveries(c.t, 10)
			for _, d := range ds {
				ids = append(ids, d.ID)
			}
			return nil
		})
		return ids
	}
	if got := due(); !reflect.DeepEqual(got, []model.ID{d1.ID}) {
		t.Fatalf("due %v", got)
	}
	_ = db.Update(func(tx *Tx) error {
		_, err := tx.MarkDeliveryAttempt(d1.ID, false, "503", c.t.Add(2*time.Hour))
		return err
	})
	c.t = c.t.Add(90 * time.Minute)
	if got := due(); !reflect.DeepEqual(got, []model.ID{d2.ID}) {
		t.Fatalf("due after retry scheduling %v", got)
	}
	_ = db.Update(func(tx *Tx) error { _, err := tx.MarkDeliveryAttempt(d2.ID, true, "", time.Time{}); return err })
	c.t = c.t.Add(time.Hour)
	_ = db.Update(func(tx *Tx) error {
		d, err := tx.MarkDeliveryAttempt(d1.ID, false, "503", time.Time{})
		if d.State != model.DeliveryFailed || d.Attempts != 2 || d.LastError != "503" {
			t.Errorf("given up delivery %+v", d)
		}
		return err
	})
	if got := due(); len(got) != 0 {
		t.Fatalf("due after all done %v", got)
	}
	_ = db.View(func(tx *Tx) error {
		ds, _ := tx.WebhookDeliveries(1, 10, 0)
		if len(ds) != 2 || ds[0].ID != d2.ID || tx.PendingDeliveries() != 0 {
			t.Errorf("deliveries of webhook 1: %+v", ds)
		}
		return nil
	})
	// Deleting a webhook drops its deliveries, pending ones included.
	_ = db.Update(func(tx *Tx) error {
		if err := tx.PutWebhook(&model.Webhook{ID: 1, URL: "https://example.com/h"}); err != nil {
			return err
		}
		d := model.WebhookDelivery{WebhookID: 1, Event: "x"}
		if err := tx.EnqueueDelivery(&d); err != nil {
			return err
		}
		if tx.PendingDeliveries() != 1 {
			t.Error("pending not counted")
		}
		return tx.DeleteWebhook(1)
	})
	_ = db.View(func(tx *Tx) error {
		if ds, _ := tx.WebhookDeliveries(1, 10, 0); len(ds) != 0 || tx.PendingDeliveries() != 0 {
			t.Errorf("after delete: %d deliveries, %d pending", len(ds), tx.PendingDeliveries())
		}
		return nil
	})
}

func TestInboundPendingAndDedup(t *testing.T) {
	db, c, _ := openTest(t)
	err := db.Update(func(tx *Tx) error {
		for _, seq := range []int{2, 1} {
			p := InboundPart{Key: "+441/7/3", Seq: seq, Total: 3, Originator: "+441", PDU: []byte{byte(seq)}, ReceivedAt: c.t}
			if err := tx.PutPendingPart(&p); err != nil {
				return err
			}
			if err := tx.MarkInbound("+441/7/3/" + string(rune('0'+seq))); err != nil {
				return err
			}
		}
		return tx.PutPendingPart(&InboundPart{Key: "+442/1/2", Seq: 1, Total: 2, ReceivedAt: c.t.Add(time.Second)})
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *Tx) error {
		ps, _ := tx.PendingParts("+441/7/3")
		if len(ps) != 2 || ps[0].Seq != 1 || ps[1].Seq != 2 {
			t.Errorf("pending %+v", ps)
		}
		keys, _ := tx.PendingKeys()
		if len(keys) != 2 || !keys["+441/7/3"].Equal(c.t) {
			t.Errorf("keys %v", keys)
		}
		if !tx.SeenInbound("+441/7/3/1") || tx.SeenInbound("+441/7/3/3") {
			t.Error("dedup keys wrong")
		}
		return nil
	})
	_ = db.Update(func(tx *Tx) error { return tx.DeletePending("+441/7/3") })
	_ = db.View(func(tx *Tx) error {
		if ps, _ := tx.PendingParts("+441/7/3"); len(ps) != 0 {
			t.Errorf("not deleted %+v", ps)
		}
		if ps, _ := tx.PendingParts("+442/1/2"); len(ps) != 1 {
			t.Errorf("other key touched %+v", ps)
		}
		return nil
	})
	// Dedup keys expire.
	r, err := db.PurgeKeys(c.t.Add(time.Hour), c.t, 10)
	if err != nil || r.DedupKeys != 2 {
		t.Fatalf("purge keys %+v %v", r, err)
	}
	_ = db.View(func(tx *Tx) error {
		if tx.SeenInbound("+441/7/3/1") {
			t.Error("dedup key survived purge")
		}
		return nil
	})
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{nil, nil},
	}
	for _, c := range cases {
		if got := prefixEnd(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("prefixEnd(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"0000000000000001", "ffffffffffffffff", "", "zz", "00000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := model.ParseID(s)
		if err != nil {
			return
		}
		back, err := model.ParseID(id.String())
		if err != nil || back != id {
			t.Fatalf("round trip %q → %v → %v %v", s, id, back, err)
		}
	})
}

func TestReusedKeysArePurgedByTheirNewTime(t *testing.T) {
	db, c, _ := openTest(t)
	t0 := c.t
	_ = db.Update(func(tx *Tx) error {
		_ = tx.MarkInbound("k")
		return tx.PutIdempotency(1, "key", &Idempotency{BatchID: 1, CreatedAt: t0})
	})
	c.t = t0.Add(48 * time.Hour)
	_ = db.Update(func(tx *Tx) error {
		_ = tx.MarkInbound("k")
		return tx.PutIdempotency(1, "key", &Idempotency{BatchID: 2, CreatedAt: c.t})
	})
	// Purging what is older than a day must not touch the renewed keys.
	r, err := db.PurgeKeys(t0.Add(24*time.Hour), t0.Add(24*time.Hour), 10)
	if err != nil || r.DedupKeys != 0 || r.IdempotencyKeys != 0 {
		t.Fatalf("purged %+v %v", r, err)
	}
	_ = db.View(func(tx *Tx) error {
		if rec, err := tx.Idempotency(1, "key"); err != nil || rec.BatchID != 2 {
			t.Errorf("renewed idempotency key lost: %+v %v", rec, err)
		}
		if !tx.SeenInbound("k") {
			t.Error("renewed dedup key lost")
		}
		return nil
	})
}

func TestClaimDueLooksPastRefusedParts(t *testing.T) {
	db, c, _ := openTest(t)
	for i := 0; i < 300; i++ {
		insertOut(t, db, "+441", 1, 1)
	}
	c.t = c.t.Add(time.Second)
	want := insertOut(t, db, "+442", 1, 1)
	d, ok, err := db.ClaimDue("m1", func(m *model.Message, _ *model.Part) bool { return m.Number == "+442" })
	if err != nil || !ok || d.Message.ID != want.ID {
		t.Fatalf("claimed %+v %v %v; want the part behind 300 refused ones", d.Message.ID, ok, err)
	}
	if _, ok, _ := db.ClaimDue("m1", func(m *model.Message, _ *model.Part) bool { return m.Number == "+442" }); ok {
		t.Fatal("claimed twice")
	}
}

// fileEverything files every unfiled bulk message.
func fileEverything(tx *Tx) error {
	var sends []unfiledSend
	if err := tx.unfiledSends(func(s *unfiledSend) bool { sends = append(sends, *s); return true }); err != nil {
		return err
	}
	for i := range sends {
		if err := tx.fileThrough(&sends[i], sends[i].head.last); err != nil {
			return err
		}
	}
	return nil
}
