package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A full disk (an SD card in an office cupboard fills up with logs) must not
// lose or damage what is stored: bbolt rolls a commit that cannot be written
// back, so the file stays as it was at the last commit. The store notices
// the failure and says so (StorageFull, for /readyz, the metrics and the
// UI) until the filesystem has room again; each write that fails meanwhile
// returns ErrStorageFull, and callers (the API, the dispatcher, the inbox)
// answer or retry, and resume by themselves when space is freed.

// ErrStorageFull: the device holding the database has no space left; the
// write was not made (nothing stored before is affected).
var ErrStorageFull = errors.New("store: no space left on the device holding the database")

// minFree is the free space on the database's filesystem below which a
// database that hit a full disk is still called full: a little room
// freed by the system's own housekeeping would only let it fail again.
const minFree = 1 << 20

// spaceState records a full disk.
type spaceState struct {
	dir   string       // the directory holding the file, for statfs
	since atomic.Int64 // Unix ns when a write first failed for want of space; 0: not full
}

// noSpace reports whether err is the filesystem saying it is full (ENOSPC,
// or EDQUOT for a quota), also when a layer reported it only in words.
func noSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "no space left on device") || strings.Contains(s, "disk quota exceeded")
}

// written records the outcome of a write: a write that failed for want of
// space marks the store full (and is returned wrapping ErrStorageFull). One
// that succeeded clears the mark only when the filesystem has room again: on
// a full disk a small commit still fits in pages the file already has, and
// taking that for room would make readiness flap while sends are refused.
func (db *DB) written(err error) error {
	switch {
	case err == nil:
		if n := db.space.since.Load(); n != 0 {
			if free, ok := freeBytes(db.space.dir); !ok || free >= minFree {
				db.space.since.CompareAndSwap(n, 0)
			}
		}
		return nil
	case noSpace(err):
		db.space.since.CompareAndSwap(0, time.Now().UnixNano())
		return fmt.Errorf("%w: %w", ErrStorageFull, err)
	}
	return err
}

// StorageFull reports whether the last write failed for want of space (and
// since when). It clears once the filesystem has room again, before the
// next write proves it, so that readiness follows a person freeing space.
func (db *DB) StorageFull() (bool, time.Time) {
	n := db.space.since.Load()
	if n == 0 {
		return false, time.Time{}
	}
	if free, ok := freeBytes(db.space.dir); ok && free >= minFree {
		db.space.since.CompareAndSwap(n, 0)
		return false, time.Time{}
	}
	return true, time.Unix(0, n)
}

// freeBytes is the space an unprivileged writer may use on dir's
// filesystem.
func freeBytes(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}

func spaceFor(path string) spaceState { return spaceState{dir: filepath.Dir(path)} }
