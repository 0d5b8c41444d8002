package modem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// link is what Modem needs from the AT engine (modem/at's *Engine).
type link interface {
	Exec(ctx context.Context, cmd string, timeout time.Duration) ([]string, error)
	ExecSMS(ctx context.Context, cmd, pduHex string, timeout time.Duration) ([]string, error)
	Close() error
	Done() <-chan struct{}
	Err() error
}

// Info is what a modem says about itself and its SIM. ID is the IMEI: the
// modem's identity, whatever tty it appears at.
type Info struct {
	ID           string
	Port         string
	Manufacturer string
	Model        string
	Revision     string
	IMEI         string
	IMSI         string
	ICCID        string
	OwnNumber    string // "" when the SIM does not know it
	SMSC         string // the service centre the SIM names (+CSCA), "" if unknown
	// Storage is where incoming messages are stored (+CPMS mem3); Storages
	// are all storages polled for messages.
	Storage  string
	Storages []string
	// StorageUsed and StorageTotal are the messages in the read storage
	// and its size (+CPMS?), filled by Probe only (`gsmgate doctor`): a full
	// storage stops new-message indications.
	StorageUsed, StorageTotal int
	// CNMI is the indication setting that the modem accepted.
	CNMI string
	// AckDirect: +CSMS=1 is on, so direct deliveries are acknowledged with +CNMA.
	AckDirect bool
	// WriteStorage is where +CMGW writes and +CMSS sends from (+CPMS mem2).
	WriteStorage string
	// SendMode is how parts are sent: store-and-send (+CMGW then +CMSS)
	// or direct (+CMGS). See SendMode.
	SendMode SendMode
}

// Health is a modem's radio and SIM condition at one moment.
type Health struct {
	Signal       Signal
	Registration Registration
	Operator     string
	SIM          SIMState
	At           time.Time
}

// Status is a snapshot of a modem for listings (API, UI, `gsmgate modems`).
type Status struct {
	ID     string
	Port   string
	State  State
	Reason string
	Since  time.Time
	Info   Info
	Health Health
	// Leased is set by the Pool while a caller holds the modem for sending.
	Leased bool
}

// OpenError says why Open failed, at which step, and what was learned
// about the modem before (its IMEI and ICCID, when read).
type OpenError struct {
	Port string
	Step string
	Info Info
	Err  error
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("modem: open %s: %s: %v", e.Port, e.Step, e.Err)
}

func (e *OpenError) Unwrap() error { return e.Err }

// Modem is one initialised modem. Its methods are safe for concurrent use;
// commands are serialised by the AT engine.
type Modem struct {
	cfg  Config
	log  *slog.Logger
	eng  link
	smsc pdu.Address

	// pinRejected, set by the Pool, says a SIM (by ICCID, else IMEI) has
	// already rejected its PIN: it is not entered again.
	pinRejected func(key string) bool
	pinFailed   bool

	storeMu sync.Mutex // the selected read storage and the command using it
	mem1    string

	mu      sync.Mutex
	info    Info
	health  Health
	state   State
	reason  string
	since   time.Time
	pending map[string]delivered

	urcMu   sync.Mutex
	urcs    []at.URC
	urcKick chan struct{}
	probeCh chan struct{}
	sweepCh chan struct{} // MakeRoom asks the run loop to read the storages now
	roomCh  chan struct{} // a message was deleted: MakeRoom looks again

	closeOnce sync.Once
}

type delivered struct {
	hex string
	at  time.Time
}

// maxQueuedURCs bounds the indications waiting for the run loop. Beyond it
// they are dropped: a stored message is found again by the next poll, and an
// unacknowledged direct delivery is repeated by the network.
const maxQueuedURCs = 1000

// Open opens cfg.Port and initialises the modem: verbose results (ATV1),
// echo off, numeric errors,
// the SIM PIN (entered once at most), PDU mode, character set, +CSMS,
// message storage, new-message indications, identity and network state.
// It fails with an *OpenError wrapping ErrNotAModem, ErrNoSIM,
// ErrPINRequired, ErrWrongPIN, ErrPUKRequired, ErrSIMLocked, ... A modem
// that is not registered opens fine, in StateNoNetwork.
//
// Call Run to receive messages and keep the modem healthy, Close when done.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Modem, error) {
	m, err := dial(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := m.identify(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if err := m.initialise(ctx); err != nil {
		m.Close()
		return nil, err
	}
	m.setState(m.applyHealth(m.Status().Health))
	return m, nil
}

// dial opens the port and starts the engine; it does not talk to the modem.
func dial(ctx context.Context, cfg Config, log *slog.Logger) (*Modem, error) {
	m, err := newModem(cfg, log)
	if err != nil {
		return nil, err
	}
	rwc, err := OpenPort(ctx, m.cfg.Port, m.cfg.Baud, m.cfg.Flow)
	if err != nil {
		return nil, &OpenError{Port: m.cfg.Port, Step: "open port", Err: err}
	}
	m.eng = newEngine(rwc, m.cfg, m.log, m.onURC)
	return m, nil
}

// newModem checks cfg and builds a Modem without a link.
func newModem(cfg Config, log *slog.Logger) (*Modem, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Modem{
		cfg:     cfg,
		log:     log.With(slog.String("port", cfg.Port)),
		state:   StateOpening,
		since:   time.Now(),
		pending: map[string]delivered{},
		urcKick: make(chan struct{}, 1),
		probeCh: make(chan struct{}, 1),
		sweepCh: make(chan struct{}, 1),
		roomCh:  make(chan struct{}, 1),
	}
	m.info.Port = cfg.Port
	if cfg.SMSC != "" {
		a, err := pdu.ParseAddress(cfg.SMSC)
		if err != nil {
			return nil, fmt.Errorf("modem: config: smsc %q: %w", cfg.SMSC, err)
		}
		m.smsc = a
	}
	return m, nil
}

// Close stops the engine and closes the port. It does not touch the modem's
// configuration or storage.
func (m *Modem) Close() error {
	var err error
	m.closeOnce.Do(func() {
		err = m.eng.Close()
		m.mu.Lock()
		if m.state != StateDisconnected && m.state != StateFailed {
			m.state, m.reason, m.since = StateClosed, "closed", time.Now()
		}
		m.mu.Unlock()
	})
	return err
}

// Done is closed when the link to the modem is gone (closed, unplugged).
func (m *Modem) Done() <-chan struct{} { return m.eng.Done() }

// ID is the modem's IMEI.
func (m *Modem) ID() string { m.mu.Lock(); defer m.mu.Unlock(); return m.info.ID }

// Info returns what the modem said about itself at initialisation.
func (m *Modem) Info() Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.info
	i.Storages = append([]string(nil), i.Storages...)
	return i
}

// State returns the modem's state and why it is in it.
func (m *Modem) State() (State, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, m.reason
}

// Status returns a snapshot for listings; Health is the last one measured.
func (m *Modem) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.info
	i.Storages = append([]string(nil), i.Storages...)
	return Status{ID: i.ID, Port: i.Port, State: m.state, Reason: m.reason, Since: m.since, Info: i, Health: m.health}
}

// setState records a new state and reports whether it changed.
func (m *Modem) setState(s State, reason string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == s && m.reason == reason {
		return false
	}
	m.state, m.reason, m.since = s, reason, time.Now()
	return true
}

// exec runs one command with the command timeout and a package prefix.
func (m *Modem) exec(ctx context.Context, cmd string) ([]string, error) {
	return m.execT(ctx, cmd, m.cfg.CommandTimeout)
}

// execT runs one command with timeout d, counted by the engine from when the
// command is written (not while it waits behind another).
func (m *Modem) execT(ctx context.Context, cmd string, d time.Duration) ([]string, error) {
	lines, err := m.eng.Exec(ctx, cmd, d)
	if err != nil {
		if strings.HasPrefix(cmd, "AT+CPIN=") {
			cmd = "AT+CPIN=<redacted>"
		}
		return lines, fmt.Errorf("modem: %s: %w", cmd, err)
	}
	return lines, nil
}

// linkFailure reports whether err means the modem did not answer or the link
// is gone, as opposed to the modem answering with an error.
func linkFailure(err error) bool {
	return errors.Is(err, at.ErrTimeout) || errors.Is(err, at.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func cmeCode(err error) int {
	var cme *at.CMEError
	if errors.As(err, &cme) {
		return cme.Code
	}
	return -1
}

// identify checks that the port speaks AT and reads the modem's identity.
// It changes nothing on the modem except verbose results (ATV1), echo and error reporting.
func (m *Modem) identify(ctx context.Context) error {
	fail := func(step string, err error) error {
		return &OpenError{Port: m.cfg.Port, Step: step, Info: m.Info(), Err: err}
	}
	// A port of a multi-port stick that is not the AT port never answers:
	// give it a short time, twice (the first AT may be eaten by a modem
	// that was asleep or had a half-typed line). The probe is ATV1: a modem
	// left in numeric mode (ATV0) ends its results with "0\r" instead of
	// "OK", which the engine does not take for a result; ATV1 switches it
	// back, and if its own answer still came numeric, the engine's
	// resynchronisation and the second probe are answered in words.
	probe := min(m.cfg.CommandTimeout, 3*time.Second)
	var err error
	for range 2 {
		if _, err = m.execT(ctx, "ATV1", probe); err == nil || !linkFailure(err) || ctx.Err() != nil || errors.Is(err, at.ErrClosed) {
			break
		}
	}
	if err != nil {
		if linkFailure(err) && !errors.Is(err, at.ErrClosed) {
			return fail("probe", fmt.Errorf("%w: %v", ErrNotAModem, err))
		}
		return fail("probe", err)
	}
	if _, err := m.exec(ctx, "ATE0"); err != nil && linkFailure(err) {
		return fail("echo off", err)
	}
	if _, err := m.exec(ctx, "AT+CMEE=1"); err != nil {
		if linkFailure(err) {
			return fail("error reporting", err)
		}
		_, _ = m.exec(ctx, "AT+CMEE=2")
	}
	var info Info
	for _, q := range []struct {
		cmd, prefix string
		dst         *string
	}{
		{"AT+CGMI", "+CGMI:", &info.Manufacturer},
		{"AT+CGMM", "+CGMM:", &info.Model},
		{"AT+CGMR", "+CGMR:", &info.Revision},
	} {
		lines, err := m.exec(ctx, q.cmd)
		if err != nil {
			if linkFailure(err) {
				return fail("identity", err)
			}
			continue
		}
		*q.dst = strings.TrimPrefix(firstText(lines, q.prefix), "Revision: ")
	}
	for _, cmd := range []string{"AT+CGSN", "AT+GSN"} {
		lines, err := m.exec(ctx, cmd)
		if err != nil {
			if linkFailure(err) {
				return fail("identity", err)
			}
			continue
		}
		if d, ok := parseDigits(lines, 14); ok {
			info.IMEI = d
			break
		}
	}
	if info.IMEI == "" {
		return fail("identity", errors.New("modem: the modem does not report an IMEI"))
	}
	info.ID = info.IMEI
	m.mu.Lock()
	info.Port = m.info.Port
	m.info = info
	m.mu.Unlock()
	if err := m.readICCID(ctx); err != nil && linkFailure(err) {
		return fail("identity", err)
	}
	return nil
}

// readICCID tries the vendors' ways of asking for the SIM's serial number.
func (m *Modem) readICCID(ctx context.Context) error {
	for _, cmd := range []string{"AT+CCID", "AT+QCCID", "AT^ICCID?", "AT+ICCID"} {
		lines, err := m.exec(ctx, cmd)
		if err != nil {
			if linkFailure(err) {
				return err
			}
			continue
		}
		if d, ok := parseDigits(lines, 18); ok {
			m.mu.Lock()
			m.info.ICCID = d
			m.mu.Unlock()
			return nil
		}
	}
	return nil
}

// simKey identifies the SIM for the "PIN rejected" memory.
func (m *Modem) simKey() string {
	i := m.Info()
	if i.ICCID != "" {
		return "iccid:" + i.ICCID
	}
	return "imei:" + i.IMEI
}

// initialise configures the modem for SMS in PDU mode. It is also the
// second recovery step, so it must be safe to run on a configured modem.
func (m *Modem) initialise(ctx context.Context) error {
	fail := func(step string, err error) error {
		return &OpenError{Port: m.cfg.Port, Step: step, Info: m.Info(), Err: err}
	}
	// Verbose results first: a modem reset to a stored profile with ATV0
	// would answer everything else with digits the engine does not read.
	if _, err := m.exec(ctx, "ATV1"); err != nil && linkFailure(err) {
		return fail("verbose results", err)
	}
	if _, err := m.exec(ctx, "ATE0"); err != nil && linkFailure(err) {
		return fail("echo off", err)
	}
	_, _ = m.exec(ctx, "AT+CMEE=1")
	if err := m.unlockSIM(ctx); err != nil {
		return fail("SIM", err)
	}
	if m.Info().ICCID == "" {
		if err := m.readICCID(ctx); err != nil {
			return fail("SIM", err)
		}
	}
	if lines, err := m.exec(ctx, "AT+CIMI"); err == nil {
		if d, ok := parseDigits(lines, 6); ok {
			m.mu.Lock()
			m.info.IMSI = d
			m.mu.Unlock()
		}
	} else if linkFailure(err) {
		return fail("SIM", err)
	}
	if _, err := m.exec(ctx, "AT+CMGF=0"); err != nil {
		return fail("PDU mode", err)
	}
	// The character set only matters for the texts of +COPS and +CNUM;
	// PDUs are hex whatever it is.
	if _, err := m.exec(ctx, `AT+CSCS="IRA"`); err != nil {
		if linkFailure(err) {
			return fail("character set", err)
		}
		_, _ = m.exec(ctx, `AT+CSCS="GSM"`)
	}
	ack := false
	if lines, err := m.exec(ctx, "AT+CSMS=1"); err == nil {
		ack, _ = parseCSMSMT(lines)
		if len(lines) == 0 {
			ack = true
		}
	} else if linkFailure(err) {
		return fail("message service", err)
	} else if _, err := m.exec(ctx, "AT+CSMS=0"); err != nil && linkFailure(err) {
		return fail("message service", err)
	}
	m.mu.Lock()
	m.info.AckDirect = ack
	m.mu.Unlock()
	if err := m.chooseStorage(ctx); err != nil {
		return fail("storage", err)
	}
	if err := m.chooseSendMode(ctx); err != nil {
		return fail("send mode", err)
	}
	if err := m.chooseCNMI(ctx); err != nil {
		return fail("indications", err)
	}
	if err := m.registrationReports(ctx); err != nil {
		return fail("registration reports", err)
	}
	if lines, err := m.exec(ctx, "AT+CNUM"); err == nil {
		if n := parseCNUM(lines); n != "" {
			m.mu.Lock()
			m.info.OwnNumber = n
			m.mu.Unlock()
		}
	} else if linkFailure(err) {
		return fail("own number", err)
	}
	if lines, err := m.exec(ctx, "AT+CSCA?"); err == nil {
		if v, ok := infoLine(lines, "+CSCA:"); ok {
			m.mu.Lock()
			m.info.SMSC = fields(v)[0]
			m.mu.Unlock()
		}
	} else if linkFailure(err) {
		return fail("service centre", err)
	}
	_, _ = m.exec(ctx, "AT+COPS=3,0") // operator as a long name
	h, err := m.Health(ctx)
	if err != nil {
		return fail("health", err)
	}
	m.applyHealth(h)
	return nil
}

// unlockSIM waits for the SIM and enters the configured PIN, once.
func (m *Modem) unlockSIM(ctx context.Context) error {
	deadline := time.Now().Add(m.cfg.SIMWait)
	pinSent := false
	var last error
	for {
		lines, err := m.exec(ctx, "AT+CPIN?")
		var st SIMState
		if err == nil {
			st, err = parseCPIN(lines)
		}
		switch {
		case err != nil && linkFailure(err):
			return err
		case err != nil && cmeCode(err) == 10:
			return ErrNoSIM
		case err != nil && (cmeCode(err) == 13 || cmeCode(err) == 15):
			return fmt.Errorf("%w: %v", ErrSIMFailure, err)
		case err != nil:
			last = err // SIM busy, or not ready yet: wait
		case st == SIMReady || st == "SIM PIN2" || st == "SIM PUK2":
			return nil
		case st == SIMPIN && !pinSent:
			if m.cfg.PIN == "" {
				return ErrPINRequired
			}
			if m.pinFailed || m.pinRejected != nil && m.pinRejected(m.simKey()) {
				return fmt.Errorf("%w (it was rejected before; not entered again)", ErrWrongPIN)
			}
			pinSent = true
			if _, err := m.exec(ctx, `AT+CPIN="`+m.cfg.PIN+`"`); err != nil {
				if linkFailure(err) {
					return err
				}
				m.pinFailed = true
				return fmt.Errorf("%w: %v", ErrWrongPIN, err)
			}
			m.log.Info("SIM PIN accepted")
			continue
		case st == SIMPIN:
			last = errors.New("SIM still asks for the PIN after accepting it")
		case st == SIMPUK:
			return ErrPUKRequired
		default:
			return fmt.Errorf("%w: the SIM asks for %q", ErrSIMLocked, string(st))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: SIM not ready after %s: %v", ErrSIMFailure, m.cfg.SIMWait, last)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// chooseStorage splits the modem's message storages in two, the same way at
// every initialisation:
//
//   - incoming messages (+CPMS mem3) go to the largest storage the modem
//     offers for both reading and receiving (ties by name; "MT" only when
//     there is no other), chosen by
//     capacity alone: a full one stays chosen, because the network holds
//     incoming SMS until the reader frees a slot (it commits, then
//     deletes), which loses nothing, while moving to the other storage
//     would fill both over a few restarts;
//   - store-and-send's copies (+CPMS mem2, +CMGW and +CMSS) go to another
//     storage that does not overlap it (never "MT", SIM and phone memory
//     together), the largest of those, so incoming messages never take
//     the copies' room; a modem with one storage shares it.
//
// Every readable storage is still polled, so messages stored before are
// not missed.
func (m *Modem) chooseStorage(ctx context.Context) error {
	lines, err := m.exec(ctx, "AT+CPMS=?")
	if err != nil && linkFailure(err) {
		return err
	}
	var lists [][]string
	if err == nil {
		lists, err = parseStorageList(lines)
	}
	if err != nil {
		return m.currentStorage(ctx, err)
	}
	read := lists[0]
	recv := lists[len(lists)-1]
	write := read
	if len(lists) >= 2 {
		write = lists[1]
	}
	usable := func(s string) bool { return slices.Contains(read, s) && s != "BM" && s != "SR" }
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	// The capacity and use of every candidate, read by selecting it.
	total, used := map[string]int{}, map[string]int{}
	for _, s := range append(append([]string(nil), recv...), write...) {
		if _, seen := total[s]; seen || !usable(s) {
			continue
		}
		lines, err := m.exec(ctx, fmt.Sprintf(`AT+CPMS="%s"`, s))
		if err != nil {
			if linkFailure(err) {
				return err
			}
			continue
		}
		m.mem1 = s
		u, t, err := parseCPMSSet(lines)
		if err != nil {
			continue
		}
		total[s], used[s] = t, u
	}
	largest := func(list []string, ok func(string) bool) string {
		best := ""
		for _, s := range list {
			t, known := total[s]
			if !known || !ok(s) {
				continue
			}
			if best == "" || t > total[best] || t == total[best] && s < best {
				best = s
			}
		}
		return best
	}
	// "MT" (SIM and phone memory together) only when the modem offers no
	// other: with it no storage is left for the copies.
	best := largest(recv, func(s string) bool { return s != "MT" })
	if best == "" {
		best = largest(recv, func(string) bool { return true })
	}
	if best == "" {
		m.storeMu.Unlock()
		defer m.storeMu.Lock()
		return m.currentStorage(ctx, fmt.Errorf("modem: no usable message storage in %q", lines))
	}
	w := largest(write, func(s string) bool { return !overlaps(s, best) })
	if w == "" {
		w = best // one storage: copies and incoming messages share it
		if !slices.Contains(write, w) && len(write) > 0 {
			w = write[0]
		}
	}
	if _, err := m.exec(ctx, fmt.Sprintf(`AT+CPMS="%s","%s","%s"`, best, w, best)); err != nil {
		return err
	}
	m.mem1 = best
	var polled []string
	for _, s := range read {
		switch {
		case s == "BM":
		case s == "MT" && best != "MT": // MT is SM and ME together
		case (s == "SM" || s == "ME") && best == "MT" && slices.Contains(read, "MT"):
		default:
			polled = append(polled, s)
		}
	}
	m.mu.Lock()
	m.info.Storage, m.info.Storages, m.info.WriteStorage = best, polled, w
	m.mu.Unlock()
	m.log.Debug("message storages", slog.String("incoming", best), slog.String("copies", w))
	if used[best] >= total[best] {
		m.log.Warn("the storage for incoming messages is full; the network holds new ones until stored messages are read, committed and deleted", slog.String("storage", best))
	}
	return nil
}

// overlaps reports whether two storages share slots: the same one, or "MT"
// (SIM and phone memory together) and one of its halves.
func overlaps(a, b string) bool {
	half := func(s string) bool { return s == "SM" || s == "ME" }
	return a == b || a == "MT" && half(b) || b == "MT" && half(a)
}

// currentStorage is the fallback for a modem that does not say which
// storages it has: keep whatever it uses now (+CPMS?), or SIM storage.
func (m *Modem) currentStorage(ctx context.Context, why error) error {
	name := "SM"
	if lines, err := m.exec(ctx, "AT+CPMS?"); err == nil {
		if v, ok := infoLine(lines, "+CPMS:"); ok {
			if f := fields(v); len(f) > 0 && f[0] != "" {
				name = strings.ToUpper(f[0])
			}
		}
	} else if linkFailure(err) {
		return err
	}
	m.log.Warn("cannot choose a message storage; using the modem's current one", slog.String("storage", name), slog.Any("reason", why))
	m.storeMu.Lock()
	m.mem1 = name
	m.storeMu.Unlock()
	m.mu.Lock()
	m.info.Storage, m.info.Storages, m.info.WriteStorage = name, []string{name}, name
	m.mu.Unlock()
	return nil
}

// chooseCNMI enables new-message indications with the best setting the
// modem accepts (see cnmiCandidates).
func (m *Modem) chooseCNMI(ctx context.Context) error {
	var sup []intSet
	if lines, err := m.exec(ctx, "AT+CNMI=?"); err == nil {
		sup, _ = parseCNMITest(lines)
	} else if linkFailure(err) {
		return err
	}
	cands := cnmiCandidates(sup)
	if m.cfg.CNMI != "" {
		cands = append([]string{m.cfg.CNMI}, cands...)
	}
	var last error
	for _, c := range cands {
		_, err := m.exec(ctx, "AT+CNMI="+c)
		if err == nil {
			m.mu.Lock()
			m.info.CNMI = c
			m.mu.Unlock()
			return nil
		}
		if linkFailure(err) {
			return err
		}
		m.log.Debug("modem rejected +CNMI setting", slog.String("cnmi", c), slog.Any("error", err))
		last = err
	}
	// Without indications messages still arrive in storage, and the
	// periodic poll finds them: slower, but nothing is lost.
	m.log.Warn("modem accepts no +CNMI setting; relying on polling storage", slog.Duration("poll", m.cfg.PollInterval), slog.Any("error", last))
	m.mu.Lock()
	m.info.CNMI = ""
	m.mu.Unlock()
	return nil
}

// registrationReports asks the modem to report registration changes
// unsolicited (+CREG: and, on LTE modems, +CEREG:), with location (=2) where
// it can, else without (=1). The run loop checks health at once on each
// report, so a lost network stops sends within a second rather than at the
// next ProbeInterval; the periodic probe stays as the safety net for a
// modem that accepts neither.
func (m *Modem) registrationReports(ctx context.Context) error {
	for _, q := range []string{"AT+CREG", "AT+CEREG"} {
		for _, n := range []string{"=2", "=1"} {
			_, err := m.exec(ctx, q+n)
			if err == nil {
				break
			}
			if linkFailure(err) {
				return err
			}
		}
	}
	return nil
}

// Health measures signal, registration, operator and SIM state. It returns
// an error only when the modem does not answer; a modem that answers an
// individual query with ERROR leaves that field unknown.
func (m *Modem) Health(ctx context.Context) (Health, error) {
	h := Health{Signal: Signal{RSSI: 99, Bars: -1}, At: time.Now()}
	lines, err := m.exec(ctx, "AT+CSQ")
	if err != nil && linkFailure(err) {
		return h, err
	}
	if err == nil {
		if s, err := parseCSQ(lines); err == nil {
			h.Signal = s
		}
	}
	for _, q := range []struct{ cmd, prefix string }{{"AT+CREG?", "+CREG:"}, {"AT+CGREG?", "+CGREG:"}, {"AT+CEREG?", "+CEREG:"}} {
		lines, err := m.exec(ctx, q.cmd)
		if err != nil {
			if linkFailure(err) {
				return h, err
			}
			continue
		}
		if r, err := parseReg(lines, q.prefix); err == nil {
			h.Registration = betterReg(h.Registration, r)
		}
		if h.Registration.Registered() {
			break
		}
	}
	if lines, err := m.exec(ctx, "AT+COPS?"); err == nil {
		h.Operator, _ = parseCOPS(lines)
	} else if linkFailure(err) {
		return h, err
	}
	lines, err = m.exec(ctx, "AT+CPIN?")
	switch {
	case err == nil:
		h.SIM, _ = parseCPIN(lines)
	case linkFailure(err):
		return h, err
	case cmeCode(err) == 10:
		h.SIM = SIMAbsent
	case cmeCode(err) == 13 || cmeCode(err) == 15:
		h.SIM = SIMFailed
	}
	return h, nil
}

// applyHealth stores h and derives the state it implies.
func (m *Modem) applyHealth(h Health) (State, string) {
	st, reason := StateReady, "registered ("+h.Registration.String()+")"
	switch {
	case h.SIM != SIMReady && h.SIM != SIMUnknown:
		st, reason = StateFailed, "SIM: "+simReason(h.SIM)
	case !h.Registration.Registered():
		st, reason = StateNoNetwork, "not registered: "+h.Registration.String()
	}
	m.mu.Lock()
	m.health = h
	m.mu.Unlock()
	return st, reason
}

func simReason(s SIMState) string {
	switch s {
	case SIMAbsent:
		return "no SIM card inserted"
	case SIMFailed:
		return "SIM card failure"
	case SIMPIN:
		return "SIM locked with a PIN"
	case SIMPUK:
		return "SIM blocked, needs its PUK"
	}
	return "SIM asks for " + string(s)
}

// SendPart sends one SMS-SUBMIT TPDU (without SMSC prefix) with AT+CMGS in
// PDU mode and returns the message reference the network assigned (the MR a
// status report will carry). A failure is a *SendError: see Classify.
func (m *Modem) SendPart(ctx context.Context, tpdu []byte) (int, error) {
	if st, reason := m.State(); st != StateReady {
		err := fmt.Errorf("%w: %s (%s)", ErrNotReady, st, reason)
		return 0, &SendError{Class: Temporary, Code: -1, Reason: err.Error(), Err: err}
	}
	if err := ctx.Err(); err != nil {
		return 0, &SendError{Class: Temporary, Code: -1, Reason: "cancelled before sending", Err: err}
	}
	hexPDU, n := pdu.WithSMSC(m.smsc, tpdu)
	lines, err := m.eng.ExecSMS(ctx, fmt.Sprintf("AT+CMGS=%d", n), hexPDU, m.cfg.SendTimeout)
	if err != nil {
		se := classifyCause(err)
		if linkFailure(err) {
			m.kickProbe()
		}
		return 0, se
	}
	mr, err := parseCMGS(lines)
	if err != nil {
		return 0, &SendError{Class: Unknown, Code: -1, Reason: err.Error(), Err: err}
	}
	return mr, nil
}

// kickProbe asks the run loop to check the modem now.
func (m *Modem) kickProbe() {
	select {
	case m.probeCh <- struct{}{}:
	default:
	}
}

// selectRead makes storage the read/delete storage (+CPMS mem1). The
// caller holds storeMu.
func (m *Modem) selectRead(ctx context.Context, storage string) error {
	if m.mem1 == storage {
		return nil
	}
	if _, err := m.exec(ctx, fmt.Sprintf(`AT+CPMS="%s"`, storage)); err != nil {
		return err
	}
	m.mem1 = storage
	return nil
}

// Delete deletes the message at index of storage. Inbound.Commit calls it;
// call it directly only for messages you know are committed.
func (m *Modem) Delete(ctx context.Context, storage string, index int) error {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if err := m.selectRead(ctx, storage); err != nil {
		return err
	}
	if _, err := m.exec(ctx, fmt.Sprintf("AT+CMGD=%d", index)); err != nil {
		return err
	}
	select {
	case m.roomCh <- struct{}{}:
	default:
	}
	return nil
}

// read reads one stored message; ok is false for an empty slot.
func (m *Modem) read(ctx context.Context, storage string, index int) (storedSMS, bool, error) {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if err := m.selectRead(ctx, storage); err != nil {
		return storedSMS{}, false, err
	}
	lines, err := m.exec(ctx, fmt.Sprintf("AT+CMGR=%d", index))
	if err != nil {
		var cms *at.CMSError
		if errors.As(err, &cms) && cms.Code == 321 { // invalid memory index: empty
			return storedSMS{}, false, nil
		}
		return storedSMS{}, false, err
	}
	s, ok, err := parseCMGR(lines)
	s.Index = index
	return s, ok, err
}

// list lists every message in storage.
func (m *Modem) list(ctx context.Context, storage string) ([]storedSMS, error) {
	m.storeMu.Lock()
	defer m.storeMu.Unlock()
	if err := m.selectRead(ctx, storage); err != nil {
		return nil, err
	}
	lines, err := m.execT(ctx, "AT+CMGL=4", m.cfg.SendTimeout)
	if err != nil {
		var cms *at.CMSError
		if errors.As(err, &cms) && (cms.Code == 321 || cms.Code == 322) {
			return nil, nil // some modems answer an empty list with an error
		}
		return nil, err
	}
	return parseCMGL(lines)
}
