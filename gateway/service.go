package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/nyaruka/phonenumbers"
)

// Clock is the source of time; tests inject a fake.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// Options tune the service. The zero value of each field means its default.
type Options struct {
	// DefaultCountry is the ISO 3166-1 region ("GB", "DE") national
	// numbers are read in. Without it only "+..." numbers are accepted.
	DefaultCountry string
	// MaxRecipients caps one Send (default 10000).
	MaxRecipients int
	// MaxTextChars caps one text in characters (default 1600, ten
	// concatenated GSM parts).
	MaxTextChars int
	// MaxParts caps the SMS parts of one text (default 10).
	MaxParts int
	// Segment says how texts are segmented (default: cheapest encoding, no
	// national tables, 8-bit references).
	Segment pdu.SegmentOptions
	// Retention is how long messages are kept; 0 keeps them forever.
	Retention time.Duration
	// PurgeBatch is how many records one retention transaction deletes
	// (default 200): small, so the dispatcher never waits long for the
	// write lock (a batch of 200 messages took 4 ms on the benchmark
	// machine with fsync, 500 took 10-16 ms; a Raspberry Pi is a few times
	// slower).
	PurgeBatch int
	// PurgePause is the rest between two retention transactions (default
	// 10 ms), so that a large purge leaves the write lock free most of the
	// time rather than taking it back to back.
	PurgePause time.Duration
	// PurgeInterval is how often RunRetention purges (default 1 h).
	PurgeInterval time.Duration
	// IdempotencyTTL is how long an idempotency key is remembered (default
	// 24 h).
	IdempotencyTTL time.Duration
	// DedupTTL is how long the keys of received parts are remembered to
	// recognise a part read again (default 7 days).
	DedupTTL time.Duration
	// PasswordCost is the bcrypt cost (default bcrypt.DefaultCost).
	PasswordCost int
	// TokenTouchInterval: a token's LastUsedAt is written at most this
	// often (default 1 min), so reads stay reads.
	TokenTouchInterval time.Duration
	// ModemStatus, when set, is where Modems and Ready read the modems
	// from (default: the modems Run or RunModems drives).
	ModemStatus func() []model.ModemStatus
	// OptOut configures opt-out by SMS (stop and start words, replies).
	OptOut OptOutOptions
	// Policy is the sending policy, for estimates (and for the dispatcher
	// when ModemOptions.Policy is left zero).
	Policy SendPolicy
	// SessionIdle ends a web UI session unused this long (default 12 h);
	// SessionMax ends any session this long after login (default 7 days).
	SessionIdle time.Duration
	SessionMax  time.Duration
}

func (o *Options) defaults() {
	o.OptOut.defaults()
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 10000
	}
	if o.MaxTextChars <= 0 {
		o.MaxTextChars = 1600
	}
	if o.MaxParts <= 0 {
		o.MaxParts = 10
	}
	if o.PurgeBatch <= 0 {
		o.PurgeBatch = 200
	}
	if o.PurgePause <= 0 {
		o.PurgePause = 10 * time.Millisecond
	}
	if o.PurgeInterval <= 0 {
		o.PurgeInterval = time.Hour
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.DedupTTL <= 0 {
		o.DedupTTL = 7 * 24 * time.Hour
	}
	if o.PasswordCost <= 0 {
		o.PasswordCost = 10
	}
	if o.TokenTouchInterval <= 0 {
		o.TokenTouchInterval = time.Minute
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 12 * time.Hour
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 7 * 24 * time.Hour
	}
}

// Service is the gateway core. It is safe for concurrent use.
type Service struct {
	st    *store.DB
	clock Clock
	log   *slog.Logger
	opt   Options
	bus   *Bus
	wake  chan struct{}

	// running is the Modems RunModems drives (for Modems and Ready).
	running atomic.Pointer[Modems]
	// fallbacks counts store-and-send parts that went by +CMGS.
	fallbacks fallbackCounts
	// live is the settings an admin saved (nil: those of Options).
	live atomic.Pointer[model.Settings]

	setupMu   sync.Mutex
	setupCode string // the first-run setup code ("" until made, and after setup)

	dummyOnce sync.Once
	dummyHash []byte // compared against for unknown login names

	// numbers validates canonical E.164 numbers without the library's
	// per-call cost (numbers.go).
	numbers numberPlans

	// bulkNotes gathers bulk messages' failures into one notice per
	// bulk send (bulk_notices.go).
	bulkNotes *bulkNotices
}

// New returns a service over an open store. The store's own clock should be
// the same as clock (IDs are made from it).
func New(st *store.DB, clock Clock, log *slog.Logger, o Options) (*Service, error) {
	if st == nil {
		return nil, fmt.Errorf("gateway: nil store")
	}
	if clock == nil {
		clock = SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o.DefaultCountry = strings.ToUpper(strings.TrimSpace(o.DefaultCountry))
	if o.DefaultCountry != "" && phonenumbers.GetCountryCodeForRegion(o.DefaultCountry) == 0 {
		return nil, fmt.Errorf("gateway: default country %q is not an ISO 3166 region code", o.DefaultCountry)
	}
	o.defaults()
	s := &Service{st: st, clock: clock, log: log, opt: o, bus: NewBus(), wake: make(chan struct{}, 1), bulkNotes: newBulkNotices()}
	if err := s.loadSettings(); err != nil {
		return nil, err
	}
	return s, nil
}

// Bus is the event bus.
func (s *Service) Bus() *Bus { return s.bus }

// Options returns the options in effect (defaults filled in).
func (s *Service) Options() Options { return s.opt }

// OutboxWake is signalled (without blocking, coalesced) whenever parts
// become due: a Send without a send-at time, a Retry. The dispatcher waits
// on it instead of polling.
func (s *Service) OutboxWake() <-chan struct{} { return s.wake }

// WakeOutbox signals OutboxWake.
func (s *Service) WakeOutbox() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// PublishStatus publishes what changed for a message: one StatusChanged
// when its state differs from prev.
// The dispatcher calls it after each commit.
func (s *Service) PublishStatus(prev model.State, m model.Message) {
	if m.State == prev {
		return
	}
	now := s.clock.Now()
	s.bus.Publish(&StatusChanged{At: now, Message: m, Previous: prev})
	if m.State.IsFailure() && !prev.IsFailure() {
		s.noteFailure(now, m)
	}
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	return nil
}

// StorageFull reports whether the disk holding the database is full (a
// write failed for want of space, and there is still no room), and since
// when: readiness, the metrics and the UI say so. Writes fail with
// ErrStorageFull meanwhile; nothing stored is lost, incoming messages stay
// on the modems, and everything resumes by itself once space is freed.
func (s *Service) StorageFull() (bool, time.Time) { return s.st.StorageFull() }
