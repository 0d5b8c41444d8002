package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
)

// Modems is what the gateway needs from its modems: a lease on one that can
// send now, what each is doing, and the stream of what they receive. The
// gateway declares it (the consumer owns the interface); PoolModems adapts a
// *modem.Pool.
type Modems interface {
	// Acquire waits for a modem that can send now and that want accepts
	// (nil: any), leases it and returns it with the function that ends the
	// lease. All parts of one message go through one lease.
	Acquire(ctx context.Context, want func(modem.Status) bool) (Sender, func(), error)
	// Modems lists every modem known, running or not.
	Modems() []modem.Status
	// Events delivers received parts (*modem.Inbound), status reports
	// (*modem.StatusReport) and state changes (*modem.StateChanged). It is
	// read by one goroutine, continuously.
	Events() <-chan modem.Event
}

// Sender is one leased modem.
type Sender interface {
	// ID is the modem's stable identity (IMEI).
	ID() string
	// SendPart hands one SMS-SUBMIT TPDU to the network and returns the
	// message reference it was given. Errors are classified with
	// modem.Classify.
	SendPart(ctx context.Context, tpdu []byte) (int, error)
}

// PoolModems adapts a *modem.Pool to Modems.
func PoolModems(p *modem.Pool) Modems { return poolModems{p} }

type poolModems struct{ p *modem.Pool }

func (a poolModems) Acquire(ctx context.Context, want func(modem.Status) bool) (Sender, func(), error) {
	m, release, err := a.p.Acquire(ctx, want)
	if err != nil {
		return nil, nil, err
	}
	return m, release, nil
}

func (a poolModems) Modems() []modem.Status     { return a.p.Modems() }
func (a poolModems) Events() <-chan modem.Event { return a.p.Events() }

// ModemOptions tune the modem-facing half of the gateway: the dispatcher that
// drains the outbox and the inbox that stores what modems receive. The zero
// value of each field means its default.
type ModemOptions struct {
	// RetryMin and RetryMax bound the exponential backoff after a temporary
	// send error (defaults 10 s and 10 min); each wait is jittered by up to
	// a half so that parts failed together do not retry together.
	RetryMin, RetryMax time.Duration
	// MaxAttempts is how many times a part is tried before a temporary
	// error fails it for good (default 10).
	MaxAttempts int
	// ResendUnknown sends again, at startup, the parts a crashed process
	// left "submitting" (they may then arrive twice). Off by default: such
	// a message becomes "unknown" with a one-click retry. The store setting
	// SettingResendUnknown (true/false) also turns it on.
	ResendUnknown bool
	// IncompleteAfter is how long the parts of an incoming multipart
	// message are waited for before what arrived is delivered, marked
	// incomplete (default 24 h).
	IncompleteAfter time.Duration
	// ReportWindow is how far back a status report is matched to a sent
	// part by (modem, MR, recipient) (default 72 h): message references
	// are only 8 bits, so an old part with the same MR must not match.
	ReportWindow time.Duration
	// Rescan is the safety net: how often the outbox is looked at without
	// being woken, and expired messages are marked (default 30 s). Sending
	// is driven by Send's wake-up, not by this.
	Rescan time.Duration
	// StoredWait is how long a part whose send was cut short with its
	// copy stored on the modem (the link was lost during +CMSS) waits for
	// that modem to come back and its copy to be read, before it is called
	// unknown (default 10 min).
	StoredWait time.Duration
	// OrphanWait is how long a status report that matches no sent part is
	// kept on the modem and tried again (default 30 s): it may overtake
	// the commit of its part's MR.
	OrphanWait time.Duration
	// Policy is the sending policy: per-SIM rate limits, daily caps and
	// quiet hours (zero: none).
	Policy SendPolicy
	// BulkNoticeDelay is how long failures of a bulk send are gathered
	// before its sender is told, in one notice (default 10 s).
	BulkNoticeDelay time.Duration
}

// SettingResendUnknown is the store setting (a JSON bool) that makes
// startup resend parts whose outcome is unknown instead of listing them as
// failures.
const SettingResendUnknown = "outbox.resend_unknown"

func (o *ModemOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RetryMin, 10*time.Second)
	def(&o.RetryMax, 10*time.Minute)
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	def(&o.IncompleteAfter, 24*time.Hour)
	def(&o.ReportWindow, 72*time.Hour)
	def(&o.Rescan, 30*time.Second)
	def(&o.OrphanWait, 30*time.Second)
	def(&o.StoredWait, 10*time.Minute)
	def(&o.BulkNoticeDelay, 10*time.Second)
}

// Run runs the modem side of the gateway on a pool until ctx ends: it runs
// the pool, recovers what a crash left behind, then drains the outbox and
// stores what the modems receive (RunModems). On shutdown the parts being
// sent are finished first, then the pool is stopped, so a clean stop never
// leaves an outcome unknown. It is the one call `gsmgate serve` needs:
//
//	pool := modem.NewPool(cfg, log)
//	pool.Add(modem.Config{Port: "/dev/ttyUSB2"})
//	err := svc.Run(ctx, pool, gateway.ModemOptions{})
//
// Do not also call pool.Run: Run owns the pool's lifetime and its Events.
func (s *Service) Run(ctx context.Context, pool *modem.Pool, o ModemOptions) error {
	poolCtx, stopPool := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPool()
	poolDone := make(chan struct{})
	go func() {
		defer close(poolDone)
		_ = pool.Run(poolCtx)
	}()
	err := s.RunModems(ctx, PoolModems(pool), o)
	stopPool()
	<-poolDone
	return err
}

// RunModems recovers the parts a crashed process left "submitting"
// (RecoverAtStartup), then runs the dispatcher and the inbox on m until ctx
// ends. It returns when the sends under way have finished (each bounded by
// the modem's send timeout) and the inbox has stopped. It fails only when
// the startup recovery cannot be written.
func (s *Service) RunModems(ctx context.Context, m Modems, o ModemOptions) error {
	o.defaults()
	if o.Policy.isZero() {
		o.Policy = s.opt.Policy
	}
	s.running.Store(&m)
	resend := o.ResendUnknown
	var setting bool
	if err := s.st.View(func(tx *store.Tx) error { return tx.Setting(SettingResendUnknown, &setting) }); err == nil && setting {
		resend = true
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("reading setting failed", "setting", SettingResendUnknown, "error", err)
	}
	if _, err := s.RecoverAtStartup(ctx, resend); err != nil {
		return fmt.Errorf("gateway: run modems: %w", err)
	}
	d := newDispatcher(s, m, o)
	in := newInbox(s, m, o, d.kickNow)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); d.run(ctx) }()
	go func() { defer wg.Done(); in.run(ctx) }()
	go func() { defer wg.Done(); s.runBulkNotices(ctx, o.BulkNoticeDelay) }()
	wg.Wait()
	return nil
}
