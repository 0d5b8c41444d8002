package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestSessionsMigrateFromVersion3: a version 3 file (no session buckets)
// is upgraded by addSessionBuckets and can store sessions.
func TestSessionsMigrateFromVersion3(t *testing.T) {
	db, _, path := openTest(t)
	db = asVersion(t, db, path, 3, nil, bSessions, bIdxSessionUser)
	var v uint64
	_ = db.View(func(tx *Tx) error { v = getU64(tx.b(bMeta).Get([]byte("version"))); return nil })
	if v != FormatVersion || FormatVersion < 4 {
		t.Fatalf("version %d, FormatVersion %d", v, FormatVersion)
	}
	s := model.Session{Hash: bytes.Repeat([]byte{1}, 32), UserID: 7, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.Update(func(tx *Tx) error { return tx.PutSession(&s) }); err != nil {
		t.Fatalf("put session after migration: %v", err)
	}
}

// TestDeleteUserSessionsKeepsOne: a user's sessions end together except
// the one named, and nobody else's.
func TestDeleteUserSessionsKeepsOne(t *testing.T) {
	db, _, _ := openTest(t)
	now := time.Now()
	mk := func(b byte, user model.ID) []byte {
		h := bytes.Repeat([]byte{b}, 32)
		s := model.Session{Hash: h, UserID: user, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.Update(func(tx *Tx) error { return tx.PutSession(&s) }); err != nil {
			t.Fatal(err)
		}
		return h
	}
	a, b, c, other := mk(1, 5), mk(2, 5), mk(3, 5), mk(4, 6)
	var n int
	if err := db.Update(func(tx *Tx) error {
		var err error
		n, err = tx.DeleteUserSessions(5, b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	_ = db.View(func(tx *Tx) error {
		for _, c := range []struct {
			h    []byte
			want bool
		}{{a, false}, {b, true}, {c, false}, {other, true}} {
			_, err := tx.Session(c.h)
			if (err == nil) != c.want {
				t.Errorf("session %x present %v, want %v", c.h[:1], err == nil, c.want)
			}
		}
		return nil
	})
}
