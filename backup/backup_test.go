package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
)

func TestNext(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	for _, tc := range []struct{ now, want string }{
		{"2026-03-01T01:00:00", "2026-03-01T03:30:00"},
		{"2026-03-01T03:30:00", "2026-03-02T03:30:00"}, // strictly after
		{"2026-03-01T23:59:00", "2026-03-02T03:30:00"},
		{"2026-12-31T04:00:00", "2027-01-01T03:30:00"},
	} {
		now, _ := time.ParseInLocation("2006-01-02T15:04:05", tc.now, loc)
		if got := Next(now, 3, 30).Format("2006-01-02T15:04:05"); got != tc.want {
			t.Errorf("Next(%s) = %s, want %s", tc.now, got, tc.want)
		}
	}
}

// TestNightlyKeepsTheNewest: each run writes a backup that opens as a
// database; beyond keep, the oldest nightly ones go, other files stay.
func TestNightlyKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(t.TempDir(), "gsmgate.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := filepath.Join(dir, "backups")
	os.MkdirAll(out, 0o750)
	os.WriteFile(filepath.Join(out, "before-upgrade.db"), []byte("mine"), 0o600)
	now := time.Date(2026, 3, 1, 3, 30, 0, 0, time.UTC)
	n := Nightly{Dir: out, Keep: 2, Snapshot: func(_ context.Context, w io.Writer) (int64, error) { return db.Snapshot(w) },
		Now: func() time.Time { return now }}
	for range 4 {
		path, size, err := n.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != size || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v (size %d)", path, fi, err, size)
		}
		if _, err := store.Inspect(path, time.Second); err != nil {
			t.Errorf("backup does not open: %v", err)
		}
		now = now.Add(24 * time.Hour)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{"before-upgrade.db", "gsmgate-20260303-033000.db", "gsmgate-20260304-033000.db"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", names, want)
	}
}

// TestWriteFileNeverLeavesAPartialBackup: a snapshot that fails part-way
// leaves neither the partial file nor a changed target.
func TestWriteFileNeverLeavesAPartialBackup(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "backup.db")
	os.WriteFile(target, []byte("the previous backup"), 0o600)
	_, err := WriteFile(context.Background(), target, func(_ context.Context, w io.Writer) (int64, error) {
		n, _ := w.Write([]byte("half a database"))
		return int64(n), errors.New("connection lost")
	})
	if err == nil {
		t.Fatal("no error")
	}
	// Not a database at all: refused after writing, too.
	_, err2 := WriteFile(context.Background(), target, func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write([]byte(strings.Repeat("x", 8192)))
		return int64(n), err
	})
	if !errors.Is(err2, store.ErrNotDatabase) {
		t.Errorf("garbage snapshot: %v", err2)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if b, _ := os.ReadFile(target); string(b) != "the previous backup" {
		t.Errorf("target changed to %q", b)
	}
}
