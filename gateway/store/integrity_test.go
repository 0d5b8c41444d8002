package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A damaged or foreign database file is refused with an error that names
// the file and says what to do, the file is left as it was, and nothing
// panics.
func TestOpenRefusesDamagedOrForeignFiles(t *testing.T) {
	dir := t.TempDir()
	// A real gsmgate database with enough in it to span many pages.
	good := filepath.Join(dir, "good.db")
	db, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := db.Update(func(tx *Tx) error {
			for j := range 40 {
				if err := tx.PutSetting(fmt.Sprintf("k%d-%d", i, j), strings.Repeat("x", 400)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 256<<10)
	_, _ = rand.Read(random)

	cases := []struct {
		name string
		make func(path string)
		want error
		says string
	}{
		{"random bytes", func(p string) { write(t, p, random) }, ErrCorrupt, "not a bbolt database"},
		{"truncated to half its pages", func(p string) {
			// bbolt grows a file in steps, so its end may be unused: cut
			// into the pages its last commit uses.
			f, err := os.Open(good)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := readMeta(f, 0)
			f.Close()
			if !ok {
				t.Fatal("good file: no meta page")
			}
			write(t, p, goodBytes[:int(m.pgid)*int(m.pageSize)/2])
		}, ErrCorrupt, "truncated"},
		{"truncated to one page", func(p string) { write(t, p, goodBytes[:4096]) }, ErrCorrupt, ""},
		{"truncated to 100 bytes", func(p string) { write(t, p, goodBytes[:100]) }, ErrCorrupt, ""},
		{"empty", func(p string) { write(t, p, nil) }, ErrCorrupt, "empty"},
		{"meta pages overwritten", func(p string) {
			b := bytes.Clone(goodBytes)
			copy(b[:8192], random)
			write(t, p, b)
		}, ErrCorrupt, ""},
		{"freelist page overwritten", func(p string) {
			// Valid meta pages pointing at a page of noise: bbolt panics
			// reading it; Open must not.
			b := bytes.Clone(goodBytes)
			m, _ := readMetaBytes(b[:4096])
			off := int(m.freelist) * 4096
			copy(b[off:off+4096], random)
			write(t, p, b)
		}, ErrCorrupt, "bbolt could not read it"},
		{"another program's bbolt file", func(p string) {
			bd, err := bolt.Open(p, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := bd.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("widgets"))
				if err != nil {
					return err
				}
				return b.Put([]byte("w1"), []byte("blue"))
			}); err != nil {
				t.Fatal(err)
			}
			bd.Close()
		}, ErrForeign, `"widgets"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gsmgate.db")
			c.make(path)
			before, _ := os.ReadFile(path)
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, c.want) {
				t.Fatalf("error %v (%T), want a *FileError wrapping %v", err, err, c.want)
			}
			msg := err.Error()
			for _, w := range []string{path, "restore the last backup", c.says} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("the refused file was changed (%d bytes before, %d after)", len(before), len(after))
			}
		})
	}
	// The good file still opens.
	db, err = Open(good, Options{})
	if err != nil {
		t.Fatalf("good file: %v", err)
	}
	db.Close()
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readMetaBytes decodes meta page 0 from b, for the test to find the
// freelist page.
func readMetaBytes(b []byte) (struct{ freelist uint64 }, bool) {
	m := b[pageHeaderLen:]
	return struct{ freelist uint64 }{freelist: uint64(m[32]) | uint64(m[33])<<8 | uint64(m[34])<<16 | uint64(m[35])<<24}, true
}

// FuzzOpenFile: whatever bytes the database file holds, Open answers (a
// database or an error), never panics.
func FuzzOpenFile(f *testing.F) {
	db, _, path := openTest(f)
	db.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:4096])
	f.Add(good[:8192])
	f.Add([]byte("not a database"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.db")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(p, Options{})
		if err == nil {
			db.Close()
		}
	})
}
