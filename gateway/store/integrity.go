package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// A database file that is not ours or is damaged must stop the daemon with
// words a person can act on: never a panic (bbolt panics on some damaged
// files, and faults on pages past the end of a truncated one) and never a
// silent new database in place of the old one (bbolt happily opens another
// program's file, and initialises an empty one).

// ErrCorrupt: the file is damaged (not a bbolt file, truncated, or
// inconsistent). Open wraps it in a *FileError naming the file.
var ErrCorrupt = errors.New("store: the database file is damaged")

// ErrForeign: the file is a bbolt database written by another program.
var ErrForeign = errors.New("store: the database file belongs to another program")

// FileError says which file cannot be used, why, and what to do.
type FileError struct {
	Path   string
	Detail string // what was found, in words
	Err    error  // ErrCorrupt or ErrForeign
}

func (e *FileError) Error() string {
	return fmt.Sprintf("store: %s cannot be used: %s (%v). Stop gsmgate, move this file aside and restore the last backup "+
		"(a copy of the file taken while gsmgate was stopped) to this path; with no backup, moving it aside makes gsmgate start "+
		"with an empty database. The file was not changed", e.Path, e.Detail, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// bbolt's on-disk meta page (bbolt internal/common: Meta), read here so a
// truncated file is refused before bbolt maps pages that are not there.
const (
	boltMagic     = 0xED0CDAED
	pageHeaderLen = 16 // id u64, flags u16, count u16, overflow u32
	metaLen       = 64 // magic, version, pageSize, flags u32; root 16; freelist, pgid, txid, checksum u64
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64 // high-water mark: pages the file must hold
	txid     uint64
}

// readMeta decodes the meta page at off; ok is false when it is not a
// valid one (wrong magic or checksum).
func readMeta(f *os.File, off int64) (boltMeta, bool) {
	var b [pageHeaderLen + metaLen]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return boltMeta{}, false
	}
	m := b[pageHeaderLen:]
	le := binary.LittleEndian // bbolt writes its structs in host order; its targets are little-endian
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkFile looks at an existing file before bbolt opens it: an empty file
// or one shorter than its newest valid meta page says is refused. A missing
// file is fine (Open creates it).
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return nil // bbolt's own open reports it (permission, ...)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	size := fi.Size()
	if size == 0 {
		return &FileError{Path: path, Detail: "the file is empty", Err: ErrCorrupt}
	}
	m0, ok0 := readMeta(f, 0)
	ps := int64(4096)
	if ok0 {
		ps = int64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, ps)
	if !ok0 && !ok1 {
		return &FileError{Path: path, Detail: "it is not a bbolt database (no valid meta page)", Err: ErrCorrupt}
	}
	m := m0
	if !ok0 || ok1 && m1.txid > m0.txid {
		m = m1
	}
	if need := int64(m.pgid) * int64(m.pageSize); size < need {
		return &FileError{Path: path, Detail: fmt.Sprintf("the file is truncated: %d bytes, its last commit needs %d", size, need), Err: ErrCorrupt}
	}
	return nil
}

// openBolt opens path with bbolt, turning a panic or a memory fault inside
// bbolt (a damaged file) into a *FileError.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &FileError{Path: path, Detail: fmt.Sprintf("bbolt could not read it: %v", r), Err: ErrCorrupt}
		}
	}()
	db, err = bolt.Open(path, 0o600, o)
	switch {
	case err == nil:
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, &FileError{Path: path, Detail: "bbolt refused it: " + err.Error(), Err: ErrCorrupt}
	}
	return db, err
}

// guard runs fn (the first reads and writes of a freshly opened file),
// turning a panic or a memory fault inside bbolt into a *FileError.
func guard(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = &FileError{Path: path, Detail: fmt.Sprintf("bbolt could not read it: %v", r), Err: ErrCorrupt}
		}
	}()
	return fn()
}
