package modem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// PoolConfig configures a Pool.
type PoolConfig struct {
	// Modem is the template for modems found by Scan (its Port is ignored):
	// timeouts, PIN, trace.
	Modem Config
	// Scan lists the ports to look for modems on, called every
	// RescanInterval and whenever a modem is lost; ScanUSB is the usual
	// choice. nil: only the ports given to Add.
	Scan func(ctx context.Context) ([]string, error)
	// RescanInterval is how often Scan runs and failed ports are retried
	// (default 10s).
	RescanInterval time.Duration
	// RetryMin and RetryMax bound the backoff between attempts to open a
	// port that failed (default 2s and 5m).
	RetryMin, RetryMax time.Duration
	// FailedRetry is the wait before a modem with a SIM problem (no SIM,
	// locked, wrong PIN) is looked at again (default 5m). A rejected PIN
	// is never entered again either way.
	FailedRetry time.Duration
	// EventBuffer is the capacity of the Events channel (default 256).
	EventBuffer int
}

func (c PoolConfig) defaults() PoolConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RescanInterval, 10*time.Second)
	def(&c.RetryMin, 2*time.Second)
	def(&c.RetryMax, 5*time.Minute)
	def(&c.FailedRetry, 5*time.Minute)
	if c.EventBuffer <= 0 {
		c.EventBuffer = 256
	}
	return c
}

// Pool runs many modems, each with its own goroutine and engine. It knows
// modems by IMEI: when one is unplugged and reappears at another port it is
// opened again and resumes under the same ID. The gateway asks it for a
// modem that can send now (Acquire) and reads Events for all incoming
// traffic and state changes.
type Pool struct {
	cfg    PoolConfig
	log    *slog.Logger
	events chan Event
	kick   chan struct{}

	mu          sync.Mutex
	ports       map[string]*portSlot
	members     map[string]*member
	starting    map[string]string // modem ID -> port of the attempt initialising it
	pinRejected map[string]bool
	changed     chan struct{} // closed and replaced on every change
	wg          sync.WaitGroup
}

type portSlot struct {
	cfg        Config
	configured bool // from Add: kept even when it fails or disappears
	busy       bool // an attempt or a running modem owns it
	nextTry    time.Time
	failures   int
	lastErr    error
}

type member struct {
	m        *Modem // nil while disconnected or failed
	status   Status // the last status while m is nil
	leased   bool
	lastUsed time.Time
}

// NewPool returns a pool; call Add for configured ports and Run to start it.
func NewPool(cfg PoolConfig, log *slog.Logger) *Pool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.defaults()
	return &Pool{
		cfg:         cfg,
		log:         log,
		events:      make(chan Event, cfg.EventBuffer),
		kick:        make(chan struct{}, 1),
		ports:       map[string]*portSlot{},
		members:     map[string]*member{},
		starting:    map[string]string{},
		pinRejected: map[string]bool{},
		changed:     make(chan struct{}),
	}
}

// Events delivers every modem's *Inbound, *StatusReport and *StateChanged.
// Read it continuously: a modem waits (and keeps its messages stored) while
// the channel is full.
func (p *Pool) Events() <-chan Event { return p.events }

// Add configures a port (device path or tcp://host:port) to keep a modem
// on. Fields of cfg left zero take the pool's template.
func (p *Pool) Add(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	if s, ok := p.ports[cfg.Port]; ok {
		// Already watched (found by Scan, or added before): keep its
		// state; the new settings apply from its next attempt.
		s.cfg, s.configured = p.merge(cfg), true
	} else {
		p.ports[cfg.Port] = &portSlot{cfg: p.merge(cfg), configured: true}
	}
	p.mu.Unlock()
	p.rescan()
	return nil
}

// merge fills cfg's unset fields from the template.
func (p *Pool) merge(cfg Config) Config {
	t := p.cfg.Modem
	t.Port = cfg.Port
	if cfg.Baud != 0 {
		t.Baud = cfg.Baud
	}
	if cfg.Flow != "" {
		t.Flow = cfg.Flow
	}
	if cfg.PIN != "" {
		t.PIN = cfg.PIN
	}
	if cfg.SMSC != "" {
		t.SMSC = cfg.SMSC
	}
	if cfg.CNMI != "" {
		t.CNMI = cfg.CNMI
	}
	if cfg.Trace != nil {
		t.Trace = cfg.Trace
	}
	if cfg.DirectSend {
		t.DirectSend = true
	}
	for _, d := range []struct{ dst, src *time.Duration }{
		{&t.CommandTimeout, &cfg.CommandTimeout}, {&t.SendTimeout, &cfg.SendTimeout},
		{&t.ProbeInterval, &cfg.ProbeInterval}, {&t.PollInterval, &cfg.PollInterval},
		{&t.RedeliverAfter, &cfg.RedeliverAfter}, {&t.SIMWait, &cfg.SIMWait}, {&t.ResetWait, &cfg.ResetWait},
	} {
		if *d.src > 0 {
			*d.dst = *d.src
		}
	}
	return t
}

func (p *Pool) rescan() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// notify wakes Acquire callers. The caller holds p.mu.
func (p *Pool) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Run looks for modems and runs them until ctx ends, then closes them all.
func (p *Pool) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.RescanInterval)
	defer t.Stop()
	for {
		p.scan(ctx)
		select {
		case <-ctx.Done():
			p.wg.Wait()
			return ctx.Err()
		case <-t.C:
		case <-p.kick:
		}
	}
}

func (p *Pool) scan(ctx context.Context) {
	var found map[string]bool
	if p.cfg.Scan != nil {
		list, err := p.cfg.Scan(ctx)
		if err != nil {
			p.log.Warn("scanning for modems failed", slog.Any("error", err))
		} else {
			found = map[string]bool{}
			for _, port := range list {
				found[port] = true
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if found != nil {
		for port := range found {
			if _, ok := p.ports[port]; !ok {
				c := p.cfg.Modem
				c.Port = port
				p.ports[port] = &portSlot{cfg: c}
			}
		}
		for port, s := range p.ports {
			if !s.configured && !s.busy && !found[port] {
				delete(p.ports, port) // gone (unplugged)
			}
		}
	}
	now := time.Now()
	for _, s := range p.ports {
		if s.busy || now.Before(s.nextTry) || ctx.Err() != nil {
			continue
		}
		s.busy = true
		cfg := s.cfg
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.attempt(ctx, s, cfg)
		}()
	}
}

// attempt opens one port; if it holds a modem not already running, it
// initialises and runs it until the link is lost.
func (p *Pool) attempt(ctx context.Context, s *portSlot, cfg Config) {
	log := p.log.With(slog.String("port", cfg.Port))
	m, err := dial(ctx, cfg, log)
	if err == nil {
		err = m.identify(ctx)
	}
	if err != nil {
		if m != nil {
			m.Close()
		}
		p.failed(ctx, s, "", err)
		return
	}
	id := m.ID()
	p.mu.Lock()
	// Another port of a modem we run already, or are initialising at
	// another port (multi-port sticks often answer AT on two, and a scan
	// tries both at once): leave it alone. The claim is taken before
	// initialise, which takes a while, so two ports never both run it.
	var other error
	if mem := p.members[id]; mem != nil && mem.m != nil {
		other = fmt.Errorf("modem: %s is another port of modem %s (running at %s)", cfg.Port, id, mem.m.Info().Port)
	} else if port, ok := p.starting[id]; ok {
		other = fmt.Errorf("modem: %s is another port of modem %s (starting at %s)", cfg.Port, id, port)
	} else {
		p.starting[id] = cfg.Port
	}
	p.mu.Unlock()
	if other != nil {
		m.Close()
		p.failed(ctx, s, "", other)
		return
	}
	m.pinRejected = p.isPINRejected
	if err := m.initialise(ctx); err != nil {
		if errors.Is(err, ErrWrongPIN) {
			p.mu.Lock()
			p.pinRejected[m.simKey()] = true
			p.mu.Unlock()
		}
		m.setState(StateFailed, err.Error())
		st := m.Status()
		m.Close()
		p.mu.Lock()
		delete(p.starting, id)
		p.memberLocked(id).status = st
		p.notify()
		p.mu.Unlock()
		p.failed(ctx, s, id, err)
		return
	}
	m.setState(m.applyHealth(m.Status().Health))
	p.mu.Lock()
	delete(p.starting, id)
	mem := p.memberLocked(id)
	mem.m = m
	s.failures, s.lastErr = 0, nil
	p.notify()
	p.mu.Unlock()
	log.Info("modem running", slog.String("modem", id))

	// Forward the modem's events, waking Acquire on state changes.
	out := make(chan Event)
	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		for ev := range out {
			if _, ok := ev.(*StateChanged); ok {
				p.mu.Lock()
				p.notify()
				p.mu.Unlock()
			}
			select {
			case p.events <- ev:
			case <-ctx.Done():
			}
		}
	}()
	runErr := m.Run(ctx, out)
	m.Close()
	close(out)
	<-fwd
	st := m.Status()
	p.mu.Lock()
	mem.m = nil
	mem.status = st
	s.busy = false
	if ctx.Err() == nil {
		s.failures++
		s.lastErr = runErr
		// Look for it again at once: a renumbered tty shows up in the next scan.
		s.nextTry = time.Now().Add(p.cfg.RetryMin)
	}
	p.notify()
	p.mu.Unlock()
	if ctx.Err() == nil {
		// Run has reported the state (disconnected, failed) itself.
		log.Warn("modem stopped; looking for it again", slog.String("modem", id), slog.Any("error", runErr))
		p.rescan()
	}
}

func (p *Pool) memberLocked(id string) *member {
	mem := p.members[id]
	if mem == nil {
		mem = &member{}
		p.members[id] = mem
	}
	return mem
}

func (p *Pool) isPINRejected(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pinRejected[key]
}

// failed records a failed attempt and schedules the next one.
func (p *Pool) failed(ctx context.Context, s *portSlot, id string, err error) {
	sim := errors.Is(err, ErrNoSIM) || errors.Is(err, ErrSIMFailure) || errors.Is(err, ErrPINRequired) ||
		errors.Is(err, ErrWrongPIN) || errors.Is(err, ErrPUKRequired) || errors.Is(err, ErrSIMLocked)
	p.mu.Lock()
	port := s.cfg.Port
	// A port the configuration names and that fails in a new way (busy,
	// permission, not answering) is worth a warning; its repeats, and
	// ports found by scanning (any USB-serial adapter), only debug lines.
	changed := s.lastErr == nil || s.lastErr.Error() != err.Error()
	loud := s.configured && changed
	s.failures++
	s.lastErr = err
	wait := p.cfg.RetryMin << min(s.failures-1, 20)
	if wait > p.cfg.RetryMax || wait <= 0 {
		wait = p.cfg.RetryMax
	}
	if sim {
		wait = p.cfg.FailedRetry
	}
	s.nextTry = time.Now().Add(wait)
	s.busy = false
	p.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if id == "" {
		level := slog.LevelDebug
		if loud {
			level = slog.LevelWarn
		}
		p.log.Log(ctx, level, "no usable modem at port", slog.String("port", port), slog.Any("error", err), slog.Duration("retry_in", wait))
		return
	}
	p.log.Warn("modem cannot be used", slog.String("port", port), slog.String("modem", id), slog.Any("error", err), slog.Duration("retry_in", wait))
	p.emit(ctx, &StateChanged{ModemID: id, Port: port, State: StateFailed, Reason: err.Error(), At: time.Now()})
}

func (p *Pool) emit(ctx context.Context, ev Event) {
	select {
	case p.events <- ev:
	case <-ctx.Done():
	}
}

// Modems lists every modem the pool has seen, running or not, by ID.
func (p *Pool) Modems() []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Status, 0, len(p.members))
	for _, mem := range p.members {
		st := mem.status
		if mem.m != nil {
			st = mem.m.Status()
		}
		st.Leased = mem.leased
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PortStatus says what the pool found at one port, for diagnostics: a
// configured port that never yields a modem (wrong path, permissions, not
// the AT port) shows up here and not in Modems.
type PortStatus struct {
	Port       string
	Configured bool   // from Add; false when found by Scan
	ModemID    string // the modem running on it, if any
	LastError  string // why the last attempt failed ("" after a success)
	NextTry    time.Time
}

// Ports lists the ports the pool watches, sorted by port.
func (p *Pool) Ports() []PortStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	running := map[string]string{}
	for id, mem := range p.members {
		if mem.m != nil {
			running[mem.m.Info().Port] = id
		}
	}
	out := make([]PortStatus, 0, len(p.ports))
	for port, s := range p.ports {
		ps := PortStatus{Port: port, Configured: s.configured, ModemID: running[port], NextTry: s.nextTry}
		if s.lastErr != nil {
			ps.LastError = s.lastErr.Error()
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// Modem returns the running modem with this ID (IMEI), or nil.
func (p *Pool) Modem(id string) *Modem {
	p.mu.Lock()
	defer p.mu.Unlock()
	if mem := p.members[id]; mem != nil {
		return mem.m
	}
	return nil
}

// Acquire waits for a modem that can send now (StateReady, not leased, and
// accepted by want when want is not nil), leases it and returns it with the
// function that ends the lease. Among several it picks the one idle longest.
// Send all parts of one message through the same lease: the recipient
// reassembles them by the sender's number.
func (p *Pool) Acquire(ctx context.Context, want func(Status) bool) (*Modem, func(), error) {
	for {
		p.mu.Lock()
		var best *member
		for _, mem := range p.members {
			if mem.m == nil || mem.leased {
				continue
			}
			st := mem.m.Status()
			if st.State != StateReady || want != nil && !want(st) {
				continue
			}
			if best == nil || mem.lastUsed.Before(best.lastUsed) {
				best = mem
			}
		}
		if best != nil {
			best.leased = true
			m := best.m
			p.mu.Unlock()
			var once sync.Once
			return m, func() {
				once.Do(func() {
					p.mu.Lock()
					best.leased = false
					best.lastUsed = time.Now()
					p.notify()
					p.mu.Unlock()
				})
			}, nil
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("modem: no modem ready to send: %w", ctx.Err())
		case <-ch:
		}
	}
}
