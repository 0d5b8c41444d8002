package store

import (
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func TestAuditAndModemBucketsMigrateFromVersion5(t *testing.T) {
	db, _, path := openTest(t)
	// Make the file what version 5 wrote: none of the version 6 buckets.
	db = asVersion(t, db, path, 5, nil, bAudit, bModemSignal, bModemDaily)
	if err := db.Update(func(tx *Tx) error {
		return tx.AppendAudit(&model.AuditEntry{Actor: "a", Action: model.AuditUserCreated, Target: "b"})
	}); err != nil {
		t.Fatalf("audit after migration: %v", err)
	}
	var v uint64
	_ = db.View(func(tx *Tx) error { v = getU64(tx.b(bMeta).Get([]byte("version"))); return nil })
	if v != FormatVersion {
		t.Fatalf("version %d, FormatVersion %d", v, FormatVersion)
	}
}

func TestSignalRingKeepsTheWindow(t *testing.T) {
	db, _, _ := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 30 hours of samples every 5 minutes, for two modems.
	for i := range 30 * 12 {
		at := t0.Add(time.Duration(i) * 5 * time.Minute)
		if err := db.Update(func(tx *Tx) error {
			if err := tx.AddSignalSample("m1", model.SignalSample{At: at, DBm: -70 - i%10, Bars: 3}, 24*time.Hour); err != nil {
				return err
			}
			return tx.AddSignalSample("m10", model.SignalSample{At: at, DBm: -90, Bars: 1}, 24*time.Hour)
		}); err != nil {
			t.Fatal(err)
		}
	}
	last := t0.Add(359 * 5 * time.Minute)
	var all, m10 []model.SignalSample
	_ = db.View(func(tx *Tx) error {
		all, _ = tx.SignalSamples("m1", time.Time{})
		m10, _ = tx.SignalSamples("m10", time.Time{})
		return nil
	})
	// Samples at or after last-24h remain: 24*12+1.
	if len(all) != 24*12+1 || !all[0].At.Equal(last.Add(-24*time.Hour)) || !all[len(all)-1].At.Equal(last) {
		t.Fatalf("m1 kept %d samples from %v to %v", len(all), all[0].At, all[len(all)-1].At)
	}
	if len(m10) != len(all) || m10[0].DBm != -90 {
		t.Fatalf("m10 (a name m1 is a prefix of) mixed up: %d", len(m10))
	}
	var recent []model.SignalSample
	_ = db.View(func(tx *Tx) error { recent, _ = tx.SignalSamples("m1", last.Add(-time.Hour)); return nil })
	if len(recent) != 13 {
		t.Fatalf("last hour: %d samples", len(recent))
	}
}

func TestDailyCountsKeepThirtyDays(t *testing.T) {
	db, _, _ := openTest(t)
	t0 := time.Date(2026, 1, 1, 23, 0, 0, 0, time.UTC)
	for d := range 40 {
		for i := range d%3 + 1 {
			if err := db.Update(func(tx *Tx) error {
				return tx.CountDaily("m1", t0.AddDate(0, 0, d).Add(time.Duration(i)*time.Minute), 30, func(c *model.DailyCounts) {
					c.Sent++
					if i == 0 {
						c.Received++
					}
				})
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var cs []model.DailyCounts
	_ = db.View(func(tx *Tx) error { cs, _ = tx.DailyCounts("m1", time.Time{}); return nil })
	if len(cs) != 31 || cs[0].Day != "2026-01-10" || cs[30].Day != "2026-02-09" {
		t.Fatalf("kept %d days: %+v ... %+v", len(cs), cs[0], cs[len(cs)-1])
	}
	if last := cs[30]; last.Sent != 39%3+1 || last.Received != 1 {
		t.Fatalf("last day %+v", last)
	}
}

func TestAssignConversationMovesItOutOfTheInbox(t *testing.T) {
	db, _, _ := openTest(t)
	num := "+447700900001"
	for range 2 {
		m := model.Message{ID: db.NewID(), Direction: model.Incoming, Number: num, State: model.StateDelivered}
		if err := db.Update(func(tx *Tx) error { return tx.InsertMessage(&m, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.Update(func(tx *Tx) error {
		var err error
		n, err = tx.AssignConversation(num, 7)
		return err
	}); err != nil || n != 2 {
		t.Fatalf("assign: %d %v", n, err)
	}
	_ = db.View(func(tx *Tx) error {
		if tx.IsUnassigned(num) {
			t.Error("still unassigned")
		}
		if refs := tx.UserConversations(7, false, nil, 10); len(refs) != 1 {
			t.Errorf("user 7 conversations: %v", refs)
		}
		ms, _ := tx.UserMessages(7, false, Page{})
		if len(ms) != 2 || ms[0].Users[0] != 7 {
			t.Errorf("user 7 messages: %+v", ms)
		}
		return nil
	})
}
