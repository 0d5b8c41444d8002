package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
)

// Store-and-send (see modem's storesend.go): a part is written to the
// modem's storage (+CMGW), its slot committed, and only then sent from
// storage (+CMSS). The copy's status ("STO SENT" / "STO UNSENT") then
// settles a send cut short by a crash, a timeout or an unplug, which
// +CMGS leaves unknown. The steps, and what a crash at each leaves:
//
//	claim (committed, StoreSend set)   → restart: never sent, queued again
//	+CMGW, slot committed              → restart: the copy decides
//	+CMSS answered, outcome committed  → as for +CMGS
//	copy deleted                       → a copy left by a crash is swept
//
// When the storage for copies is full, room is made first (stale copies
// deleted, the incoming messages waiting there taken in) and the copy
// written once more. A modem that refuses +CMGW, or whose storage is still
// full, sends that part with +CMGS (StoreSend cleared and committed
// first); such fallbacks are logged and counted per modem and reason
// (model.ModemStatus.DirectFallbacks, the gsmgate_store_send_fallbacks_total
// metric).

// StoreSender is what store-and-send needs from a leased modem besides
// Sender; *modem.Modem has it. A Sender without it sends directly.
type StoreSender interface {
	Sender
	SendMode() modem.SendMode
	WritePart(ctx context.Context, tpdu []byte) (modem.Slot, error)
	SendStored(ctx context.Context, slot modem.Slot) (int, error)
	ReadStored(ctx context.Context, slot modem.Slot, tpdu []byte) (modem.StoredOutcome, error)
	StoredOutgoing(ctx context.Context) ([]modem.Slot, error)
	DeleteStored(ctx context.Context, slot modem.Slot) error
	MakeRoom(ctx context.Context) error
}

// Why a part claimed for store-and-send went by +CMGS (the keys of
// model.ModemStatus.DirectFallbacks).
const (
	FallbackStorageFull = "storage_full" // +CMGW answered 322 and no slot could be freed
	FallbackRefused     = "refused"      // the modem refused +CMGW (and now sends directly)
	FallbackNotStoring  = "not_storing"  // the modem no longer stores-and-sends (switched since the claim)
)

// fallbackCounts counts, per modem and reason, the parts claimed for
// store-and-send that went by +CMGS since the process started: each is a
// part whose outcome a crash during its send leaves unknown.
type fallbackCounts struct {
	mu sync.Mutex
	n  map[string]map[string]int
}

func (f *fallbackCounts) add(id, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]map[string]int{}
	}
	if f.n[id] == nil {
		f.n[id] = map[string]int{}
	}
	f.n[id][reason]++
}

// of returns a copy of modem id's counts (nil when none).
func (f *fallbackCounts) of(id string) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.n[id]) == 0 {
		return nil
	}
	return maps.Clone(f.n[id])
}

// ReasonStoredGone is the reason given to a part whose send was cut short
// and whose stored copy could not be read back.
const ReasonStoredGone = "outcome unknown: the send was cut short and the modem no longer holds the stored copy"

// errHeld: the link to the modem was lost after the part was stored; the
// part stays "submitting" with its slot until the modem is back
// (resolveStored).
var errHeld = errors.New("gateway: link lost during a stored send; resolved when the modem is back")

// sendResult is the outcome of one part's send.
type sendResult struct {
	mr    int        // -1: sent, reference not known (read back from the copy)
	slot  modem.Slot // the stored copy to delete after the commit ("" none)
	err   error
	store bool // the part went through store-and-send
}

// storesOn reports whether modem id sends by store-and-send, from statuses.
func storesOn(id string, statuses []modem.Status) bool {
	for _, st := range statuses {
		if st.ID == id {
			return st.Info.SendMode == modem.SendStoreAndSend
		}
	}
	return false
}

// sendPart sends cur through snd, by store-and-send when the part was
// claimed for it (cur.Part.StoreSend) and the modem still does it.
func (d *dispatcher) sendPart(ctx context.Context, snd Sender, cur store.Due) sendResult {
	if !cur.Part.StoreSend {
		mr, err := snd.SendPart(ctx, cur.Part.TPDU)
		return sendResult{mr: mr, err: err}
	}
	msg, seq, tpdu := cur.Message.ID, cur.Part.Seq, cur.Part.TPDU
	direct := func(reason string, why error) sendResult {
		// The claim said store-and-send: say otherwise before +CMGS, or a
		// crash during it would be taken for "never sent".
		if err := d.s.st.Update(func(tx *store.Tx) error { _, err := tx.SetStoreSend(msg, seq, false); return err }); err != nil {
			return sendResult{err: fmt.Errorf("gateway: fall back to direct send: %w", err)}
		}
		d.s.fallbacks.add(snd.ID(), reason)
		d.log.Warn("sending directly: a crash during this send leaves its outcome unknown", "message", msg, "part", seq, "modem", snd.ID(), "fallback", reason, "reason", why)
		mr, err := snd.SendPart(ctx, tpdu)
		return sendResult{mr: mr, err: err}
	}
	ss, ok := snd.(StoreSender)
	if !ok || ss.SendMode() != modem.SendStoreAndSend {
		return direct(FallbackNotStoring, errors.New("the modem does not store messages now"))
	}
	slot, err := ss.WritePart(ctx, tpdu)
	if errors.Is(err, modem.ErrStorageFull) {
		// A copy must not lose its place: free a slot, then try once more.
		switch rerr := d.makeRoom(ctx, ss); {
		case rerr == nil:
			slot, err = ss.WritePart(ctx, tpdu)
		case errors.Is(rerr, modem.ErrStorageFull):
			err = rerr
		default:
			// Not sent; the modem may be gone: try again later.
			return sendResult{err: &modem.SendError{Class: modem.Temporary, Code: -1, Reason: "making room for the stored copy: " + rerr.Error(), Err: rerr}, store: true}
		}
	}
	if errors.Is(err, modem.ErrStorageFull) {
		return direct(FallbackStorageFull, err)
	}
	if errors.Is(err, modem.ErrStoreRefused) {
		return direct(FallbackRefused, err)
	}
	if err != nil {
		return sendResult{err: err, store: true}
	}
	if err := d.s.st.Update(func(tx *store.Tx) error {
		_, err := tx.SetSlot(msg, seq, slot.Storage, slot.Index)
		return err
	}); err != nil {
		// Not sent: without the slot on record a crash could not tell.
		d.deleteCopy(ss, slot)
		return sendResult{err: &modem.SendError{Class: modem.Temporary, Code: -1, Reason: "could not record the stored copy: " + err.Error(), Err: err}, store: true}
	}
	mr, err := ss.SendStored(ctx, slot)
	res := sendResult{mr: mr, slot: slot, err: err, store: true}
	if err == nil || modem.Classify(err) != modem.Unknown {
		return res
	}
	if modem.LinkLost(err) {
		res.err = fmt.Errorf("%w: %w", errHeld, err)
		return res
	}
	// No answer in time: the copy says whether it went. A modem works
	// one command at a time, so once it answers +CMGR the +CMSS is over.
	switch out, rerr := ss.ReadStored(ctx, slot, tpdu); {
	case rerr != nil && modem.LinkLost(rerr):
		res.err = fmt.Errorf("%w: %w", errHeld, err)
	case rerr != nil || out == modem.StoredGone:
		// unknown, as with +CMGS
	case out == modem.StoredSent:
		d.log.Info("send timed out but the stored copy says it went", "message", msg, "part", seq, "modem", snd.ID())
		res.mr, res.err = -1, nil
	default:
		d.log.Info("send timed out and the stored copy says it did not go; will retry", "message", msg, "part", seq, "modem", snd.ID())
		res.err = &modem.SendError{Class: modem.Temporary, Code: -1, Reason: "no answer from the modem; its stored copy says the part was not sent", Err: err}
	}
	return res
}

// markSentFinish is the transaction step for a part the network accepted;
// mr -1: accepted, reference unknown (read back from the stored copy).
func markSentFinish(msg model.ID, seq int, id string, mr int) func(tx *store.Tx) ([]change, error) {
	return func(tx *store.Tx) ([]change, error) {
		before, err := tx.Message(msg)
		if err != nil {
			return nil, err
		}
		var m model.Message
		if mr < 0 {
			m, _, err = tx.ResolveStored(msg, seq, store.StoredSent, "")
		} else {
			m, err = tx.MarkSent(msg, seq, id, mr)
		}
		return []change{{before.State, m}}, err
	}
}

// deleteCopy deletes a stored copy whose outcome is committed. A failure
// leaves it for the sweep (resolveStored).
func (d *dispatcher) deleteCopy(ss StoreSender, slot modem.Slot) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ss.DeleteStored(ctx, slot); err != nil {
		d.log.Warn("deleting a stored copy failed; it is swept later", "modem", ss.ID(), "slot", slot.String(), "error", err)
	}
}

// resolveStored settles, through the leased modem snd, the parts left
// "submitting" with a stored copy on it (by a crash, or an unplug during
// +CMSS): sent, queued again, or unknown when the copy is gone. Then, the
// first time it sees the modem, it sweeps outgoing copies no part refers to
// (left by a crash between a commit and the delete). Holding the lease, no
// send of ours is under way on the modem.
func (d *dispatcher) resolveStored(ctx context.Context, snd Sender) {
	id := snd.ID()
	ss, ok := snd.(StoreSender)
	if !ok {
		d.mu.Lock()
		d.swept[id] = true // nothing to sweep on a modem that cannot store
		d.mu.Unlock()
		return
	}
	var list []store.Due
	if err := d.s.st.View(func(tx *store.Tx) error {
		var err error
		list, err = tx.StoredSlots(id)
		return err
	}); err != nil {
		d.log.Error("listing stored parts failed", "modem", id, "error", err)
		return
	}
	d.mu.Lock()
	swept := d.swept[id]
	d.mu.Unlock()
	if len(list) == 0 && swept {
		return
	}
	keep := map[modem.Slot]bool{}
	for _, due := range list {
		slot := modem.Slot{Storage: due.Part.SlotStorage, Index: due.Part.SlotIndex}
		out, err := ss.ReadStored(ctx, slot, due.Part.TPDU)
		if err != nil {
			d.log.Warn("reading a stored copy failed; tried again later", "modem", id, "slot", slot.String(), "error", err)
			return
		}
		so := map[modem.StoredOutcome]store.StoredOutcome{modem.StoredSent: store.StoredSent, modem.StoredUnsent: store.StoredUnsent}[out]
		var cs []change
		err = d.s.st.Update(func(tx *store.Tx) error {
			cs = cs[:0]
			m, ok, err := tx.ResolveStored(due.Message.ID, due.Part.Seq, so, ReasonStoredGone)
			if ok {
				cs = append(cs, change{due.Message.State, m})
			}
			return err
		})
		if err != nil {
			d.log.Error("recording a stored part's outcome failed", "message", due.Message.ID, "part", due.Part.Seq, "error", err)
			keep[slot] = true
			continue
		}
		d.log.Info("stored part resolved", "message", due.Message.ID, "part", due.Part.Seq, "modem", id, "slot", slot.String(), "copy", out.String())
		d.publish(coalesce(cs))
		if out != modem.StoredGone {
			d.deleteCopy(ss, slot)
		}
	}
	if swept {
		return
	}
	if err := d.sweepCopies(ctx, ss, keep); err != nil {
		d.log.Warn("listing stored copies failed; swept later", "modem", id, "error", err)
		return
	}
	d.mu.Lock()
	d.swept[id] = true
	d.mu.Unlock()
}

// sweepCopies deletes the outgoing copies on the modem that are not in
// keep: copies left by a crash between a commit and the copy's delete.
func (d *dispatcher) sweepCopies(ctx context.Context, ss StoreSender, keep map[modem.Slot]bool) error {
	slots, err := ss.StoredOutgoing(ctx)
	if err != nil {
		return err
	}
	for _, slot := range slots {
		if !keep[slot] {
			d.log.Info("deleting a stored copy no part refers to", "modem", ss.ID(), "slot", slot.String())
			d.deleteCopy(ss, slot)
		}
	}
	return nil
}

// makeRoom frees a slot for a copy on a modem whose storage for copies is
// full: it deletes the outgoing copies no part refers to, then has the
// modem take in the incoming messages waiting in that storage (they are
// committed, then deleted: modem.MakeRoom). Holding the lease, no send of
// ours is under way on the modem, and the part being sent has no slot yet.
func (d *dispatcher) makeRoom(ctx context.Context, ss StoreSender) error {
	keep := map[modem.Slot]bool{}
	if err := d.s.st.View(func(tx *store.Tx) error {
		list, err := tx.StoredSlots(ss.ID())
		for _, due := range list {
			keep[modem.Slot{Storage: due.Part.SlotStorage, Index: due.Part.SlotIndex}] = true
		}
		return err
	}); err != nil {
		return fmt.Errorf("gateway: make room: %w", err)
	}
	if err := d.sweepCopies(ctx, ss, keep); err != nil {
		return fmt.Errorf("gateway: make room: %w", err)
	}
	return ss.MakeRoom(ctx)
}

// settleStored leases, one at a time, each ready modem that holds copies of
// parts to resolve or was not swept yet, and resolves them: pump calls it
// first, so that it happens even when nothing is queued.
func (d *dispatcher) settleStored(ctx context.Context) {
	held := map[string]bool{}
	if err := d.s.st.View(func(tx *store.Tx) error {
		list, err := tx.StoredSlots("")
		for _, due := range list {
			held[due.Part.Modem] = true
		}
		return err
	}); err != nil {
		d.log.Error("listing stored parts failed", "error", err)
		return
	}
	for _, st := range d.m.Modems() {
		d.mu.Lock()
		swept := d.swept[st.ID]
		d.mu.Unlock()
		if st.State != modem.StateReady || st.Leased || (swept && !held[st.ID]) || ctx.Err() != nil {
			continue
		}
		id := st.ID
		actx, cancel := context.WithTimeout(ctx, time.Second)
		snd, release, err := d.m.Acquire(actx, func(s modem.Status) bool { return s.ID == id })
		cancel()
		if err != nil {
			continue
		}
		d.resolveStored(ctx, snd)
		release()
	}
}

// expireStored makes unknown the parts held for a modem that has not come
// back within wait: their copy cannot be read, and a person decides.
func (d *dispatcher) expireStored(wait time.Duration) {
	ready := map[string]bool{}
	for _, st := range d.m.Modems() {
		ready[st.ID] = st.State == modem.StateReady
	}
	var cs []change
	err := d.s.st.Update(func(tx *store.Tx) error {
		cs = cs[:0]
		list, err := tx.StoredSlots("")
		if err != nil {
			return err
		}
		for _, due := range list {
			if ready[due.Part.Modem] || tx.Now().Sub(due.Part.UpdatedAt) < wait {
				continue
			}
			m, ok, err := tx.ResolveStored(due.Message.ID, due.Part.Seq, store.StoredGone,
				fmt.Sprintf("outcome unknown: the send was cut short and modem %s, which holds the stored copy, has not come back in %s", due.Part.Modem, wait))
			if err != nil {
				return err
			}
			if ok {
				cs = append(cs, change{due.Message.State, m})
			}
		}
		return nil
	})
	if err != nil {
		d.log.Error("expiring held stored parts failed", "error", err)
		return
	}
	d.publish(coalesce(cs))
}
