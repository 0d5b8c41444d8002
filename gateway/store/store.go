// Package store is gsmgate's durable state: one bbolt file holding messages
// and their parts, conversations, users, tokens, contacts, notifications,
// settings, webhook deliveries, the message event log webhooks are made
// from, and inbound parts, with the indexes that make every listing a range
// scan. The layout is in schema.go.
//
// It owns the keys, the indexes and keeping them consistent with the records
// (an index entry is written or removed in the same transaction as its
// record, by the put functions here, never by callers). It never decides
// policy: who may see what, when to retry, how to segment a text or what an
// error means belong to package gateway.
//
// Records returned by any method are copies, safe to keep after the
// transaction ended. Writes are fsynced at commit (bbolt's default).
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors a caller can act on.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("store: not found")
	// ErrLocked: another process (usually the running daemon) holds the
	// database file.
	ErrLocked = errors.New("store: database is in use by another process (is the gsmgate daemon running?)")
	// ErrNewerFormat: the file was written by a newer gsmgate.
	ErrNewerFormat = errors.New("store: database written by a newer gsmgate; refusing to open")
	// ErrExists: a unique key (user name) is taken.
	ErrExists = errors.New("store: already exists")
)

// Options tune Open.
type Options struct {
	// Timeout bounds the wait for the file lock (default 2 s). When it
	// passes, Open returns ErrLocked instead of hanging.
	Timeout time.Duration
	// Now is the clock for IDs and timestamps (default time.Now).
	Now func() time.Time
	// OnMigrate, when set, is told before Open upgrades an older file's
	// format (one transaction, which on a large file can take minutes), so
	// that the daemon can say so and ask systemd for more start-up time.
	OnMigrate func(from, to uint64)
	// ReadOnly opens the file shared, for inspection tools.
	ReadOnly bool
	// MaxBatchDelay is how long DB.Batch waits to gather concurrent writes
	// into one commit (default 2 ms).
	MaxBatchDelay time.Duration
	// NoSync skips fsync at commit. Only for building benchmark fixtures:
	// it gives up durability.
	NoSync bool
	// NoFreelistSync stops writing bbolt's freelist at every commit; Open
	// then rebuilds it by reading every page of the file. Commits get
	// cheaper (about 0.7 instead of 2.4 ms for a small one at 1M messages
	// with 28,000 free pages) but Open reads the whole file: 21-33 s and
	// 1.3 GiB of page cache for a 1.4 GiB file on a cold cache, against
	// 12 ms and 7 MiB with the freelist stored (BENCHMARKS.md). The default,
	// false, suits the appliance (a Raspberry Pi on an SD card starts at
	// once and does not flood its page cache); a server with a large
	// database and heavy API traffic may prefer true.
	NoFreelistSync bool
	// MmapSize is the initial size of the file's memory map (default
	// 1 GiB on 64-bit systems, 256 MiB on 32-bit ones). It reserves
	// address space, not memory, and does not grow the file. While the
	// file fits, a growing file is not remapped: each remap makes bbolt
	// copy every key and value a write transaction has touched, which was
	// 56% of the allocations of a 10,000-recipient send (BENCHMARKS.md).
	MmapSize int
}

// DB is an open store.
type DB struct {
	bolt *bolt.DB
	now  func() time.Time

	idMu   sync.Mutex
	lastID model.ID

	batchers atomic.Int32 // Batch calls in progress

	space spaceState // a full disk (space.go)

	onMigrate func(from, to uint64) // Options.OnMigrate
}

// Open opens (creating if needed) the database at path, migrating an older
// format. It fails with ErrLocked when another process holds the file for
// longer than Options.Timeout.
func Open(path string, o Options) (*DB, error) {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBatchDelay <= 0 {
		o.MaxBatchDelay = 2 * time.Millisecond
	}
	if o.MmapSize <= 0 {
		o.MmapSize = 1 << 30
		if strconv.IntSize == 32 {
			o.MmapSize = 256 << 20
		}
	}
	// The hashmap freelist allocates and frees in constant time however
	// many pages are free (after a retention purge there are many); see
	// Options.NoFreelistSync for whether it is written at each commit.
	bdb, err := openBolt(path, &bolt.Options{Timeout: o.Timeout, ReadOnly: o.ReadOnly,
		NoFreelistSync: o.NoFreelistSync, FreelistType: bolt.FreelistMapType, InitialMmapSize: o.MmapSize})
	if err != nil {
		var fe *FileError
		switch {
		case errors.As(err, &fe):
			return nil, err
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	bdb.MaxBatchDelay = o.MaxBatchDelay
	bdb.NoSync = o.NoSync
	db := &DB{bolt: bdb, now: o.Now, space: spaceFor(path), onMigrate: o.OnMigrate}
	fail := func(err error) (*DB, error) {
		bdb.Close()
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Path = path
			return nil, fe
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if !o.ReadOnly {
		if err := guard(path, db.setup); err != nil {
			return fail(err)
		}
	}
	if err := guard(path, db.seedIDs); err != nil {
		return fail(err)
	}
	return db, nil
}

// setup creates the buckets and runs migrations.
func (db *DB) setup() error { return db.migrateTo(FormatVersion, migrations) }

// migrateTo brings the file to version target with migs (a parameter so
// that tests can exercise the path before a second version exists).
func (db *DB) migrateTo(target uint64, migs map[uint64]migration) error {
	return db.bolt.Update(func(btx *bolt.Tx) error {
		foreign := ""
		_ = btx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if foreign == "" {
				foreign = string(name)
			}
			return nil
		})
		meta, err := btx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return err
		}
		var version uint64
		if v := meta.Get([]byte("version")); v != nil {
			version = getU64(v)
		} else if foreign != "" {
			// Not stamped, yet not empty: another program's file. It
			// must not be taken for a new database and filled.
			return &FileError{Detail: fmt.Sprintf("it is a bbolt database without gsmgate's format version, holding a bucket %q", foreign), Err: ErrForeign}
		}
		if version > target {
			return fmt.Errorf("%w (file version %d, this binary %d)", ErrNewerFormat, version, target)
		}
		tx := &Tx{tx: btx, db: db}
		if version != 0 && version < target && db.onMigrate != nil {
			db.onMigrate(version, target)
		}
		if version != 0 {
			for v := version; v < target; v++ {
				m, ok := migs[v]
				if !ok {
					return fmt.Errorf("store: no migration from format %d", v)
				}
				if err := m(tx); err != nil {
					return fmt.Errorf("store: migrate %d→%d: %w", v, v+1, err)
				}
				if err := tx.finish(); err != nil {
					return fmt.Errorf("store: migrate %d→%d: %w", v, v+1, err)
				}
			}
		}
		for _, name := range allBuckets {
			if _, err := btx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return meta.Put([]byte("version"), u64(target))
	})
}

// seedIDs makes NewID continue above every ID already stored, so IDs stay
// increasing even if the clock went back while the process was down.
func (db *DB) seedIDs() error {
	return db.bolt.View(func(btx *bolt.Tx) error {
		for _, name := range [][]byte{bMessages, bUsers, bTokens, bWebhookDeliveries, bWebhooks, bMessageEvents} {
			b := btx.Bucket(name)
			if b == nil {
				continue
			}
			if key, _ := b.Cursor().Last(); len(key) == 8 && model.ID(getU64(key)) > db.lastID {
				db.lastID = model.ID(getU64(key))
			}
		}
		// Notification keys lead with the user: their IDs need a walk
		// (notifications are few: they are kept only until cleared).
		if b := btx.Bucket(bNotifications); b != nil {
			c := b.Cursor()
			for key, _ := c.First(); key != nil; key, _ = c.Next() {
				if len(key) == 16 && model.ID(getU64(key[8:])) > db.lastID {
					db.lastID = model.ID(getU64(key[8:]))
				}
			}
		}
		return nil
	})
}

// Close closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Path is the database file's path.
func (db *DB) Path() string { return db.bolt.Path() }

// Now is the store's clock.
func (db *DB) Now() time.Time { return db.now() }

// NewID returns an ID greater than every ID this DB returned or found, made
// from the clock's millisecond and a counter.
func (db *DB) NewID() model.ID {
	db.idMu.Lock()
	defer db.idMu.Unlock()
	id := model.IDAt(db.now())
	if id <= db.lastID {
		id = db.lastID + 1
	}
	db.lastID = id
	return id
}

// Size is the database file's size in bytes.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.bolt.Path())
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Tx is a transaction with typed accessors. It is valid only inside the
// function given to View, Update or Batch.
type Tx struct {
	tx *bolt.Tx
	db *DB

	scratch []byte                  // encoding buffer, reused record to record (encode.go)
	arena   []byte                  // values handed to bbolt, which keeps them until the commit
	keyBuf  []byte                  // see Tx.key
	filled  bool                    // fillForAppends ran
	cursors map[string]*bolt.Cursor // see Tx.get
	run     batchRun                // the batch being inserted (InsertMessage), written by finish
	// scratch lists of a new conversation's record (InsertMessage)
	convUsers    []model.ID
	convMarketed []Marketed
	decBuf       []byte // a message record without its part (decodeMessage)
}

// View runs fn in a read-only transaction. Keep it short: a long read
// transaction stops bbolt from reusing pages.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, db: db}) })
}

// Update runs fn in a write transaction, committed (and fsynced) when fn
// returns nil.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.written(db.bolt.Update(func(btx *bolt.Tx) error { return runWrite(btx, db, fn) }))
}

// runWrite runs fn in a write transaction and, when it succeeds, what the
// transaction left for its end (Tx.finish).
func runWrite(btx *bolt.Tx, db *DB, fn func(*Tx) error) error {
	tx := &Tx{tx: btx, db: db}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.finish()
}

// Batch is Update for writes that may arrive concurrently: when other
// Batch calls are in progress, bbolt gathers them into one commit (waiting
// up to Options.MaxBatchDelay for company); a caller alone goes straight to
// Update rather than wait for company that is not coming. fn may run more
// than once and must only change the database (and variables it resets
// itself).
func (db *DB) Batch(fn func(*Tx) error) error {
	if db.batchers.Add(1) == 1 {
		defer db.batchers.Add(-1)
		return db.Update(fn)
	}
	defer db.batchers.Add(-1)
	return db.written(db.bolt.Batch(func(btx *bolt.Tx) error { return runWrite(btx, db, fn) }))
}

// Now is the store's clock (for use inside transactions).
func (tx *Tx) Now() time.Time { return tx.db.now() }

// NewID is DB.NewID.
func (tx *Tx) NewID() model.ID { return tx.db.NewID() }

func (tx *Tx) b(name []byte) *bolt.Bucket { return tx.tx.Bucket(name) }

// getJSON decodes the value at key into v; ErrNotFound when absent. The
// decode copies, so v is safe after the transaction.
func getJSON(b *bolt.Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode %s: %w", key, err)
	}
	return nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode: %w", err)
	}
	return b.Put(key, raw)
}

// clone copies b (bbolt memory is only valid during the transaction).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Setting reads a setting into v (JSON); ErrNotFound when unset.
func (tx *Tx) Setting(name string, v any) error {
	return getJSON(tx.b(bSettings), []byte(name), v)
}

// PutSetting stores v (JSON) as a setting.
func (tx *Tx) PutSetting(name string, v any) error {
	return putJSON(tx.b(bSettings), []byte(name), v)
}

// Settings returns all settings as raw JSON.
func (tx *Tx) Settings() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	_ = tx.b(bSettings).ForEach(func(k, v []byte) error {
		out[string(k)] = clone(v)
		return nil
	})
	return out
}

// NextRef hands out the next concatenation reference (16 bits, wrapping,
// never 0 so it is visible in a dump).
func (tx *Tx) NextRef() (uint16, error) {
	meta := tx.b(bMeta)
	var n uint64
	if v := meta.Get([]byte("ref")); v != nil {
		n = getU64(v)
	}
	n++
	if uint16(n) == 0 {
		n++
	}
	if err := meta.Put([]byte("ref"), u64(n)); err != nil {
		return 0, err
	}
	return uint16(n), nil
}
