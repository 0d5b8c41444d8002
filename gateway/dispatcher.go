package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
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
// records the outcome and claims the next part, so the gap between a +CMGS
// answer and the next AT+CMGS is one commit.
//
// What is claimed next goes by lane (store.Lane): the urgent and
// conversation lanes first, so a reply waits only for the sends under way
// (the rest of a conversational multipart message still goes first); then
// the rest of the bulk message just sent; then the bulk lanes, one batch
// after the other (round robin, the cursor in after). The sending policy
// (SendPolicy) can hold a modem for its rate limit, and the bulk lanes for
// quiet hours and the daily cap.
//
// Rules the claim enforces (accept):
//   - parts of a message go in order: a part waits while an earlier one is
//     queued or being sent;
//   - a message is worked on by one modem at a time;
//   - once a part of a multipart message went out through a modem, the
//     rest follow through the same modem while it is usable (the recipient
//     reassembles by the sender's number);
//   - a part that failed temporarily on a modem is tried on another ready
//     modem when there is one;
//   - a conversation's first part leaves from the modem the number last
//     wrote to or was sent from (store.Conversation.Modem) while that
//     modem is ready (sticky SIM), else from any (failover), and from
//     another when it failed on that modem (the rule above);
//   - in quiet hours or past the daily cap, bulk messages sent with a
//     priority under 100 wait.
type dispatcher struct {
	s    *Service
	m    Modems
	o    ModemOptions
	log  *slog.Logger
	kick chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	inflight map[model.ID]string // message -> modem working on it
	swept    map[string]bool     // modems whose stale stored copies were swept
	// after is, per grouped lane, the bulk (batch) served last: the next
	// claim starts at the one after it (round robin).
	after map[store.Lane]model.ID
	// lastClaim is when each modem last took a part (rate limit).
	lastClaim map[string]time.Time
	// start is when this dispatcher began, and seeded the modems whose
	// spacing was seeded from the store (see seedSpacing).
	start  time.Time
	seeded map[string]bool
}

func newDispatcher(s *Service, m Modems, o ModemOptions) *dispatcher {
	return &dispatcher{s: s, m: m, o: o, log: s.log.With("component", "dispatcher"),
		kick: make(chan struct{}, 1), inflight: map[model.ID]string{}, swept: map[string]bool{},
		after: map[store.Lane]model.ID{}, lastClaim: map[string]time.Time{},
		start: s.clock.Now(), seeded: map[string]bool{}}
}

// seedSpacing gives modem id a last claim at the dispatcher's start when
// the store says the SIM may have sent within one interval before it, so
// that a restart does not let it send a part at once right after the part
// the previous process sent. The store knows when a part was sent only
// per message, not per modem, so this reads the daily counter of parts
// sent (the cap's, committed with each sent part) on the start's day and,
// when the interval reaches back across midnight, the day before: a SIM
// that sent that day waits one interval from the start, at worst one
// interval more than it needed. Called with d.mu held, once per modem.
func (d *dispatcher) seedSpacing(tx *store.Tx, id string, iv time.Duration) {
	d.seeded[id] = true
	days := []string{d.o.Policy.Day(d.start)}
	if before := d.o.Policy.Day(d.start.Add(-iv)); before != days[0] {
		days = append(days, before)
	}
	for _, day := range days {
		if tx.ModemSends(id, day) > 0 {
			d.lastClaim[id] = d.start
			return
		}
	}
}

// allowance is what the sending policy lets modem id take now: nothing
// before wait when its rate limit holds it (then lanes is nil), otherwise
// lanes (the bulk lanes left out in quiet hours or past the daily cap;
// wait is then when they open again, zero if they are open).
func (d *dispatcher) allowance(tx *store.Tx, id string, now time.Time) (lanes []store.Lane, wait time.Time) {
	mp := d.o.Policy.For(id)
	if iv := mp.interval(); iv > 0 {
		d.mu.Lock()
		if !d.seeded[id] {
			if _, ok := d.lastClaim[id]; !ok {
				d.seedSpacing(tx, id, iv)
			}
		}
		last, ok := d.lastClaim[id]
		d.mu.Unlock()
		if ok && now.Before(last.Add(iv)) {
			return nil, last.Add(iv)
		}
	}
	if held, until := d.bulkHeld(tx, id, now); held {
		return []store.Lane{store.LaneUrgent, store.LaneConversation}, until
	}
	return store.Lanes, time.Time{}
}

// bulkHeld reports whether quiet hours or the daily cap hold modem id's
// bulk parts now, and until when.
func (d *dispatcher) bulkHeld(tx *store.Tx, id string, now time.Time) (bool, time.Time) {
	mp := d.o.Policy.For(id)
	local := now.In(d.o.Policy.loc())
	if quiet, end := mp.Quiet.In(local); quiet {
		return true, end
	}
	if mp.DailyCap > 0 && tx.ModemSends(id, d.o.Policy.Day(now)) >= mp.DailyCap {
		y, m, dd := local.Date()
		return true, time.Date(y, m, dd+1, 0, 0, 0, 0, local.Location())
	}
	return false, time.Time{}
}

// earliest is the earlier of two times, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
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
			d.expireStored(d.o.StoredWait)
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
// returns when it should look again (zero: no timer needed; a wake-up or a
// kick will come): the next part falling due, or the moment the sending
// policy lets a held part go.
func (d *dispatcher) pump(ctx context.Context) time.Time {
	d.settleStored(ctx)
	tried := map[string]bool{}
	var hold time.Time
	for ctx.Err() == nil {
		now := d.s.clock.Now()
		var next time.Time
		var queued bool
		free := map[string]bool{}
		statuses := d.m.Modems()
		if err := d.s.st.View(func(tx *store.Tx) error {
			next, queued = tx.NextDue()
			if !queued || next.After(now) {
				return nil
			}
			for _, st := range statuses {
				if st.State != modem.StateReady || st.Leased || tried[st.ID] {
					continue
				}
				lanes, wait := d.allowance(tx, st.ID, now)
				if lanes == nil {
					hold = earliest(hold, wait)
					continue
				}
				if len(lanes) < len(store.Lanes) {
					hold = earliest(hold, wait)
				}
				free[st.ID] = true
			}
			return nil
		}); err != nil {
			d.log.Error("reading the outbox failed", "error", err)
			return now.Add(time.Second)
		}
		if !queued {
			return time.Time{}
		}
		if next.After(now) {
			return earliest(next, hold)
		}
		if len(free) == 0 {
			return earliest(d.nextFuture(), hold) // a worker's end or a state change kicks us
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		snd, release, err := d.m.Acquire(actx, func(st modem.Status) bool { return free[st.ID] && !tried[st.ID] })
		cancel()
		if err != nil {
			return earliest(d.nextFuture(), hold)
		}
		tried[snd.ID()] = true
		d.resolveStored(ctx, snd)
		due, ok, cs, err := d.commitAndClaim(snd.ID(), nil, nil, statuses)
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
// and, when claim is set, claims the next part for modem id, in one
// transaction, so a crash leaves either neither or both. The order of the
// claim: the urgent and conversation lanes first (a reply waits for no
// more than the send under way), except that the rest of a conversational
// multipart message (prev) goes first; then the rest of prev; then the
// bulk lanes, one batch after the other in turn.
func (d *dispatcher) commitAndClaim(id string, finish func(tx *store.Tx) ([]change, error), prev *store.Due, statuses []modem.Status) (store.Due, bool, []change, error) {
	return d.commitAndClaimOpt(id, finish, true, prev, statuses)
}

func (d *dispatcher) commitAndClaimOpt(id string, finish func(tx *store.Tx) ([]change, error), claim bool, prev *store.Due, statuses []modem.Status) (store.Due, bool, []change, error) {
	var got store.Claimed
	var ok bool
	var cs []change
	err := d.s.st.Update(func(tx *store.Tx) error {
		got, ok, cs = store.Claimed{}, false, nil
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
		lanes, _ := d.allowance(tx, id, tx.Now())
		if lanes == nil {
			return nil // the rate limit holds this SIM
		}
		holdBulk := len(lanes) < len(store.Lanes)
		var only model.ID
		onlyFirst := false
		if prev != nil && prev.Part.Seq < prev.Message.Parts {
			only = prev.Message.ID
			onlyFirst = !store.LaneOf(&prev.Message).Grouped()
		}
		var first, grouped []store.Lane
		for _, l := range lanes {
			if l.Grouped() {
				grouped = append(grouped, l)
			} else {
				first = append(first, l)
			}
		}
		d.mu.Lock()
		after := maps.Clone(d.after)
		d.mu.Unlock()
		var steps []store.Claim
		if onlyFirst {
			steps = append(steps, store.Claim{Only: only})
		}
		steps = append(steps, store.Claim{Lanes: first})
		if only != 0 && !onlyFirst {
			steps = append(steps, store.Claim{Only: only})
		}
		if len(grouped) > 0 {
			steps = append(steps, store.Claim{Lanes: grouped, After: after})
		}
		for _, c := range steps {
			if c.Only == 0 && len(c.Lanes) == 0 {
				continue
			}
			var before model.State
			c.Modem = id
			c.Accept = d.accept(tx, id, c.Only, statuses, holdBulk, &before)
			var err error
			got, ok, err = tx.Claim(c)
			if err != nil {
				return err
			}
			for _, x := range got.Expired {
				cs = append(cs, change{x.Previous, x.Message})
			}
			if ok && storesOn(id, statuses) {
				if got.Message, err = tx.SetStoreSend(got.Message.ID, got.Part.Seq, true); err != nil {
					return err
				}
				got.Part.StoreSend = true
			}
			if ok {
				cs = append(cs, change{before, got.Message})
				return nil
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
		d.inflight[got.Message.ID] = id
		d.lastClaim[id] = d.s.clock.Now()
		if got.Lane.Grouped() {
			d.after[got.Lane] = got.Group
		}
		d.mu.Unlock()
	}
	return got.Due, ok, cs, nil
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
func (d *dispatcher) accept(tx *store.Tx, id string, only model.ID, statuses []modem.Status, holdBulk bool, prev *model.State) func(m *model.Message, p *model.Part) bool {
	state := map[string]modem.State{}
	// Another ready modem that could take a part that failed here: any
	// for a one-to-one part, one whose policy lets bulk parts go now for
	// a held bulk part (else the part failed here would be refused here
	// and held there until that modem's quiet hours or day end).
	otherReady, otherTakesBulk := false, false
	for _, st := range statuses {
		state[st.ID] = st.State
		if st.ID != id && st.State == modem.StateReady {
			otherReady = true
			if held, _ := d.bulkHeld(tx, st.ID, tx.Now()); !held {
				otherTakesBulk = true
			}
		}
	}
	usable := func(m string) bool {
		switch state[m] {
		case modem.StateReady, modem.StateRecovering, modem.StateOpening, modem.StateNoNetwork:
			return true
		}
		return false
	}
	ready := func(m string) bool { return state[m] == modem.StateReady }
	return func(m *model.Message, p *model.Part) bool {
		if only != 0 && m.ID != only {
			return false
		}
		if m.Direction != model.Outgoing {
			return false
		}
		// Quiet hours and the daily cap hold bulk parts (the bulk lanes
		// are left out of the claim); a bulk sent with a priority from 1
		// to 99 waits in the urgent lane and is held here. Priority 100
		// and more passes, as in SMSGate.
		heldBulk := m.Marketing && m.Priority < 100
		if holdBulk && heldBulk && (only == 0 || m.ID != only || p.Seq == 1) {
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
		// A part whose last attempt failed on a modem goes to another
		// ready one when there is one.
		failedOn := ""
		if sentVia == "" && p.Attempts > 0 && p.Error != "" {
			failedOn = p.Modem
		}
		// Sticky SIM: a conversation's message leaves from the modem the
		// contact last wrote to or was last sent from while that modem is
		// up; otherwise any modem takes it (failover). Not when the part
		// failed there: that modem refuses it (the rule below), and both
		// rules together refused it everywhere, for good.
		if sentVia == "" && !store.LaneOf(m).Grouped() {
			if c, err := tx.Conversation(m.Number); err == nil && c.Modem != "" && c.Modem != id && c.Modem != failedOn && ready(c.Modem) {
				return false
			}
		}
		if failedOn == id && otherReady && (!heldBulk || otherTakesBulk) {
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
		res := d.sendPart(context.WithoutCancel(ctx), snd, cur)
		mr, err := res.mr, res.err
		if errors.Is(err, errHeld) {
			// The modem went away with the part stored: it stays
			// "submitting" until the modem is back and its copy is read.
			d.log.Warn("link lost during a stored send; the part waits for its modem", "message", cur.Message.ID, "part", cur.Part.Seq, "modem", id, "error", err)
			d.done(cur.Message.ID, id)
			return
		}
		var finish func(tx *store.Tx) ([]change, error)
		if err == nil {
			sent := markSentFinish(cur.Message.ID, cur.Part.Seq, id, mr)
			finish = func(tx *store.Tx) ([]change, error) {
				c, err := sent(tx)
				if err != nil {
					return nil, err
				}
				return c, tx.AddModemSends(id, d.o.Policy.Day(tx.Now()), 1)
			}
		} else {
			finish = d.failure(cur, id, err)
		}
		claim := err == nil && ctx.Err() == nil
		var statuses []modem.Status
		if claim {
			statuses = d.m.Modems()
		}
		prev := cur
		next, ok, cs, cerr := d.commitAndClaimOpt(id, finish, claim, &prev, statuses)
		if errors.Is(cerr, store.ErrStorageFull) {
			cerr = d.recordWhenSpace(ctx, cur, func() error {
				next, ok, cs, cerr = d.commitAndClaimOpt(id, finish, claim, &prev, statuses)
				return cerr
			})
		}
		if cerr != nil {
			// The outcome could not be written: the part stays
			// "submitting", which a restart reports as unknown rather
			// than sending it twice.
			d.log.Error("recording a send failed", "message", cur.Message.ID, "part", cur.Part.Seq, "modem", id, "error", cerr)
			d.done(cur.Message.ID, id)
			return
		}
		d.publish(cs)
		if res.slot.Storage != "" {
			d.deleteCopy(snd.(StoreSender), res.slot)
		}
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

// recordWhenSpace retries, once a second, the commit of a send's outcome
// that a full disk refused, until it goes through (space was freed) or ctx
// ends: the modem stays leased meanwhile (nothing else could be recorded
// either), and the part is not left "submitting" until a restart.
func (d *dispatcher) recordWhenSpace(ctx context.Context, cur store.Due, commit func() error) error {
	d.log.Warn("disk full: the outcome of a send waits to be recorded", "message", cur.Message.ID, "part", cur.Part.Seq)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return store.ErrStorageFull
		case <-t.C:
		}
		if err := commit(); !errors.Is(err, store.ErrStorageFull) {
			return err
		}
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
				p.SlotStorage, p.SlotIndex = "", 0
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
				parts[i].SlotStorage, parts[i].SlotIndex = "", 0
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
