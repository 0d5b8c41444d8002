// Package backup writes database backups to files: one on demand (`gsmgate
// backup --to FILE`, through the daemon), and the nightly ones with a
// retention count. A backup file is written beside its final name and
// renamed into place only once complete, fsynced and checked to open as a
// gsmgate database, so a file with a backup's name is always a whole one.
//
// It does not know how a snapshot is made: it is handed a function (the
// gateway's Backup, or the control client's stream).
package backup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// Snapshot writes a consistent copy of the database to w.
type Snapshot func(ctx context.Context, w io.Writer) (int64, error)

// WriteFile writes a snapshot to path, atomically: a partial or failed
// snapshot never appears under path, and an existing file at path is
// replaced only by a complete backup. The file gets mode 0600 (it holds
// password hashes and every message).
func WriteFile(ctx context.Context, path string, snap Snapshot) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".part-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := snap(ctx, f)
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return n, fmt.Errorf("backup: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	if _, err := store.Inspect(tmp, time.Second); err != nil {
		return n, fmt.Errorf("backup: the copy does not open as a database: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		// The rename is durable once the directory is synced.
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}

// nightlyPrefix and nightlySuffix frame the names of nightly backups;
// Prune touches no other file.
const (
	nightlyPrefix = "gsmgate-"
	nightlySuffix = ".db"
	nightlyLayout = "20060102-150405"
)

// Nightly makes a backup every day at a local time of day and keeps the
// newest Keep of them.
type Nightly struct {
	Dir          string
	Keep         int
	Hour, Minute int
	Snapshot     Snapshot
	Log          *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Next returns the first moment at h:m local time strictly after now.
func Next(now time.Time, h, m int) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, now.Location())
	if !t.After(now) {
		t = time.Date(now.Year(), now.Month(), now.Day()+1, h, m, 0, 0, now.Location())
	}
	return t
}

// Run makes a backup at each day's time until ctx ends. Failures are logged
// (and retried the next night): a backup that fails must not stop the
// gateway.
func (n Nightly) Run(ctx context.Context) {
	if n.Keep <= 0 {
		return
	}
	now := n.now()
	for {
		next := Next(now, n.Hour, n.Minute)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		path, size, err := n.Once(ctx)
		if err != nil {
			if ctx.Err() == nil {
				n.log().Error("nightly backup failed", "dir", n.Dir, "error", err)
			}
		} else {
			n.log().Info("nightly backup written", "file", path, "bytes", size)
		}
		now = n.now()
	}
}

// Once writes one nightly backup now and prunes the old ones.
func (n Nightly) Once(ctx context.Context) (string, int64, error) {
	if err := os.MkdirAll(n.Dir, 0o750); err != nil {
		return "", 0, fmt.Errorf("backup: %w", err)
	}
	path := filepath.Join(n.Dir, nightlyPrefix+n.now().Format(nightlyLayout)+nightlySuffix)
	size, err := WriteFile(ctx, path, n.Snapshot)
	if err != nil {
		return "", size, err
	}
	removed, err := Prune(n.Dir, n.Keep)
	for _, r := range removed {
		n.log().Info("old nightly backup deleted", "file", r)
	}
	return path, size, err
}

// Prune deletes the oldest nightly backups in dir beyond the newest keep,
// and returns the paths deleted. Files not named like a nightly backup
// (a manual backup put there) are left alone.
func Prune(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		stamp, ok := strings.CutPrefix(name, nightlyPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if stamp, ok = strings.CutSuffix(stamp, nightlySuffix); !ok {
			continue
		}
		if _, err := time.Parse(nightlyLayout, stamp); err != nil {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names) // the stamp sorts by time
	var removed []string
	for len(names) > keep {
		p := filepath.Join(dir, names[0])
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("backup: %w", err)
		}
		removed = append(removed, p)
		names = names[1:]
	}
	return removed, nil
}

func (n Nightly) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n Nightly) log() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.New(slog.DiscardHandler)
}
