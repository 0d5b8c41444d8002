package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
)

// The dispatcher drains the outbox. It is driven by events: Send and Retry
// wake it (Service.OutboxWake), a worker that finishes or a modem that
// changes state kicks it, and a timer is set for the next retry that falls
// due. A periodic rescan (ModemOptions.Rescan) is only the safety net.
//
// Each free modem gets a worker holding its lease. A worker claims a part
// (committed "submitting" before AT+CMGS), sends it, and in ONE transaction
// records the outcome and claims the next part (the rest of the same message
// first, so that its parts leave from one number back to back), so the gap
// between a +CMGS answer and the next AT+CMGS is one commit.
//
// Rules the claim enforces (accept):
//   - parts of a message go in order: a part waits while an earlier one is
//     queued or being sent;
//   - a message is worked on by one modem at a time;
//   - once a part of a multipart message went out through a modem, the
//     rest follow through the same modem while it is usable (the recipient
//     reassembles by the sender's number);
//   - a part that failed temporarily on a modem is tried on another ready
//     modem when there is one.
type dispatcher struct {
	s    *Service
	m    Modems
	o    ModemOptions
	log  *slog.Logger
	kick chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	inflight map[model.ID]string // message -> modem working on it
}

func newDispatcher(s *Service, m Modems, o ModemOptions) *dispatcher {
	return &dispatcher{s: s, m: m, o: o, log: s.log.With("component", "dispatcher"),
		kick: make(chan struct{}, 1), inflight: map[model.ID]string{}}
}

// kickNow asks the dispatcher to look at the outbox again (coalesced).
func (d *dispatcher) kickNow() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// change is a message state change to publish after its commit.
type change struct {
	prev model.State
	m    model.Message
}

func (d *dispatcher) publish(cs []change) {
	for _, c := range cs {
		d.s.PublishStatus(c.prev, c.m)
		if c.m.State.IsFailure() && !c.prev.IsFailure() {
			d.log.Warn("send failed", "message", c.m.ID, "number", c.m.Number, "state", c.m.State, "reason", c.m.Reason)
		}
	}
}

func (d *dispatcher) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	safety := time.NewTicker(d.o.Rescan)
	defer safety.Stop()
	d.expire()
	for {
		next := d.pump(ctx)
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(max(next.Sub(d.s.clock.Now()), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			d.wg.Wait()
			return
		case <-d.s.OutboxWake():
		case <-d.kick:
		case <-timer.C:
		case <-safety.C:
			d.expire()
		}
	}
}

// expire marks expired the messages whose expiry passed while they waited
// (even when no modem could take them) and publishes the change.
func (d *dispatcher) expire() {
	var ids []model.ID
	err := d.s.st.View(func(tx *store.Tx) error {
		var err error
		ids, err = tx.ExpiredDue(5000)
		return err
	})
	if err != nil || len(ids) == 0 {
		if err != nil {
			d.log.Error("looking for expired messages failed", "error", err)
		}
		return
	}
	var cs []change
	err = d.s.st.Update(func(tx *store.Tx) error {
		cs = cs[:0]
		ms, prev, err := tx.ExpireMessages(ids)
		for i := range ms {
			cs = append(cs, change{prev[i], ms[i]})
		}
		return err
	})
	if err != nil {
		d.log.Error("expiring messages failed", "error", err)
		return
	}
	d.publish(cs)
}

// pump starts a worker on every free modem that has a part it may send. It
// returns when the next part is due (zero: no timer needed; a wake-up or a
// kick will come).
func (d *dispatcher) pump(ctx context.Context) time.Time {
	tried := map[string]bool{}
	for ctx.Err() == nil {
		var next time.Time
		var queued bool
		if err := d.s.st.View(func(tx *store.Tx) error { next, queued = tx.NextDue(); return nil }); err != nil {
			d.log.Error("reading the outbox failed", "error", err)
			return d.s.clock.Now().Add(time.Second)
		}
		if !queued {
			return time.Time{}
		}
		if next.After(d.s.clock.Now()) {
			return next
		}
		statuses := d.m.Modems()
		free := false
		for _, st := range statuses {
			if st.State == modem.StateReady && !st.Leased && !tried[st.ID] {
				free = true
				break
			}
		}
		if !free {
			return d.nextFuture() // a worker's end or a state change kicks us
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		snd, release, err := d.m.Acquire(actx, func(st modem.Status) bool { return !tried[st.ID] })
		cancel()
		if err != nil {
			return d.nextFuture()
		}
		tried[snd.ID()] = true
		due, ok, cs, err := d.commitAndClaim(snd.ID(), nil, 0, statuses)
		d.publish(cs)
		if err != nil {
			release()
			d.log.Error("claiming a part failed", "modem", snd.ID(), "error", err)
			return d.s.clock.Now().Add(time.Second)
		}
		if !ok {
			release() // nothing this modem may take now; try another
			continue
		}
		d.wg.Add(1)
		go d.work(ctx, snd, release, due)
	}
	return time.Time{}
}

// nextFuture is when the next part that is not due yet falls due (zero:
// none), for the timer when the parts due now cannot be taken.
func (d *dispatcher) nextFuture() time.Time {
	var next time.Time
	_ = d.s.st.View(func(tx *store.Tx) error { next, _ = tx.NextDueAfter(d.s.clock.Now()); return nil })
	return next
}

// commitAndClaim runs finish (the outcome of the previous part, may be nil)
// and, when claim is set, claims the next part for modem id: the next part
// of message only first (when not zero), then any part. It is one
// transaction, so a crash leaves either neither or both.
func (d *dispatcher) commitAndClaim(id string, finish func(tx *store.Tx) ([]change, error), only model.ID, statuses []modem.Status) (store.Due, bool, []change, error) {
	return d.commitAndClaimOpt(id, finish, true, only, statuses)
}

func (d *dispatcher) commitAndClaimOpt(id string, finish func(tx *store.Tx) ([]change, error), claim bool, only model.ID, statuses []modem.Status) (store.Due, bool, []change, error) {
	var due store.Due
	var ok bool
	var cs []change
	err := d.s.st.Update(func(tx *store.Tx) error {
		due, ok, cs = store.Due{}, false, nil
		if finish != nil {
			c, err := finish(tx)
			if err != nil {
				return err
			}
			cs = append(cs, c...)
		}
		if !claim {
			return nil
		}
		for _, o := range []model.ID{only, 0} {
			var prev model.State
			acc := d.accept(tx, id, o, statuses, &prev)
			var err error
			due, ok, err = tx.ClaimDue(id, acc)
			if err != nil {
				return err
			}
			for _, x := range due.Expired {
				cs = append(cs, change{x.Previous, x.Message})
			}
			if ok {
				cs = append(cs, change{prev, due.Message})
				return nil
			}
			if only == 0 {
				break
			}
		}
		return nil
	})
	if err != nil {
		return store.Due{}, false, nil, err
	}
	cs = coalesce(cs)
	if ok {
		d.mu.Lock()
		d.inflight[due.Message.ID] = id
		d.mu.Unlock()
	}
	return due, ok, cs, nil
}

// coalesce merges the changes of one message made in one transaction (a
// part sent and the next claimed): the first previous state and the last
// message, dropped when they are the same state, so that subscribers do not
// see submitting → queued → submitting between two parts.
func coalesce(cs []change) []change {
	out := cs[:0]
	for _, c := range cs {
		merged := false
		for i := range out {
			if out[i].m.ID == c.m.ID {
				out[i].m, merged = c.m, true
			}
		}
		if !merged {
			out = append(out, c)
		}
	}
	keep := out[:0]
	for _, c := range out {
		if c.prev != c.m.State {
			keep = append(keep, c)
		}
	}
	return keep
}

// accept is the claim rule for modem id (see the type's comment).
func (d *dispatcher) accept(tx *store.Tx, id string, only model.ID, statuses []modem.Status, prev *model.State) func(m *model.Message, p *model.Part) bool {
	state := map[string]modem.State{}
	otherReady := false
	for _, st := range statuses {
		state[st.ID] = st.State
		if st.ID != id && st.State == modem.StateReady {
			otherReady = true
		}
	}
	usable := func(m string) bool {
		switch state[m] {
		case modem.StateReady, modem.StateRecovering, modem.StateOpening, modem.StateNoNetwork:
			return true
		}
		return false
	}
	return func(m *model.Message, p *model.Part) bool {
		if only != 0 && m.ID != only {
			return false
		}
		if m.Direction != model.Outgoing {
			return false
		}
		d.mu.Lock()
		owner, busy := d.inflight[m.ID]
		d.mu.Unlock()
		if busy && owner != id {
			return false
		}
		sentVia := ""
		if m.Parts > 1 {
			parts, err := tx.Parts(m.ID)
			if err != nil {
				return false
			}
			for _, q := range parts {
				if q.Seq < p.Seq && (q.State == model.StateQueued || q.State == model.StateSubmitting) {
					return false
				}
				if q.State == model.StateSent || q.State == model.StateDelivered {
					sentVia = q.Modem
				}
			}
		}
		if sentVia != "" && sentVia != id && usable(sentVia) {
			return false
		}
		if sentVia == "" && p.Attempts > 0 && p.Error != "" && p.Modem == id && otherReady {
			return false
		}
		*prev = m.State
		return true
	}
}

// done forgets that modem id works on message mid.
func (d *dispatcher) done(mid model.ID, id string) {
	d.mu.Lock()
	if d.inflight[mid] == id {
		delete(d.inflight, mid)
	}
	d.mu.Unlock()
}

// work sends parts through one leased modem until there is nothing more it
// may send, an error ends the lease, or ctx ends. A send under way is
// finished even when ctx ends: abandoning AT+CMGS would leave its outcome
// unknown.
func (d *dispatcher) work(ctx context.Context, snd Sender, release func(), cur store.Due) {
	defer d.wg.Done()
	defer d.kickNow()
	defer release()
	id := snd.ID()
	for {
		mr, err := snd.SendPart(context.WithoutCancel(ctx), cur.Part.TPDU)
		var finish func(tx *store.Tx) ([]change, error)
		if err == nil {
			msg, seq := cur.Message.ID, cur.Part.Seq
			finish = func(tx *store.Tx) ([]change, error) {
				before, err := tx.Message(msg)
				if err != nil {
					return nil, err
				}
				m, err := tx.MarkSent(msg, seq, id, mr)
				return []change{{before.State, m}}, err
			}
		} else {
			finish = d.failure(cur, id, err)
		}
		only := model.ID(0)
		if err == nil && cur.Part.Seq < cur.Message.Parts {
			only = cur.Message.ID
		}
		claim := err == nil && ctx.Err() == nil
		var statuses []modem.Status
		if claim {
			statuses = d.m.Modems()
		}
		next, ok, cs, cerr := d.commitAndClaimOpt(id, finish, claim, only, statuses)
		if cerr != nil {
			// The outcome could not be written: the part stays
			// "submitting", which a restart reports as unknown rather
			// than sending it twice.
			d.log.Error("recording a send failed", "message", cur.Message.ID, "part", cur.Part.Seq, "modem", id, "error", cerr)
			d.done(cur.Message.ID, id)
			return
		}
		d.publish(cs)
		if err == nil {
			d.log.Debug("part sent", "message", cur.Message.ID, "part", cur.Part.Seq, "modem", id, "mr", mr)
		}
		if !ok || next.Message.ID != cur.Message.ID {
			d.done(cur.Message.ID, id)
		}
		if !ok {
			return
		}
		cur = next
	}
}

// failure decides what a send error means for the part and returns the
// transaction step that records it.
func (d *dispatcher) failure(cur store.Due, id string, err error) func(tx *store.Tx) ([]change, error) {
	msg, seq := cur.Message.ID, cur.Part.Seq
	class := modem.Classify(err)
	words := sendErrorWords(err)
	attempts := cur.Part.Attempts
	log := d.log.With("message", msg, "part", seq, "modem", id, "attempt", attempts, "error", err)
	return func(tx *store.Tx) ([]change, error) {
		before, err := tx.Message(msg)
		if err != nil {
			return nil, err
		}
		var m model.Message
		switch {
		case class == modem.Permanent:
			log.Info("permanent send error")
			m, err = tx.MarkFailed(msg, seq, words)
		case class == modem.Temporary && attempts >= d.o.MaxAttempts:
			log.Info("temporary send error; giving up")
			m, err = tx.MarkFailed(msg, seq, fmt.Sprintf("gave up after %d attempts; last error: %s", attempts, words))
		case class == modem.Temporary:
			wait := d.backoff(attempts)
			log.Info("temporary send error; will retry", "in", wait)
			m, err = markRetry(tx, msg, seq, words, tx.Now().Add(wait))
		case d.o.ResendUnknown:
			log.Warn("send outcome unknown; resending as configured")
			m, err = tx.MarkRetry(msg, seq, "outcome unknown, sent again: "+words, tx.Now())
		default:
			log.Warn("send outcome unknown")
			m, err = markUnknown(tx, msg, seq, "outcome unknown: "+words)
		}
		return []change{{before.State, m}}, err
	}
}

// markRetry puts part seq back in the outbox, due at next, and moves the
// parts after it that wait to no earlier than next: they cannot go before
// it, and left at the head of the outbox they would fill the window
// ClaimDue looks at and hide parts that can go.
func markRetry(tx *store.Tx, id model.ID, seq int, errText string, next time.Time) (model.Message, error) {
	return tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
		for i := range parts {
			p := &parts[i]
			switch {
			case p.Seq == seq:
				p.State, p.Error, p.NextAttempt, p.MR = model.StateQueued, errText, next, -1
			case p.Seq > seq && p.State == model.StateQueued && p.NextAttempt.Before(next):
				p.NextAttempt = next
			}
		}
		return nil
	})
}

// markUnknown records that part seq may or may not have been sent. The
// parts after it are held back (cancelled, so that a retry sends them): the
// message as a whole is unknown, and a person decides.
func markUnknown(tx *store.Tx, id model.ID, seq int, reason string) (model.Message, error) {
	return tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
		for i := range parts {
			switch {
			case parts[i].Seq == seq:
				parts[i].State, parts[i].Error = model.StateUnknown, reason
			case parts[i].State == model.StateQueued:
				parts[i].State, parts[i].Error = model.StateCancelled, fmt.Sprintf("not sent: the outcome of part %d is unknown", seq)
			}
		}
		return nil
	})
}

// backoff is the wait before attempt n+1: RetryMin doubled per attempt up
// to RetryMax, of which a random part up to a half is taken off (jitter).
func (d *dispatcher) backoff(n int) time.Duration {
	w := d.o.RetryMin
	for i := 1; i < n && w < d.o.RetryMax; i++ {
		w *= 2
	}
	w = min(w, d.o.RetryMax)
	return w - time.Duration(rand.Int64N(int64(w)/2+1))
}

// sendErrorWords says in plain words why a send failed.
func sendErrorWords(err error) string {
	var se *modem.SendError
	if errors.As(err, &se) {
		reason := se.Reason
		if reason == "" {
			reason = se.Err.Error()
		}
		switch {
		case se.Code >= 0 && se.Class == modem.Permanent:
			return fmt.Sprintf("the network refused the message: %s (+CMS ERROR: %d)", reason, se.Code)
		case se.Code >= 0:
			return fmt.Sprintf("%s (+CMS ERROR: %d)", reason, se.Code)
		}
		return reason
	}
	return err.Error()
}
