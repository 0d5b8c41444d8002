package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// outgoingCopies counts the outgoing copies ("STO UNSENT"/"STO SENT") left in
// a virtual modem's storages.
func outgoingCopies(sm *sim.Modem) int {
	n := 0
	for _, st := range sm.Stored() {
		if st.Stat == 2 || st.Stat == 3 {
			n++
		}
	}
	return n
}

func TestStoreAndSendDispatch(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.start(ModemOptions{})
	if st := r.pool.Modems()[0]; st.Info.SendMode != modem.SendStoreAndSend {
		t.Fatalf("modem sends %q, want store_and_send", st.Info.SendMode)
	}
	single := r.send("Stored, then sent", false, recipient)[0]
	multi := r.send(threeParts("Stored part by part. "), false, recipient)[0]
	r.waitState(single.ID, model.StateSent)
	r.waitState(multi.ID, model.StateSent)
	if got := len(r.net.Sent()); got != 4 {
		t.Fatalf("network got %d parts, want 4", got)
	}
	for _, id := range []model.ID{single.ID, multi.ID} {
		_, parts := r.message(id)
		for _, p := range parts {
			if !p.StoreSend || p.MR < 0 {
				t.Errorf("part %s/%d: store_send %v, MR %d", id, p.Seq, p.StoreSend, p.MR)
			}
		}
	}
	// The copies are deleted once the outcome is committed (the delete
	// follows the commit, so it may come a moment after the state).
	r.waitFor("stored copies deleted", func() bool { return outgoingCopies(r.sims[0]) == 0 })
}

// A modem that refuses +CMGW sends with +CMGS: from the start when it
// refuses at initialisation, and from the refused part on when it starts
// refusing later. Either way every part goes once and the modem says
// "direct".
func TestStoreAndSendFallbackWhenRefused(t *testing.T) {
	for _, when := range []string{"at init", "later"} {
		t.Run(when, func(t *testing.T) {
			r := newMRig(t, 1, "tcp", sim.ModemOptions{})
			if when == "at init" {
				r.sims[0].SetFaults(sim.Faults{RefuseCMGW: true})
			}
			r.start(ModemOptions{})
			if when == "later" {
				if st := r.pool.Modems()[0]; st.Info.SendMode != modem.SendStoreAndSend {
					t.Fatalf("modem sends %q before refusing, want store_and_send", st.Info.SendMode)
				}
				r.sims[0].SetFaults(sim.Faults{RefuseCMGW: true})
			}
			m := r.send(threeParts("Sent directly. "), false, recipient)[0]
			r.waitState(m.ID, model.StateSent)
			if got := len(r.net.Sent()); got != 3 {
				t.Fatalf("network got %d parts, want 3", got)
			}
			_, parts := r.message(m.ID)
			for _, p := range parts {
				if p.StoreSend || p.Stored() || p.MR < 0 {
					t.Errorf("part %d: store_send %v, slot %q/%d, MR %d", p.Seq, p.StoreSend, p.SlotStorage, p.SlotIndex, p.MR)
				}
			}
			if st := r.pool.Modems()[0]; st.Info.SendMode != modem.SendDirect {
				t.Errorf("modem sends %q after refusing +CMGW, want direct", st.Info.SendMode)
			}
		})
	}
}

// TestStartupResolvesStoredParts: the process died at each step of a stored
// send. The restart reads the modem's copies: a copy that went is sent (not
// again), one that did not is sent now, a missing copy leaves the part
// unknown, a part claimed but never stored is sent, and a copy no part
// refers to is swept.
func TestStartupResolvesStoredParts(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	ctx := context.Background()
	imei := r.sims[0].IMEI()
	cfg := testPoolConfig().Modem
	cfg.Port = r.ports[0]
	dm, err := modem.Open(ctx, cfg, rigLog(t)) // the "crashed" process's view of the modem
	if err != nil {
		t.Fatal(err)
	}
	defer dm.Close()

	went := r.send("went before the crash", false, recipient)[0]
	unsent := r.send("stored, not sent", false, recipient)[0]
	gone := r.send("copy gone", false, recipient)[0]
	claimed := r.send("claimed only", false, recipient)[0]
	claim := func(id model.ID) model.Part {
		t.Helper()
		var d store.Due
		err := r.db.Update(func(tx *store.Tx) error {
			var ok bool
			var err error
			d, ok, err = tx.ClaimDue(imei, func(m *model.Message, _ *model.Part) bool { return m.ID == id })
			if err == nil && !ok {
				t.Fatalf("claim %s: nothing claimed", id)
			}
			if err == nil {
				_, err = tx.SetStoreSend(id, 1, true)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return d.Part
	}
	store1 := func(id model.ID, p model.Part) modem.Slot {
		t.Helper()
		slot, err := dm.WritePart(ctx, p.TPDU)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.db.Update(func(tx *store.Tx) error { _, err := tx.SetSlot(id, 1, slot.Storage, slot.Index); return err }); err != nil {
			t.Fatal(err)
		}
		return slot
	}
	slot := store1(went.ID, claim(went.ID))
	if _, err := dm.SendStored(ctx, slot); err != nil {
		t.Fatal(err)
	}
	store1(unsent.ID, claim(unsent.ID))
	p := claim(gone.ID)
	if err := r.db.Update(func(tx *store.Tx) error { _, err := tx.SetSlot(gone.ID, 1, "SM", 19); return err }); err != nil {
		t.Fatal(err)
	}
	claim(claimed.ID)
	if _, err := dm.WritePart(ctx, p.TPDU); err != nil { // a copy nothing refers to
		t.Fatal(err)
	}
	dm.Close()

	r.start(ModemOptions{})
	r.waitState(went.ID, model.StateSent)
	r.waitState(unsent.ID, model.StateSent)
	r.waitState(claimed.ID, model.StateSent)
	if m := r.waitState(gone.ID, model.StateUnknown); m.Reason != ReasonStoredGone {
		t.Errorf("gone: reason %q, want %q", m.Reason, ReasonStoredGone)
	}
	times := map[string]int{}
	for _, sp := range r.net.Sent() {
		times[sp.Text]++
	}
	for _, text := range []string{"went before the crash", "stored, not sent", "claimed only"} {
		if times[text] != 1 {
			t.Errorf("%q reached the network %d times, want 1", text, times[text])
		}
	}
	if times["copy gone"] != 0 {
		t.Errorf("the part whose copy is gone was sent %d times", times["copy gone"])
	}
	if _, parts := r.message(went.ID); parts[0].MR != -1 || parts[0].SentAt.IsZero() || parts[0].Stored() {
		t.Errorf("resolved part %+v: want sent, MR unknown (-1), no slot", parts[0])
	}
	r.waitFor("stored copies deleted", func() bool { return outgoingCopies(r.sims[0]) == 0 })
}

// A +CMSS that is never answered is settled from the copy: the network got
// it, so it is sent, not unknown (with +CMGS it would be unknown).
func TestStoreAndSendTimeoutReadsTheCopy(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.sendTimeout = 500 * time.Millisecond
	r.sims[0].SetFaults(sim.Faults{SendTimeouts: 1})
	r.start(ModemOptions{})
	m := r.send("answer lost", false, recipient)[0]
	got := r.waitState(m.ID, model.StateSent, model.StateUnknown)
	if got.State != model.StateSent {
		t.Fatalf("message %s (%q), want sent", got.State, got.Reason)
	}
	if n := len(r.net.Sent()); n != 1 {
		t.Errorf("network got %d parts, want 1", n)
	}
	if strings.Contains(got.Reason, "unknown") {
		t.Errorf("reason %q", got.Reason)
	}
}

// initStorages opens each virtual modem of r once, as a gateway that ran
// before would have, so that its storages are set (+CPMS) as gsmgate sets
// them; then the inbound SMS of a test land where they would in service.
func initStorages(t *testing.T, r *mrig) {
	t.Helper()
	for _, port := range r.ports {
		cfg := testPoolConfig().Modem
		cfg.Port = port
		m, err := modem.Open(context.Background(), cfg, rigLog(t))
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
}

// A storage full of unread SMS does not stop store-and-send: the copies
// have a storage of their own on a modem with two (the receive storage
// stays the same at the restart, though full, and the network holds what
// it cannot take), and on a modem with one the reader makes room (commit,
// then delete) before the copy is written again. Every part goes by +CMSS,
// none by +CMGS, and every SMS, held ones too, is stored exactly once.
func TestStoreAndSendWithUnreadSMSFilling(t *testing.T) {
	for _, c := range []struct {
		name      string
		transport string
		o         sim.ModemOptions
		inbound   int // SMS waiting when the gateway starts
		held      int // of which the network holds
		recv      string
	}{
		{"receive storage full", "pty", sim.ModemOptions{SMCapacity: 3, MECapacity: 5}, 8, 3, "ME"},
		{"one storage full", "tcp", sim.ModemOptions{OneStorage: true, SMCapacity: 3}, 3, 0, "SM"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newMRig(t, 1, c.transport, c.o)
			initStorages(t, r)
			for i := range c.inbound {
				if _, err := r.net.Inbound(r.sims[0], sim.InboundSMS{From: "+447700900222", Text: fmt.Sprintf("waiting %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.sims[0].Held(); got != c.held {
				t.Fatalf("network holds %d before the start, want %d", got, c.held)
			}
			m := r.send(threeParts("Stored though the storage is full. "), false, recipient)[0]
			r.start(ModemOptions{})
			if st := r.pool.Modems()[0]; st.Info.Storage != c.recv {
				t.Errorf("incoming messages go to %q after the restart, want %q", st.Info.Storage, c.recv)
			}
			r.waitState(m.ID, model.StateSent)
			for _, sp := range r.net.Sent() {
				if sp.Via != "+CMSS" {
					t.Errorf("part %d/%d sent with %s, want +CMSS", sp.Part, sp.Total, sp.Via)
				}
			}
			if n := len(r.net.Sent()); n != 3 {
				t.Errorf("network got %d parts, want 3", n)
			}
			_, parts := r.message(m.ID)
			for _, p := range parts {
				if !p.StoreSend {
					t.Errorf("part %d went directly", p.Seq)
				}
			}
			r.waitFor("every SMS stored and the modem empty", func() bool {
				return len(r.incoming()) >= c.inbound && len(r.sims[0].Stored()) == 0 && r.sims[0].Held() == 0
			})
			got := map[string]int{}
			for _, in := range r.incoming() {
				got[in.Text]++
			}
			for i := range c.inbound {
				if k := fmt.Sprintf("waiting %d", i); got[k] != 1 {
					t.Errorf("%q stored %d times, want once", k, got[k])
				}
			}
			if fb := r.s.Modems(context.Background())[0].DirectFallbacks; len(fb) != 0 {
				t.Errorf("fallbacks counted: %v", fb)
			}
		})
	}
}

// +CMGW answering "memory full": when a retry after making room stores the
// copy, the part goes by +CMSS; when the storage stays full (messages not
// ours to delete), the part goes by +CMGS once, recorded as a direct send
// (StoreSend cleared), counted as a "storage_full" fallback, and the modem
// keeps storing-and-sending.
func TestStoreAndSendStorageFull(t *testing.T) {
	for _, c := range []struct {
		name      string
		fullFor   int // +CMGW answering 322
		via       string
		fallbacks int
	}{
		{"room made", 1, "+CMSS", 0},
		{"stays full", 1000, "+CMGS", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newMRig(t, 1, "tcp", sim.ModemOptions{})
			r.start(ModemOptions{})
			r.sims[0].SetFaults(sim.Faults{FullWrites: c.fullFor})
			m := r.send(threeParts("Memory full. "), false, recipient)[0]
			r.waitState(m.ID, model.StateSent)
			sent := r.net.Sent()
			if len(sent) != 3 {
				t.Fatalf("network got %d parts, want 3", len(sent))
			}
			for _, sp := range sent {
				if sp.Via != c.via {
					t.Errorf("part %d sent with %s, want %s", sp.Part, sp.Via, c.via)
				}
			}
			_, parts := r.message(m.ID)
			for _, p := range parts {
				if p.StoreSend != (c.via == "+CMSS") || p.Stored() || p.MR < 0 {
					t.Errorf("part %d: store_send %v, slot %q/%d, MR %d", p.Seq, p.StoreSend, p.SlotStorage, p.SlotIndex, p.MR)
				}
			}
			st := r.s.Modems(context.Background())[0]
			if got := st.DirectFallbacks[FallbackStorageFull]; got != c.fallbacks || len(st.DirectFallbacks) > 1 {
				t.Errorf("fallbacks %v, want %d storage_full", st.DirectFallbacks, c.fallbacks)
			}
			if st.SendMode != string(modem.SendStoreAndSend) {
				t.Errorf("modem sends %q after a full storage, want store_and_send", st.SendMode)
			}
			r.waitFor("stored copies deleted", func() bool { return outgoingCopies(r.sims[0]) == 0 })
		})
	}
}
