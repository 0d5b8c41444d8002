package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// TestUnplugMidSendUnderLoad: while a bulk goes out and SMS arrive, the modem
// is pulled out in the middle of a send and comes back at a new tty. The
// pool finds it again by its IMEI, the interrupted part is settled from its
// stored copy (it did not go: it is sent again, once), sending resumes
// within 10 s, no part is lost or sent twice, and every incoming SMS is
// stored once.
func TestUnplugMidSendUnderLoad(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	r.scan = true
	sm := r.sims[0]
	imei := sm.IMEI()
	sm.SetFaults(sim.Faults{Latency: 400 * time.Millisecond}) // each send takes a while: room to pull the plug mid-send
	r.start(ModemOptions{})
	started := make(chan time.Time, 1000)
	r.rec.mu.Lock()
	r.rec.started = started
	r.rec.mu.Unlock()

	const bulk = 12
	var to []string
	for i := range bulk {
		to = append(to, fmt.Sprintf("+4479111%05d", i))
	}
	msgs := r.send("bulk during an unplug", false, to...)
	inbound := func(n int) string {
		from := fmt.Sprintf("+4477001%05d", n)
		if _, err := r.net.Inbound(sm, sim.InboundSMS{From: from, Text: fmt.Sprintf("inbound %d", n)}); err != nil {
			t.Fatal(err)
		}
		return from
	}
	var froms []string
	for i := range 3 {
		froms = append(froms, inbound(i))
	}

	// Pull the plug 150 ms into the fourth send.
	for range 4 {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("sends did not start")
		}
	}
	time.Sleep(150 * time.Millisecond)
	oldPath := sm.PTYPath()
	sm.Unplug()
	for i := 3; i < 6; i++ { // the network holds these until the modem is back
		froms = append(froms, inbound(i))
	}
	var held []store.Due
	r.waitFor("the interrupted part held for its modem", func() bool {
		_ = r.db.View(func(tx *store.Tx) error {
			var err error
			held, err = tx.StoredSlots(imei)
			return err
		})
		return len(held) == 1
	})
	interrupted := held[0].Message.ID
	sentBefore := len(r.net.Sent())

	newPath, err := sm.Replug(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	replugged := time.Now()
	if newPath == oldPath || newPath == "" {
		t.Fatalf("replugged at %q, was %q: want a new tty", newPath, oldPath)
	}
	for i := 6; i < 9; i++ {
		froms = append(froms, inbound(i))
	}
	// Sending resumes within 10 s of the modem coming back.
	r.waitFor("a send after the replug", func() bool { return len(r.net.Sent()) > sentBefore })
	if d := time.Since(replugged); d > 10*time.Second {
		t.Errorf("sending resumed %v after the replug, want within 10 s", d)
	}
	for _, m := range msgs {
		r.waitState(m.ID, model.StateSent)
	}
	if st := r.pool.Modems(); len(st) != 1 || st[0].ID != imei || st[0].Port != newPath {
		t.Errorf("pool after the replug: %+v, want %s at %s", st, imei, newPath)
	}

	// Every part reached the network exactly once, the interrupted one too.
	times := map[string]int{}
	for _, sp := range r.net.Sent() {
		times[sp.To]++
	}
	for _, m := range msgs {
		if times[m.Number] != 1 {
			t.Errorf("%s reached the network %d times", m.Number, times[m.Number])
		}
	}
	if m, parts := r.message(interrupted); m.State != model.StateSent || parts[0].Stored() || parts[0].Attempts < 2 {
		t.Errorf("interrupted message %s (%q), part %+v: want sent again after its copy said unsent", m.State, m.Reason, parts[0])
	}
	r.waitFor("stored copies deleted", func() bool { return outgoingCopies(sm) == 0 })

	// Every SMS received once.
	r.waitFor("every inbound SMS stored", func() bool { return len(r.incoming()) == len(froms) })
	time.Sleep(1500 * time.Millisecond) // a poll more: nothing comes twice
	got := map[string]int{}
	for _, m := range r.incoming() {
		got[m.Number]++
		if !strings.HasPrefix(m.Text, "inbound ") {
			t.Errorf("incoming %q", m.Text)
		}
	}
	for _, f := range froms {
		if got[f] != 1 {
			t.Errorf("SMS from %s stored %d times", f, got[f])
		}
	}
}
