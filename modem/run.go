package modem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/modem/at"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// onURC is the engine's URC handler. It only queues: the work (reading the
// message, delivering it) happens on the run loop, which may block on a slow
// consumer without stalling the engine.
func (m *Modem) onURC(u at.URC) {
	switch u.Prefix {
	case "+CMTI", "+CDSI", "+CMT", "+CDS":
	case "+CREG", "+CEREG", "+CGREG", "+C5GREG", "+CPIN", "^SIMST", "+QUSIM":
		// Registration or SIM changed: measure now. The query answers are
		// read rather than the report itself, whose fields differ by
		// vendor and by +CREG=1/2.
		m.kickProbe()
		return
	default:
		return
	}
	m.urcMu.Lock()
	if len(m.urcs) < maxQueuedURCs {
		m.urcs = append(m.urcs, u)
	} else {
		m.log.Warn("indication queue full; dropped (the storage poll will find stored messages)", slog.String("urc", u.Line))
	}
	m.urcMu.Unlock()
	select {
	case m.urcKick <- struct{}{}:
	default:
	}
}

func (m *Modem) takeURCs() []at.URC {
	m.urcMu.Lock()
	defer m.urcMu.Unlock()
	u := m.urcs
	m.urcs = nil
	return u
}

// runner is one Run call's context: where events go.
type runner struct {
	m   *Modem
	ctx context.Context
	out chan<- Event
}

func (r *runner) emit(ev Event) error {
	select {
	case r.out <- ev:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

func (r *runner) stateEvent() error {
	s := r.m.Status()
	return r.emit(&StateChanged{ModemID: s.ID, Port: s.Port, State: s.State, Reason: s.Reason, At: s.Since})
}

// transition sets the state and reports it if it changed.
func (r *runner) transition(s State, reason string) error {
	if r.m.setState(s, reason) {
		r.m.log.Info("modem state", slog.String("state", string(s)), slog.String("reason", reason))
		return r.stateEvent()
	}
	return nil
}

// Run drives an opened modem until ctx ends or the link is lost: it delivers
// stored messages (at once, then every PollInterval), indications (+CMTI,
// +CMT, +CDSI, +CDS), and state changes to out; probes health every
// ProbeInterval; and recovers a modem that stops answering in escalating
// steps, reporting each. It returns ctx.Err(), an error wrapping ErrClosed
// with the cause when the link is lost (the modem was unplugged: reopen it,
// the Pool does), or an error when recovery failed.
//
// Run blocks while out is full: messages stay on the modem meanwhile.
func (m *Modem) Run(ctx context.Context, out chan<- Event) error {
	r := &runner{m: m, ctx: ctx, out: out}
	if err := r.stateEvent(); err != nil {
		return err
	}
	if err := r.sweep(); err != nil {
		if err := r.onError(err); err != nil {
			return err
		}
	}
	probe := time.NewTicker(m.cfg.ProbeInterval)
	defer probe.Stop()
	poll := time.NewTicker(m.cfg.PollInterval)
	defer poll.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.eng.Done():
			return r.lost()
		case <-m.urcKick:
			err = r.indications()
		case <-probe.C:
			err = r.probe()
		case <-m.probeCh:
			err = r.probe()
		case <-poll.C:
			err = r.sweep()
		case <-m.sweepCh:
			err = r.sweep()
		}
		if err != nil {
			if err := r.onError(err); err != nil {
				return err
			}
		}
	}
}

// lost reports the link loss and returns the error Run ends with: it wraps
// both ErrClosed and the engine's cause (at.ErrClosed and the read error).
func (r *runner) lost() error {
	cause := r.m.eng.Err()
	if cause == nil {
		cause = errors.New("link closed")
	}
	if st, _ := r.m.State(); st == StateClosed {
		return fmt.Errorf("modem %s: %w", r.m.ID(), ErrClosed) // Close was called
	}
	r.m.setState(StateDisconnected, "link lost: "+cause.Error())
	_ = r.stateEvent()
	return fmt.Errorf("modem %s: %w: %w", r.m.ID(), ErrClosed, cause)
}

// onError decides what an error from the loop's work means: nothing (the
// modem answered with an error; logged), recovery (it did not answer), or
// the end of Run.
func (r *runner) onError(err error) error {
	if ctxErr := r.ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	select {
	case <-r.m.eng.Done():
		return r.lost()
	default:
	}
	if !linkFailure(err) {
		r.m.log.Warn("modem command failed", slog.Any("error", err))
		return nil
	}
	return r.recover(err)
}

// probe is the periodic liveness and health check. A modem that was
// failed (SIM removed) and looks usable again is initialised afresh first:
// a re-inserted SIM needs its PIN and settings again.
func (r *runner) probe() error {
	h, err := r.m.Health(r.ctx)
	if err != nil {
		return err
	}
	was, _ := r.m.State()
	st, reason := r.m.applyHealth(h)
	// A re-inserted SIM that asks for its PIN is unlocked with the
	// configured one, unless a SIM rejected it before (never guess twice).
	pinAgain := h.SIM == SIMPIN && r.m.cfg.PIN != "" && !r.m.pinFailed
	if was == StateFailed && (st != StateFailed || pinAgain) {
		if err := r.m.initialise(r.ctx); err != nil {
			if linkFailure(err) {
				return err
			}
			return r.transition(StateFailed, err.Error())
		}
		if h, err = r.m.Health(r.ctx); err != nil {
			return err
		}
		st, reason = r.m.applyHealth(h)
	}
	return r.transition(st, reason)
}

// recover brings back a modem that stopped answering, in escalating steps.
func (r *runner) recover(cause error) error {
	m := r.m
	steps := []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"resynchronise", m.resync},
		{"re-initialise", m.initialise},
		{"radio off and on (AT+CFUN=0, AT+CFUN=1)", m.radioCycle},
		{"reset the modem (AT+CFUN=1,1)", m.reset},
	}
	m.log.Warn("modem not answering; recovering", slog.Any("error", cause))
	for i, s := range steps {
		reason := fmt.Sprintf("not answering (%v); recovery step %d/%d: %s", cause, i+1, len(steps), s.name)
		if err := r.transition(StateRecovering, reason); err != nil {
			return err
		}
		err := s.do(r.ctx)
		if err == nil {
			var h Health
			if h, err = m.Health(r.ctx); err == nil {
				st, why := m.applyHealth(h)
				m.log.Info("modem recovered", slog.String("step", s.name))
				return r.transition(st, why+"; recovered by: "+s.name)
			}
		}
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		select {
		case <-m.eng.Done():
			return r.lost()
		default:
		}
		var oe *OpenError
		if errors.As(err, &oe) && !linkFailure(err) {
			// The modem answers but cannot be used (SIM gone, PIN): a person
			// must act; stop here rather than reset it again and again.
			_ = r.transition(StateFailed, oe.Error())
			return err
		}
		m.log.Warn("recovery step failed", slog.String("step", s.name), slog.Any("error", err))
	}
	err := fmt.Errorf("modem %s: not answering after %d recovery steps: %w", m.ID(), len(steps), cause)
	_ = r.transition(StateFailed, err.Error())
	return err
}

// resync checks that the modem answers a bare AT (the engine has already
// sent ESC and drained after the timeout).
func (m *Modem) resync(ctx context.Context) error {
	var err error
	for range 3 {
		if _, err = m.execT(ctx, "AT", min(m.cfg.CommandTimeout, 3*time.Second)); err == nil {
			return nil
		}
		if errors.Is(err, at.ErrClosed) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func (m *Modem) radioCycle(ctx context.Context) error {
	if _, err := m.execT(ctx, "AT+CFUN=0", m.cfg.ResetWait); err != nil {
		return err
	}
	if _, err := m.execT(ctx, "AT+CFUN=1", m.cfg.ResetWait); err != nil {
		return err
	}
	return m.initialise(ctx)
}

// reset restarts the modem. On USB its ports disappear and reappear (the
// link ends; the Pool finds it again by IMEI); elsewhere we wait for it to
// answer and initialise it again.
func (m *Modem) reset(ctx context.Context) error {
	if _, err := m.execT(ctx, "AT+CFUN=1,1", m.cfg.ResetWait); err != nil && errors.Is(err, at.ErrClosed) {
		return err
	}
	deadline := time.Now().Add(m.cfg.ResetWait)
	for {
		_, err := m.execT(ctx, "AT", 2*time.Second)
		if err == nil {
			break
		}
		if errors.Is(err, at.ErrClosed) || time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
	return m.initialise(ctx)
}

// sweep lists every polled storage and delivers what is there: messages that
// arrived while we were away, while storage was full, or whose indication
// was lost.
func (r *runner) sweep() error {
	for _, st := range r.m.Info().Storages {
		list, err := r.m.list(r.ctx, st)
		if err != nil {
			if linkFailure(err) {
				return err
			}
			r.m.log.Warn("listing stored messages failed", slog.String("storage", st), slog.Any("error", err))
			if len(list) == 0 {
				continue
			}
		}
		for _, s := range list {
			if err := r.deliverStored(st, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// indications handles queued +CMTI/+CDSI/+CMT/+CDS.
func (r *runner) indications() error {
	for _, u := range r.m.takeURCs() {
		var err error
		switch u.Prefix {
		case "+CMTI", "+CDSI":
			err = r.indicated(u)
		case "+CMT", "+CDS":
			err = r.direct(u)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) indicated(u at.URC) error {
	body := strings.TrimSpace(strings.TrimPrefix(u.Line[len(u.Prefix):], ":"))
	storage, index, err := parseIndication(body)
	if err != nil {
		r.m.log.Warn("unreadable indication", slog.String("line", u.Line), slog.Any("error", err))
		return nil
	}
	s, ok, err := r.m.read(r.ctx, storage, index)
	if err != nil {
		if linkFailure(err) {
			return err
		}
		r.m.log.Warn("reading indicated message failed; the next poll retries", slog.String("line", u.Line), slog.Any("error", err))
		return nil
	}
	if !ok {
		return nil
	}
	return r.deliverStored(storage, s)
}

// deliverStored delivers one stored message unless it was delivered a short
// while ago and is still waiting for its commit (a poll and an indication
// often find the same message).
func (r *runner) deliverStored(storage string, s storedSMS) error {
	m := r.m
	if s.Stat == 2 || s.Stat == 3 {
		return nil // an outgoing message stored on the SIM: not ours to deliver
	}
	key := storage + "/" + strconv.Itoa(s.Index)
	now := time.Now()
	m.mu.Lock()
	p, seen := m.pending[key]
	if seen && p.hex == s.PDU && now.Sub(p.at) < m.cfg.RedeliverAfter {
		m.mu.Unlock()
		return nil
	}
	m.pending[key] = delivered{hex: s.PDU, at: now}
	m.mu.Unlock()
	index, pduHex := s.Index, s.PDU
	commit := func(ctx context.Context) error {
		// Delete only what was delivered: if the slot now holds another
		// message (ours was deleted by someone else), leave it alone.
		cur, ok, err := m.read(ctx, storage, index)
		if err != nil {
			return fmt.Errorf("modem: commit %s: %w", key, err)
		}
		if ok && !samePDU(cur.PDU, pduHex) {
			m.forget(key, pduHex)
			return nil
		}
		if ok {
			if err := m.Delete(ctx, storage, index); err != nil {
				return fmt.Errorf("modem: commit %s: %w", key, err)
			}
		}
		m.committed(key, pduHex)
		return nil
	}
	ev := m.event(storage, index, pduHex, commit, now)
	release := func() { m.forget(key, pduHex) }
	switch e := ev.(type) {
	case *Inbound:
		e.release = release
	case *StatusReport:
		e.release = release
	}
	return r.emit(ev)
}

func samePDU(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// committed records that the message in slot key is gone, keeping its
// entry (restarted at now) rather than dropping it: the run loop may have
// read the slot, for an indication or a poll, just before the commit
// deleted it, and must not deliver that stale copy again. A byte-identical
// message stored in the slot later is a repeat by Inbound's definition and
// is delivered after RedeliverAfter. Entries are per slot, so they stay
// bounded by the storage's size.
func (m *Modem) committed(key, pduHex string) {
	m.mu.Lock()
	if p, ok := m.pending[key]; ok && p.hex == pduHex {
		m.pending[key] = delivered{hex: pduHex, at: time.Now()}
	}
	m.mu.Unlock()
}

func (m *Modem) forget(key, pduHex string) {
	m.mu.Lock()
	if p, ok := m.pending[key]; ok && p.hex == pduHex {
		delete(m.pending, key)
	}
	m.mu.Unlock()
}

// direct handles +CMT and +CDS: the PDU is in the indication and nothing is
// stored; with +CSMS=1 the network waits for our +CNMA.
func (r *runner) direct(u at.URC) error {
	m := r.m
	if len(u.Extra) == 0 {
		m.log.Warn("direct delivery without its PDU line", slog.String("line", u.Line))
		return nil
	}
	var commit func(context.Context) error
	if m.Info().AckDirect {
		commit = func(ctx context.Context) error {
			_, err := m.exec(ctx, "AT+CNMA")
			return err
		}
	}
	return r.emit(m.event("", -1, u.Extra[0], commit, u.Time))
}

// event decodes a PDU line and wraps it as *Inbound or *StatusReport.
func (m *Modem) event(storage string, index int, pduHex string, commit func(context.Context) error, at time.Time) Event {
	if at.IsZero() {
		at = time.Now()
	}
	info := m.Info()
	raw, hexErr := hex.DecodeString(strings.TrimSpace(pduHex))
	msg, err := pdu.DecodeHex(pduHex, pdu.DecodeOptions{Direction: pdu.MT, SMSC: true})
	if err != nil {
		msg = nil
		if hexErr != nil {
			raw = []byte(pduHex)
		}
	}
	if msg != nil && msg.Type == pdu.TypeStatusReport {
		return &StatusReport{
			ModemID: info.ID, Port: info.Port, Storage: storage, Index: index, PDU: raw,
			MR: msg.MR, Recipient: msg.Recipient.String(), Status: msg.Status, Msg: msg,
			Received: at, receipt: receipt{commit: commit},
		}
	}
	return &Inbound{
		ModemID: info.ID, Port: info.Port, Storage: storage, Index: index, PDU: raw,
		Msg: msg, DecodeErr: err, Received: at, receipt: receipt{commit: commit},
	}
}
