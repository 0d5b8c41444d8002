package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// Restore puts the backup at src in place of the database at dbPath, with
// the daemon stopped. It refuses (before touching anything) a src that is
// not a gsmgate database (store.ErrNotDatabase) or that a newer gsmgate
// wrote (store.ErrNewerFormat), and a dbPath the daemon holds
// (store.ErrLocked). The database it replaces is kept beside it, renamed
// <name>.before-restore-<time>, and returned as prev ("" when there was
// none). The restored file gets the owner of the data directory, so that a
// restore run as root leaves a file the daemon's user can open.
//
// An older format is accepted: the daemon migrates it when it opens it.
func Restore(src, dbPath string, now time.Time) (prev string, err error) {
	if _, err := store.Inspect(src, time.Second); err != nil {
		return "", fmt.Errorf("backup: restore from %s: %w", src, err)
	}
	if _, err := os.Stat(dbPath); err == nil {
		// Only the lock matters here: a damaged database is a good reason
		// to restore.
		if _, err := store.Inspect(dbPath, time.Second); errors.Is(err, store.ErrLocked) {
			return "", fmt.Errorf("backup: restore: %w; stop it first (systemctl stop gsmgate)", err)
		}
	}
	dir := filepath.Dir(dbPath)
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("backup: restore: %w", err)
	}
	defer in.Close()
	f, err := os.CreateTemp(dir, "."+filepath.Base(dbPath)+".restore-*")
	if err != nil {
		return "", fmt.Errorf("backup: restore: %w", err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return "", fmt.Errorf("backup: restore: %w", err)
	}
	if _, err := io.Copy(f, in); err != nil {
		return "", fmt.Errorf("backup: restore: copy: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("backup: restore: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("backup: restore: %w", err)
	}
	if di, err := os.Stat(dir); err == nil {
		if st, ok := di.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			if err := os.Chown(tmp, int(st.Uid), int(st.Gid)); err != nil {
				return "", fmt.Errorf("backup: restore: %w", err)
			}
		}
	}
	if _, err := os.Stat(dbPath); err == nil {
		prev = dbPath + ".before-restore-" + now.Format(nightlyLayout)
		if err := os.Rename(dbPath, prev); err != nil {
			return "", fmt.Errorf("backup: restore: keep the current database: %w", err)
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return prev, fmt.Errorf("backup: restore: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return prev, nil
}
