package at

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the tuning options.
const (
	DefaultTimeout       = 10 * time.Second // WithTimeout
	DefaultLongTimeout   = 60 * time.Second // WithLongTimeout: +CMGS, +CMSS, +CMGW, +CMGL, +COPS=?, +CUSD=
	DefaultResyncTimeout = 3 * time.Second  // WithResyncTimeout: one "AT" probe after a timeout
	DefaultURCQueue      = 256              // WithURCQueue
	resyncAttempts       = 3
	maxOwed              = 16
)

// Option configures an Engine.
type Option func(*config)

type config struct {
	timeout, long, resync time.Duration
	trace                 io.Writer
	log                   *slog.Logger
	urcs                  map[string]int
	handler               func(URC)
	queue                 int
}

// WithTimeout sets the default per-command timeout (default 10 s). It also
// bounds the wait for the SMS prompt in ExecSMS.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithLongTimeout sets the timeout of slow commands (default 60 s): +CMGS,
// +CMSS, +CMGW (ExecSMS), +CMGL, +COPS=? and +CUSD=.
func WithLongTimeout(d time.Duration) Option { return func(c *config) { c.long = d } }

// WithResyncTimeout sets how long one "AT" probe may take when the engine
// resynchronises after a timeout (default 3 s; up to 3 probes are tried).
func WithResyncTimeout(d time.Duration) Option { return func(c *config) { c.resync = d } }

// WithTrace writes every byte read and written to w, timestamped and
// direction-marked, with PINs and passwords replaced by "****".
func WithTrace(w io.Writer) Option { return func(c *config) { c.trace = w } }

// WithLogger sets the logger (default: discard). Stray lines, dropped URCs
// and resynchronisations are logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithURC registers an extra unsolicited result code: prefix is its name
// ("+QIND", "+FOO:" - a trailing colon is ignored) and lines how many lines
// it spans including the first (2 for "+CMT" style header + PDU).
func WithURC(prefix string, lines int) Option {
	return func(c *config) {
		if lines < 1 {
			lines = 1
		}
		c.urcs[normName(prefix)] = lines
	}
}

// WithURCHandler sets the function that receives URCs. It is called in
// order, one at a time, from one goroutine fed by a bounded queue; it may
// call Exec (it then waits behind any running command). Without a handler
// URCs are logged at debug level and discarded.
func WithURCHandler(h func(URC)) Option { return func(c *config) { c.handler = h } }

// WithURCQueue sets the bound of the URC queue (default 256). When it is
// full the OLDEST queued URC is dropped, counted (DroppedURCs) and logged at
// warn level: the reader never blocks on a slow handler, so a handler that
// calls Exec can never deadlock the engine. A driver should therefore poll
// storage (+CMGL) as a safety net rather than rely on every +CMTI.
func WithURCQueue(n int) Option {
	return func(c *config) {
		if n < 1 {
			n = 1
		}
		c.queue = n
	}
}

// ExecOption configures one Exec or ExecSMS call.
type ExecOption func(*execConfig)

type execConfig struct{ timeout time.Duration }

// WithCmdTimeout overrides the timeout of one command.
func WithCmdTimeout(d time.Duration) ExecOption { return func(c *execConfig) { c.timeout = d } }

// Engine runs AT commands over one stream. Create it with New; it is safe
// for concurrent use (commands are serialised).
type Engine struct {
	rw    io.ReadWriteCloser
	cfg   config
	log   *slog.Logger
	trace *tracer

	sem    chan struct{} // holds a token while a command (or resync) runs
	writes chan writeReq
	urcs   chan URC

	mu       sync.Mutex // guards everything below, and the line classification
	cur      *call      // the command awaiting its answer, if any
	owed     int        // finals still due to abandoned commands
	lateOwn  []cmdPart  // command parts of abandoned commands, to recognise their late lines
	consumed int        // finals eaten by owed during the current resync probe
	desync   bool       // a command was abandoned; resync before the next
	pend     *URC       // multi-line URC being collected
	pendNeed int        // lines still to collect into pend.Extra
	pendMore int        // >0: pend is a +CUSD whose quoted text goes on; lines it may still take
	err      error

	handler   atomic.Pointer[func(URC)]
	lastRead  atomic.Int64 // UnixNano of the last read that returned bytes
	dropped   atomic.Uint64
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error

	readerDone, dispatchDone chan struct{}
}

type writeReq struct {
	b   []byte
	res chan error // nil: nobody waits
}

// call is one command in flight. Its fields after creation are guarded by
// Engine.mu; done and prompt are closed under it.
type call struct {
	cmd      string
	parts    []cmdPart
	pdu      string
	sms      bool
	lines    []string
	err      error
	done     chan struct{}
	prompt   chan struct{}
	prompted bool
	finished bool
}

// New starts an engine on rw: one goroutine reads (and owns reading), one
// writes, one dispatches URCs. rw is closed by Close or when a read or
// write fails.
func New(rw io.ReadWriteCloser, opts ...Option) *Engine {
	cfg := config{
		timeout: DefaultTimeout, long: DefaultLongTimeout, resync: DefaultResyncTimeout,
		queue: DefaultURCQueue, urcs: make(map[string]int, len(defaultURCs)),
	}
	for k, v := range defaultURCs {
		cfg.urcs[k] = v
	}
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		rw: rw, cfg: cfg, log: log,
		sem:          make(chan struct{}, 1),
		writes:       make(chan writeReq, 8),
		urcs:         make(chan URC, cfg.queue),
		done:         make(chan struct{}),
		readerDone:   make(chan struct{}),
		dispatchDone: make(chan struct{}),
	}
	if cfg.trace != nil {
		e.trace = &tracer{w: cfg.trace}
	}
	if cfg.handler != nil {
		e.handler.Store(&cfg.handler)
	}
	go e.readLoop()
	go e.writeLoop()
	go e.dispatchLoop()
	return e
}

// Done is closed when the engine is closed, by Close or by a read or write
// failure (unplugged modem, EOF).
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err is nil while the engine runs; afterwards an error wrapping ErrClosed
// and the cause.
func (e *Engine) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// DroppedURCs counts URCs dropped because the queue was full.
func (e *Engine) DroppedURCs() uint64 { return e.dropped.Load() }

// Close closes the stream and makes every pending and later Exec return an
// error wrapping ErrClosed. It does not wait for a command to finish nor for
// the reader to exit (a port whose Read ignores Close cannot hang it), so it
// is safe to call at any time, also from a URC handler or after a timeout.
func (e *Engine) Close() error {
	e.shutdown(fmt.Errorf("%w: closed by Close", ErrClosed))
	return e.closeErr
}

func (e *Engine) shutdown(err error) {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.err = err
		e.mu.Unlock()
		close(e.done)
		e.closeErr = e.rw.Close()
		e.log.Debug("at: engine closed", slog.Any("error", err))
	})
}

func (e *Engine) readLoop() {
	defer close(e.readerDone)
	f := newFramer()
	buf := make([]byte, 4096)
	for {
		n, err := e.rw.Read(buf)
		if n > 0 {
			e.lastRead.Store(time.Now().UnixNano())
			e.trace.log("<-", buf[:n])
			f.feed(buf[:n], e.handleToken)
		}
		if err != nil {
			e.mu.Lock()
			if e.pend != nil { // deliver what we have of a cut multi-line URC
				e.deliver(*e.pend)
				e.pend = nil
			}
			e.mu.Unlock()
			e.shutdown(fmt.Errorf("%w: read: %w", ErrClosed, err))
			return
		}
	}
}

func (e *Engine) writeLoop() {
	for {
		select {
		case req := <-e.writes:
			e.trace.log("->", req.b)
			_, err := e.rw.Write(req.b)
			if err != nil {
				e.shutdown(fmt.Errorf("%w: write: %w", ErrClosed, err))
			}
			if req.res != nil {
				req.res <- err
			}
		case <-e.done:
			return
		}
	}
}

// dispatchLoop runs until the reader has exited, then hands over what is
// still queued, so every URC the reader framed is delivered, in order.
func (e *Engine) dispatchLoop() {
	defer close(e.dispatchDone)
	for {
		select {
		case u := <-e.urcs:
			e.handle(u)
		case <-e.readerDone:
			for { // deliver what was already queued, in order
				select {
				case u := <-e.urcs:
					e.handle(u)
				default:
					return
				}
			}
		}
	}
}

func (e *Engine) handle(u URC) {
	h := e.handler.Load()
	if h == nil || *h == nil {
		e.log.Debug("at: unsolicited, no handler", slog.String("line", redact(u.Line)))
		return
	}
	(*h)(u)
}

// SetURCHandler replaces the URC handler (see WithURCHandler), for a driver
// that is handed an engine already running; nil discards URCs. URCs already
// queued go to the new handler.
func (e *Engine) SetURCHandler(h func(URC)) {
	if h == nil {
		e.handler.Store(nil)
		return
	}
	e.handler.Store(&h)
}

// Resync proves the link is in step, as after a timeout: ESC, then "AT"
// until an answer not owed to an abandoned command arrives (up to 3 probes
// of WithResyncTimeout each). It is the first step of a driver's recovery of
// a modem that stopped answering; the error wraps ErrTimeout when the modem
// stays silent.
func (e *Engine) Resync(ctx context.Context) error {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("at: resync: %w", ctxErr(ctx))
	case <-e.done:
		return fmt.Errorf("at: resync: %w", e.Err())
	}
	defer func() { <-e.sem }()
	if err := e.resync(ctx); err != nil {
		return fmt.Errorf("at: %w", err)
	}
	return nil
}

// deliver queues u; called with mu held, never blocks.
func (e *Engine) deliver(u URC) {
	for {
		select {
		case e.urcs <- u:
			return
		default:
		}
		select {
		case old := <-e.urcs:
			e.dropped.Add(1)
			e.log.Warn("at: URC queue full, dropped oldest", slog.String("line", redact(old.Line)))
		default:
		}
	}
}

func (e *Engine) handleToken(t token) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t.kind == tokPrompt {
		c := e.cur
		if c != nil && c.sms && e.owed == 0 && !c.prompted && !c.finished {
			c.prompted = true
			close(c.prompt)
			return
		}
		// A prompt nobody waits for (a late prompt of an abandoned +CMGS):
		// cancel it at once, or the next command would be taken as PDU text.
		e.log.Warn("at: unexpected SMS prompt, cancelling with ESC")
		e.queueWrite([]byte{0x1b})
		return
	}
	e.handleLine(trimLine(t.text))
}

// queueWrite writes without waiting; called with mu held.
func (e *Engine) queueWrite(b []byte) {
	select {
	case e.writes <- writeReq{b: b}:
	default:
		e.log.Warn("at: write queue full, dropped a write", slog.Int("bytes", len(b)))
	}
}

// handleLine classifies one trimmed line (mu held). The rules, in order:
//  1. empty lines are dropped;
//  2. a line continuing a multi-line URC (the PDU after +CMT:, or the rest
//     of a +CUSD whose quoted text holds line ends) belongs to it;
//  3. the echo of the running command or of its PDU is dropped;
//  4. a final result code ends the running command - unless finals are owed
//     to abandoned commands, which take them first (the modem answers in
//     order), so a late answer is never credited to a later command;
//  5. a line whose name is in the URC registry is unsolicited, EXCEPT when
//     the running command has that name in read ("+CREG?"), test ("+CREG=?")
//     or action ("+CPAS") form: then it is that command's answer. In set form
//     ("+CREG=2", "+CUSD=1,...") such a line is unsolicited, because set
//     commands of registered codes answer only OK;
//  6. anything else is an information line of the running command, or, with
//     no command running or finals owed, a stray late line that is logged and
//     dropped.
func (e *Engine) handleLine(line string) {
	if line == "" {
		return
	}
	if e.pend != nil {
		if final, _ := parseFinal(line); !final && e.pendMore > 0 {
			e.pend.Line += "\n" + line
			e.pendMore--
			if strings.Count(e.pend.Line, `"`)%2 == 0 || e.pendMore == 0 {
				e.deliver(*e.pend)
				e.pend = nil
			}
			return
		} else if !final {
			e.pend.Extra = append(e.pend.Extra, line)
			if len(e.pend.Extra) >= e.pendNeed {
				e.deliver(*e.pend)
				e.pend = nil
			}
			return
		}
		e.log.Warn("at: multi-line URC cut short by a final result", slog.String("urc", e.pend.Line))
		e.deliver(*e.pend)
		e.pend = nil
	}
	c := e.cur
	if c != nil && c.isEcho(line) {
		return
	}
	if final, ferr := parseFinal(line); final {
		switch {
		case e.owed > 0:
			e.owed--
			e.consumed++
			if e.owed == 0 {
				e.lateOwn = nil
			}
			e.log.Info("at: discarded late result of an abandoned command", slog.String("line", line))
		case c == nil || c.finished:
			e.log.Warn("at: stray final result", slog.String("line", line))
		default:
			c.err = ferr
			c.finish()
			e.cur = nil
		}
		return
	}
	name := lineName(line)
	if n, ok := e.cfg.urcs[name]; ok && !(e.owed == 0 && c != nil && owns(c.parts, name)) && !(e.owed > 0 && owns(e.lateOwn, name)) {
		u := URC{Prefix: name, Line: line, Time: time.Now()}
		if n > 1 {
			e.pend, e.pendNeed, e.pendMore = &u, n-1, 0
			return
		}
		if quotedURCs[name] && strings.Count(line, `"`)%2 == 1 {
			// USSD text may contain line ends: keep the lines up to the
			// closing quote, joined by "\n", in Line.
			e.pend, e.pendNeed, e.pendMore = &u, 0, maxQuotedLines
			return
		}
		e.deliver(u)
		return
	}
	if e.owed > 0 || c == nil || c.finished {
		e.log.Info("at: discarded stray line", slog.String("line", redact(line)))
		return
	}
	c.lines = append(c.lines, line)
}

// owns reports whether a line named name answers one of parts (rule 5).
func owns(parts []cmdPart, name string) bool {
	for _, p := range parts {
		if p.name == name && !p.set {
			return true
		}
	}
	return false
}

func (c *call) isEcho(line string) bool {
	if strings.EqualFold(line, c.cmd) {
		return true
	}
	return c.pdu != "" && c.prompted && strings.EqualFold(line, c.pdu)
}

func (c *call) finish() {
	if !c.finished {
		c.finished = true
		close(c.done)
	}
}

func (e *Engine) timeoutFor(cmd string, sms bool) time.Duration {
	u := strings.ToUpper(cmd)
	if sms {
		return e.cfg.long
	}
	for _, p := range []string{"+CMGS", "+CMSS", "+CMGW", "+CMGL", "+COPS=?", "+CUSD="} {
		if strings.Contains(u, p) {
			return e.cfg.long
		}
	}
	return e.cfg.timeout
}

// Exec runs one command line (the full text, e.g. "AT+CSQ" or
// "AT+CMGF=0;+CNMI=2,1"; the engine appends the CR) and returns its
// information lines: echo, empty lines, URCs and the final result removed.
// The error is nil for OK; otherwise it wraps ErrError, ErrNotSupported,
// *CMEError, *CMSError, *FinalError, ErrTimeout, ErrClosed or ctx.Err(). The
// lines read before an error result are returned with it.
func (e *Engine) Exec(ctx context.Context, cmd string, opts ...ExecOption) ([]string, error) {
	return e.run(ctx, cmd, "", false, opts)
}

// ExecSMS runs a command that takes a PDU after the "> " prompt, e.g.
// "AT+CMGS=23" with the PDU in hex: it waits for the prompt (at most the
// default timeout), writes the PDU and Ctrl-Z, and waits for the result
// (default 60 s in all, see WithLongTimeout). If the prompt never comes, ESC
// cancels it and the error wraps ErrTimeout.
func (e *Engine) ExecSMS(ctx context.Context, cmd string, pduHex string, opts ...ExecOption) ([]string, error) {
	if pduHex == "" || !isHex(pduHex) {
		return nil, fmt.Errorf("at: exec %s: PDU is not hex: %w", redact(cmd), ErrBadCommand)
	}
	return e.run(ctx, cmd, pduHex, true, opts)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F') {
			return false
		}
	}
	return true
}

func (e *Engine) run(ctx context.Context, cmd, pdu string, sms bool, opts []ExecOption) (lines []string, err error) {
	cmd = strings.TrimSpace(cmd)
	name := redact(cmd)
	defer func() {
		if err != nil {
			err = fmt.Errorf("at: exec %s: %w", name, err)
		}
	}()
	if cmd == "" || strings.ContainsAny(cmd, "\r\n\x1a\x1b") {
		return nil, ErrBadCommand
	}
	ec := execConfig{timeout: e.timeoutFor(cmd, sms)}
	for _, o := range opts {
		o(&ec)
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	case <-e.done:
		return nil, e.Err()
	}
	defer func() { <-e.sem }()
	select { // closed while waiting for the token: report that, not a write error
	case <-e.done:
		return nil, e.Err()
	default:
	}
	e.mu.Lock()
	desync := e.desync
	e.mu.Unlock()
	if desync {
		if err := e.resync(ctx); err != nil {
			return nil, err
		}
	}
	return e.do(ctx, cmd, pdu, sms, ec.timeout)
}

func ctxErr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return ctx.Err()
}

func newCall(cmd, pdu string, sms bool) *call {
	return &call{
		cmd: cmd, parts: parseCmd(cmd), pdu: pdu, sms: sms,
		done: make(chan struct{}), prompt: make(chan struct{}),
	}
}

// do runs one command; the caller holds the command token.
func (e *Engine) do(ctx context.Context, cmd, pdu string, sms bool, timeout time.Duration) ([]string, error) {
	c := newCall(cmd, pdu, sms)
	e.mu.Lock()
	e.cur = c
	e.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()

	if queued, err := e.write(ctx, timer.C, cmd+"\r"); err != nil {
		return e.abandon(c, queued, false, err)
	}
	if sms {
		promptTimer := time.NewTimer(min(timeout, e.cfg.timeout))
		defer promptTimer.Stop()
		select {
		case <-c.prompt:
		case <-c.done: // an error (or a strange OK) instead of the prompt
			return e.result(c)
		case <-promptTimer.C:
			return e.abandon(c, true, true, fmt.Errorf("%w: no SMS prompt", ErrTimeout))
		case <-timer.C:
			return e.abandon(c, true, true, fmt.Errorf("%w: no SMS prompt", ErrTimeout))
		case <-ctx.Done():
			return e.abandon(c, true, true, ctxErr(ctx))
		case <-e.done:
			return nil, e.Err()
		}
		if _, err := e.write(ctx, timer.C, pdu+"\x1a"); err != nil {
			return e.abandon(c, true, true, err)
		}
	}
	select {
	case <-c.done:
		return e.result(c)
	case <-timer.C:
		return e.abandon(c, true, sms, ErrTimeout)
	case <-ctx.Done():
		return e.abandon(c, true, sms, ctxErr(ctx))
	case <-e.done:
		return nil, e.Err()
	}
}

func (e *Engine) result(c *call) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return c.lines, c.err
}

// write hands s to the writer goroutine and waits until it is written, the
// deadline passes or the engine closes. queued reports whether the writer
// got it: then it will be written even if write gave up waiting, and its
// answer may come.
func (e *Engine) write(ctx context.Context, deadline <-chan time.Time, s string) (queued bool, err error) {
	req := writeReq{b: []byte(s), res: make(chan error, 1)}
	select {
	case e.writes <- req:
	case <-deadline:
		return false, fmt.Errorf("%w: write blocked", ErrTimeout)
	case <-ctx.Done():
		return false, ctxErr(ctx)
	case <-e.done:
		return false, e.Err()
	}
	select {
	case err := <-req.res:
		if err != nil {
			return true, e.Err()
		}
		return true, nil
	case <-deadline:
		return true, fmt.Errorf("%w: write blocked", ErrTimeout)
	case <-ctx.Done():
		return true, ctxErr(ctx)
	case <-e.done:
		return true, e.Err()
	}
}

// abandon gives up on c: if it reached the writer its answer is owed and
// will be discarded when it comes; the link must be resynchronised before
// the next command. If c completed meanwhile, its real result wins.
func (e *Engine) abandon(c *call, sent, esc bool, cause error) ([]string, error) {
	e.mu.Lock()
	if c.finished {
		e.mu.Unlock()
		return e.result(c)
	}
	if errors.Is(cause, ErrClosed) {
		e.mu.Unlock()
		return nil, cause
	}
	c.finish() // nothing is credited to it any more
	c.err = cause
	if e.cur == c {
		e.cur = nil
	}
	if sent {
		if e.owed < maxOwed {
			e.owed++
		}
		e.lateOwn = append(e.lateOwn, c.parts...)
	}
	e.desync = true
	if esc {
		e.queueWrite([]byte{0x1b})
	}
	e.mu.Unlock()
	e.log.Warn("at: command abandoned, link desynchronised", slog.String("cmd", redact(c.cmd)), slog.Any("error", cause))
	return nil, cause
}

// resync proves the link is in step again: ESC (closes a prompt a late
// +CMGS may have opened), then "AT" until an answer that is not owed to an
// abandoned command arrives. The caller holds the command token.
//
// Owed answers are counted exactly for a modem that answers every command
// in order. A modem that dropped a command would make the count eat the
// probe's own answer; so when a probe gets no answer of its own although
// owed answers arrived during it, and the link has then been silent for a
// whole resync timeout, the debt is forgotten and the next probe decides. A
// link still talking keeps the probe waiting (up to 10 resync timeouts), so
// a slow modem working through a queue of abandoned commands is not
// mistaken for one that dropped them.
func (e *Engine) resync(ctx context.Context) error {
	T := e.cfg.resync
	for attempt := 1; attempt <= resyncAttempts; attempt++ {
		c := newCall("AT", "", false)
		e.mu.Lock()
		e.cur, e.consumed = c, 0
		e.mu.Unlock()
		timer := time.NewTimer(T)
		limit := time.Now().Add(10 * T)
		_, err := e.write(ctx, timer.C, "\x1b")
		queued := false
		if err == nil {
			queued, err = e.write(ctx, timer.C, "AT\r")
		}
		for err == nil {
			select {
			case <-c.done:
			case <-timer.C:
				e.mu.Lock()
				consumed := e.consumed
				e.mu.Unlock()
				if quiet := time.Since(e.lastReadTime()); consumed > 0 && quiet < T && time.Now().Before(limit) {
					timer.Reset(T - quiet)
					continue
				}
				err = ErrTimeout
			case <-ctx.Done():
				err = ctxErr(ctx)
			case <-e.done:
				err = e.Err()
			}
			break
		}
		timer.Stop()
		e.mu.Lock()
		if c.finished && err == nil { // any final of our own: in step
			e.desync, e.cur = false, nil
			e.mu.Unlock()
			e.log.Info("at: link resynchronised", slog.Int("attempt", attempt))
			return nil
		}
		c.finish()
		if e.cur == c {
			e.cur = nil
		}
		switch {
		case e.consumed > 0 && time.Since(e.lastReadTime()) >= T:
			e.owed, e.lateOwn = 0, nil
		case queued && e.owed < maxOwed:
			e.owed++ // our probe may still be answered later
		}
		e.mu.Unlock()
		if errors.Is(err, ErrClosed) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("resynchronise: %w", ctxErr(ctx))
		}
	}
	return fmt.Errorf("resynchronise: %w: modem does not answer AT", ErrTimeout)
}

func (e *Engine) lastReadTime() time.Time { return time.Unix(0, e.lastRead.Load()) }
