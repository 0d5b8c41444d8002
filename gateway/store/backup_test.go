package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSnapshotOpensAndInspect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gsmgate.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if probs, err := db.Check(5); err != nil || len(probs) != 0 {
		t.Fatalf("check: %v %v", probs, err)
	}
	var buf bytes.Buffer
	n, err := db.Snapshot(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("snapshot: %d %v", n, err)
	}
	snap := filepath.Join(dir, "snap.db")
	os.WriteFile(snap, buf.Bytes(), 0o600)

	// The live file is locked; the snapshot is not.
	if _, err := Inspect(path, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("live file: %v, want ErrLocked", err)
	}
	db.Close()

	foreign := filepath.Join(dir, "foreign.db") // a bbolt file, not ours
	bdb, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	bdb.Close()
	newer := filepath.Join(dir, "newer.db")
	os.WriteFile(newer, buf.Bytes(), 0o600)
	bdb, err = bolt.Open(newer, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put([]byte("version"), u64(FormatVersion+1)) })
	bdb.Close()
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, []byte(strings.Repeat("hello\n", 2000)), 0o600)
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)

	for _, tc := range []struct {
		path string
		want error
	}{
		{snap, nil}, {path, nil}, {foreign, ErrNotDatabase}, {newer, ErrNewerFormat},
		{text, ErrNotDatabase}, {empty, ErrNotDatabase}, {filepath.Join(dir, "none.db"), os.ErrNotExist},
	} {
		fi, err := Inspect(tc.path, time.Second)
		if tc.want == nil {
			if err != nil || fi.Version != FormatVersion {
				t.Errorf("%s: %+v %v", filepath.Base(tc.path), fi, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", filepath.Base(tc.path), err, tc.want)
		}
	}
	// Inspect changed nothing: the empty file is still empty.
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Error("Inspect wrote to an empty file")
	}
}

// TestCheckBesideWriters: the consistency check of a live database finds
// nothing while commits go on (in a read transaction it reported pages
// "unreachable unfreed" that concurrent commits had just freed).
func TestCheckBesideWriters(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "gsmgate.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = db.Update(func(tx *Tx) error {
				return tx.PutSetting("k"+strings.Repeat("x", i%50), strings.Repeat("v", 100+i%3000))
			})
		}
	}()
	for range 30 {
		probs, err := db.Check(5)
		if err != nil || len(probs) > 0 {
			t.Fatalf("check beside writers: %v %v", probs, err)
		}
	}
	close(stop)
	<-done
}
