package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrNotDatabase: a file is not a gsmgate database (not a bbolt file, or a
// bbolt file without gsmgate's meta/version).
var ErrNotDatabase = errors.New("store: not a gsmgate database")

// Snapshot writes a consistent copy of the whole database file to w, as of
// one moment: it runs in a single read transaction, so sends committed
// while it is written are not in it and do not wait for it (bbolt readers
// do not block the writer). The copy is a complete bbolt file that Open
// accepts. It returns the bytes written.
//
// While it runs bbolt cannot reuse the pages freed by later commits, so the
// file may grow a little during a long copy.
func (db *DB) Snapshot(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: snapshot: %w", err)
	}
	return n, nil
}

// Ping commits an empty write transaction: bbolt still writes and fsyncs a
// meta page, so it proves the file takes a write. It blocks while another
// write transaction is open (the caller bounds the wait).
func (db *DB) Ping() error {
	if err := db.bolt.Update(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Check runs bbolt's consistency check (every page reachable once, no page
// both free and in use, keys in order) and returns the problems found (nil:
// consistent), at most max of them.
//
// On a database open for writing it runs in a write transaction, holding
// off other writes while it walks the file (a few milliseconds for a small
// database, about a second per few hundred MB): bbolt's check compares the
// pages against the shared free list, which concurrent commits change, so
// in a read transaction beside a busy writer it reports pages "unreachable
// unfreed" that are not. A read-only database has no writer and is checked
// in a read transaction.
func (db *DB) Check(max int) ([]error, error) {
	var out []error
	check := func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if len(out) < max {
				out = append(out, err)
			}
		}
		return nil
	}
	var err error
	if db.bolt.IsReadOnly() {
		err = db.bolt.View(check)
	} else {
		err = db.bolt.Update(check)
	}
	return out, err
}

// FileInfo is what Inspect learns about a database file without changing it.
type FileInfo struct {
	// Version is the file's format version (FormatVersion of the binary
	// that wrote it).
	Version uint64
	// Size is the file's size in bytes.
	Size int64
}

// Inspect opens the file at path read-only and reads its format version.
// It fails with ErrNotDatabase when the file is not a gsmgate database,
// ErrNewerFormat when a newer gsmgate wrote it, and ErrLocked when a
// running daemon holds it for longer than timeout. It never creates or
// changes the file.
func Inspect(path string, timeout time.Duration) (FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileInfo{}, fmt.Errorf("store: inspect: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		// bbolt would initialise an empty file; a restore source must
		// already be a database.
		return FileInfo{}, fmt.Errorf("store: inspect %s: %w (empty or not a regular file)", path, ErrNotDatabase)
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return FileInfo{}, fmt.Errorf("store: inspect %s: %w", path, ErrLocked)
	case errors.Is(err, fs.ErrPermission):
		return FileInfo{}, fmt.Errorf("store: inspect %s: %w", path, err)
	case err != nil:
		// Invalid meta pages, a checksum or version mismatch, a file too
		// small to map: whatever bbolt says, it is not our database.
		return FileInfo{}, fmt.Errorf("store: inspect %s: %w (%v)", path, ErrNotDatabase, err)
	}
	defer bdb.Close()
	out := FileInfo{Size: fi.Size()}
	err = bdb.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if meta == nil {
			return ErrNotDatabase
		}
		v := meta.Get([]byte("version"))
		if len(v) != 8 {
			return ErrNotDatabase
		}
		out.Version = getU64(v)
		return nil
	})
	if err != nil {
		return FileInfo{}, fmt.Errorf("store: inspect %s: %w (a bbolt file without gsmgate's format version)", path, err)
	}
	if out.Version > FormatVersion {
		return out, fmt.Errorf("store: inspect %s: %w (file version %d, this binary %d)", path, ErrNewerFormat, out.Version, FormatVersion)
	}
	return out, nil
}
