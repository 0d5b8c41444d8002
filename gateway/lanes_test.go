package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// This file proves the outbox's lanes, the sending policy and SIM routing
// against two virtual modems over real ptys (the mrig of modems_test.go).

// bulkNumbers are n valid UK mobile numbers starting at from.
func bulkNumbers(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+4479111%05d", from+i)
	}
	return out
}

func (r *mrig) sendReq(req SendRequest) *SendResult {
	r.t.Helper()
	req.UserID = r.user.ID
	res, err := r.s.Send(context.Background(), req)
	if err != nil {
		r.t.Fatalf("Send: %v", err)
	}
	return res
}

// sentTo is the recipient of every part the network accepted, in order.
func (r *mrig) sentTo() []string {
	var out []string
	for _, p := range r.net.Sent() {
		out = append(out, p.To)
	}
	return out
}

// TestReplyAfterBulkGoesInTheNextFreeSlot: a reply queued while a
// 500-recipient bulk is going out is the next part a modem starts, but for
// a bulk part a modem had claimed just before the reply was committed: at
// most one per modem. (Counted by when a modem begins a part, +CMGW or
// +CMGS: the network may record a bulk part claimed after the reply before
// the reply itself, when the other modem answers first, and a +CMSS comes
// only after the stored copy's slot is committed.)
func TestReplyAfterBulkGoesInTheNextFreeSlot(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	r.start(ModemOptions{})
	bulk := r.sendReq(SendRequest{To: bulkNumbers(0, 500), Text: "Spring sale", Campaign: "spring"})
	if len(bulk.Messages) != 500 || !bulk.Messages[0].Marketing {
		t.Fatalf("bulk accepted %d messages (marketing %v)", len(bulk.Messages), bulk.Messages[0].Marketing)
	}
	r.waitFor("the bulk under way", func() bool { return len(r.net.Sent()) >= 6 })
	reply := r.send("Yes, Thursday is fine", false, recipient)[0]
	r.rec.mu.Lock()
	before := len(r.rec.begun)
	r.rec.mu.Unlock()
	r.waitState(reply.ID, model.StateSent)
	_, parts := r.message(reply.ID)
	r.rec.mu.Lock()
	starts := append([]string(nil), r.rec.begun...)
	r.rec.mu.Unlock()
	at := -1
	for i := before; i < len(starts); i++ {
		if starts[i] == string(parts[0].TPDU) {
			at = i
			break
		}
	}
	if between := at - before; at < 0 || between > 2 {
		t.Fatalf("%d bulk parts started after the reply was queued and before it (position %d); want at most one per modem (2)", between, at)
	}
	var left int
	_ = r.db.View(func(tx *store.Tx) error { left = tx.LaneDepth(store.LaneBulk); return nil })
	if left == 0 {
		t.Fatal("the bulk had finished before the reply: the test proved nothing")
	}
}

// TestConcurrentBulksInterleave: two bulks queued one after the other share
// the modems in turn rather than the second waiting for the first.
func TestConcurrentBulksInterleave(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	a := r.sendReq(SendRequest{To: bulkNumbers(0, 30), Text: "A", Campaign: "a"})
	b := r.sendReq(SendRequest{To: bulkNumbers(100, 30), Text: "B", Campaign: "b"})
	batch := map[string]string{}
	for _, m := range a.Messages {
		batch[m.Number] = "a"
	}
	for _, m := range b.Messages {
		batch[m.Number] = "b"
	}
	r.start(ModemOptions{})
	r.waitFor("both bulks sent", func() bool { return len(r.net.Sent()) == 60 })
	order := r.sentTo()
	// First in, first out would send all of a before any of b. In turn,
	// each has about half of the first 30 slots; the modems finish their
	// sends in any order, so allow a margin.
	n := map[string]int{}
	seq := ""
	for i, to := range order {
		seq += batch[to]
		if i < 30 {
			n[batch[to]]++
		}
	}
	if n["a"] < 10 || n["b"] < 10 {
		t.Fatalf("of the first 30 parts a had %d and b %d (order %s); want the two bulks in turn", n["a"], n["b"], seq)
	}
}

// TestMultipartBulkStaysOnOneModem: every message of a bulk of three-part
// texts leaves from one modem, parts in order, with one reference, while
// the bulk as a whole is spread over both modems.
func TestMultipartBulkStaysOnOneModem(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	res := r.sendReq(SendRequest{To: bulkNumbers(0, 12), Text: threeParts("bulk"), Campaign: "long"})
	if res.Count.Parts != 3 {
		t.Fatalf("the text needs %d parts, want 3", res.Count.Parts)
	}
	r.start(ModemOptions{})
	r.waitFor("every part sent", func() bool { return len(r.net.Sent()) == 36 })
	type seen struct {
		modem string
		ref   int
		parts []int
	}
	by := map[string]*seen{}
	modems := map[string]bool{}
	for _, p := range r.net.Sent() {
		s := by[p.To]
		if s == nil {
			s = &seen{modem: p.Modem, ref: p.Ref}
			by[p.To] = s
		}
		if p.Modem != s.modem || p.Ref != s.ref {
			t.Errorf("%s: part %d from modem %s ref %d; part 1 was from %s ref %d", p.To, p.Part, p.Modem, p.Ref, s.modem, s.ref)
		}
		s.parts = append(s.parts, p.Part)
		modems[p.Modem] = true
	}
	for to, s := range by {
		if fmt.Sprint(s.parts) != "[1 2 3]" {
			t.Errorf("%s got parts in order %v", to, s.parts)
		}
	}
	if len(modems) != 2 {
		t.Errorf("the bulk went through %d modem(s); want it spread over both", len(modems))
	}
}

// TestRateLimitSpacesSends: at one message a minute per SIM the second
// message waits until the injected clock has moved a minute on.
func TestRateLimitSpacesSends(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	r.start(ModemOptions{Policy: SendPolicy{Default: ModemPolicy{RatePerMinute: 1}}})
	first := r.send("one", false, "+447911123401")[0]
	second := r.send("two", false, "+447911123402")[0]
	m1 := r.waitState(first.ID, model.StateSent)
	r.clock.Advance(61 * time.Second)
	r.s.WakeOutbox()
	m2 := r.waitState(second.ID, model.StateSent)
	if gap := m2.SentAt.Sub(m1.SentAt); gap < time.Minute {
		t.Fatalf("the second message went %v after the first; the limit is one a minute", gap)
	}
}

// TestRateLimitSpacingSurvivesARestart: a SIM that has just sent a part
// does not send another at once because the gateway restarted: the new
// Service (on the same database file, with the same injected clock) seeds
// the spacing from the store, so the part queued after the restart goes a
// full interval after the one sent before it.
func TestRateLimitSpacingSurvivesARestart(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	policy := ModemOptions{Policy: SendPolicy{Default: ModemPolicy{RatePerMinute: 1}}}
	r.start(policy)
	first := r.waitState(r.send("before the restart", false, "+447911123401")[0].ID, model.StateSent)
	r.stop()
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
	r.open()
	r.start(policy)
	second := r.send("after the restart", false, "+447911123402")[0]
	// The clock moves on ten seconds at a time, each step given time to
	// send: without the seeded spacing the part goes in the first step.
	var m model.Message
	for step := 0; step < 8; step++ {
		var sent bool
		for range 40 {
			if m, _ = r.message(second.ID); m.State == model.StateSent {
				sent = true
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if sent {
			break
		}
		r.clock.Advance(10 * time.Second)
		r.s.WakeOutbox()
	}
	m = r.waitState(second.ID, model.StateSent)
	if gap := m.SentAt.Sub(first.SentAt); gap < time.Minute {
		t.Fatalf("the first part after the restart went %v after the last one before it; the limit is one a minute", gap)
	}
	if n := len(r.net.Sent()); n != 2 {
		t.Fatalf("the network saw %d parts, want 2", n)
	}
}

// TestRateLimitSpacingNotSeededForAnIdleSIM: a SIM that sent nothing on
// the day of the restart (nor within an interval before it) sends at once
// afterwards: the seed holds only a SIM that may have just sent.
func TestRateLimitSpacingNotSeededForAnIdleSIM(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	policy := ModemOptions{Policy: SendPolicy{Default: ModemPolicy{RatePerMinute: 1}, Location: time.UTC}}
	r.start(policy)
	r.waitState(r.send("yesterday", false, "+447911123401")[0].ID, model.StateSent)
	r.stop()
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(25 * time.Hour)
	r.open()
	r.start(policy)
	// The clock stands still from here: only a part the limit does not
	// hold reaches "sent" (waitState fails after 15 s otherwise).
	r.waitState(r.send("today", false, "+447911123402")[0].ID, model.StateSent)
}

// TestDailyCapHoldsBulkNotReplies: past the daily cap a bulk waits for the
// next day while a reply still goes.
func TestDailyCapHoldsBulkNotReplies(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	r.start(ModemOptions{Policy: SendPolicy{Default: ModemPolicy{DailyCap: 2}, Location: time.UTC}})
	bulk := r.sendReq(SendRequest{To: bulkNumbers(0, 4), Text: "capped"})
	r.waitFor("two bulk parts", func() bool { return len(r.net.Sent()) >= 2 })
	reply := r.send("a reply", false, recipient)[0]
	r.waitState(reply.ID, model.StateSent)
	if n := len(r.net.Sent()); n != 3 {
		t.Fatalf("%d parts sent with a cap of 2 bulk parts and one reply", n)
	}
	r.clock.Advance(24 * time.Hour)
	r.s.WakeOutbox()
	for _, m := range bulk.Messages {
		r.waitState(m.ID, model.StateSent)
	}
}

// TestQuietHoursHoldBulkNotReplies: inside the quiet window a bulk waits
// for it to end; a reply goes at once.
func TestQuietHoursHoldBulkNotReplies(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	now := r.clock.Now().UTC()
	h := time.Duration(now.Hour()) * time.Hour
	// A two-hour window around now (wrapping midnight when it must).
	q := QuietHours{From: (h + 23*time.Hour) % (24 * time.Hour), To: (h + time.Hour + time.Hour) % (24 * time.Hour)}
	if in, _ := q.In(now); !in {
		t.Fatalf("window %s does not hold %v", q, now)
	}
	r.start(ModemOptions{Policy: SendPolicy{Default: ModemPolicy{Quiet: q}, Location: time.UTC}})
	bulk := r.sendReq(SendRequest{To: bulkNumbers(0, 2), Text: "night sale"})
	reply := r.send("a reply", false, recipient)[0]
	r.waitState(reply.ID, model.StateSent)
	if n := len(r.net.Sent()); n != 1 {
		t.Fatalf("%d parts sent inside quiet hours; want only the reply", n)
	}
	_, end := q.In(now)
	r.clock.Advance(end.Sub(now) + time.Minute)
	r.s.WakeOutbox()
	for _, m := range bulk.Messages {
		got := r.waitState(m.ID, model.StateSent)
		if got.SentAt.Before(end) {
			t.Errorf("a bulk part went at %v, inside the quiet hours ending %v", got.SentAt, end)
		}
	}
}

// TestPriorityPassesQuietHours: priority 100 passes the window, as in
// SMSGate; a lower priority bulk does not.
func TestPriorityPassesQuietHours(t *testing.T) {
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	r.start(ModemOptions{Policy: SendPolicy{Default: ModemPolicy{Quiet: QuietHours{From: 0, To: 24 * time.Hour}}, Location: time.UTC}})
	// Queued first, so it would go first if it were not held: a bulk with
	// a priority under 100 still waits for the quiet hours to end.
	held := r.sendReq(SendRequest{To: bulkNumbers(10, 2), Text: "offer", Priority: 5})
	res := r.sendReq(SendRequest{To: bulkNumbers(0, 2), Text: "alert", Priority: 100})
	for _, m := range res.Messages {
		r.waitState(m.ID, model.StateSent)
	}
	for _, m := range held.Messages {
		if got, _ := r.message(m.ID); got.State != model.StateQueued {
			t.Errorf("a priority 5 bulk message is %s inside quiet hours", got.State)
		}
	}
}

// TestStickySIMAndFailover: a reply leaves from the SIM the contact wrote
// to, even when the other modem is free; when that SIM is gone another
// modem sends it, once.
func TestStickySIMAndFailover(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	r.start(ModemOptions{})
	second := r.sims[1].IMEI()
	if _, err := r.net.Inbound(r.sims[1], sim.InboundSMS{From: recipient, Text: "hello from the second SIM"}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the incoming message", func() bool { return len(r.incoming()) == 1 })
	for i := range 4 {
		m := r.send(fmt.Sprintf("reply %d", i), false, recipient)[0]
		got := r.waitState(m.ID, model.StateSent)
		if got.Modem != second {
			t.Fatalf("reply %d left from %s; the contact wrote to %s", i, got.Modem, second)
		}
	}
	r.sims[1].Unplug()
	r.waitFor("the second modem down", func() bool {
		for _, st := range r.pool.Modems() {
			if st.ID == second {
				return st.State != modem.StateReady
			}
		}
		return false
	})
	m := r.send("after the failover", false, recipient)[0]
	got := r.waitState(m.ID, model.StateSent)
	if got.Modem == second || got.Modem == "" {
		t.Fatalf("the failover reply left from %q", got.Modem)
	}
	n := 0
	for _, to := range r.sentTo() {
		if to == recipient {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("the network got %d parts for 5 replies", n)
	}
}

// TestStickySIMFailureThereGoesElsewhere: a reply that failed temporarily
// on the SIM the contact wrote to is retried on another ready modem. The
// sticky rule refused it on every other modem while its SIM was ready, and
// the retry rule refused it on that SIM while another modem was ready: the
// part stayed queued forever with every modem idle (the long crash run's
// stalled drain).
func TestStickySIMFailureThereGoesElsewhere(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	r.start(ModemOptions{})
	first, second := r.sims[0].IMEI(), r.sims[1].IMEI()
	if _, err := r.net.Inbound(r.sims[1], sim.InboundSMS{From: recipient, Text: "hello from the second SIM"}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the incoming message", func() bool { return len(r.incoming()) == 1 })
	r.sims[1].SetFaults(sim.Faults{SendErrors: []int{42}}) // congestion: temporary
	m := r.send("a reply the sticky SIM fails once", false, recipient)[0]
	got := r.waitState(m.ID, model.StateSent)
	if got.Modem != first {
		t.Fatalf("the reply that failed on %s left from %q, want the other ready modem %s", second, got.Modem, first)
	}
	_, parts := r.message(m.ID)
	if parts[0].Attempts != 2 {
		t.Fatalf("the reply took %d attempts, want 2 (one failed on the sticky SIM)", parts[0].Attempts)
	}
}

// TestBulkFailureWhileOtherModemHoldsBulk: a bulk part that failed
// temporarily on one modem, while the other modem's policy holds bulk parts
// (quiet hours, daily cap reached), is retried where it failed. The retry
// rule ("a part that failed on a modem goes to another ready one") refused
// it there because the other modem was ready, and the other refused it for
// its policy: queued until that modem's quiet hours or day ended, every
// modem idle (for good with an all-day window).
func TestBulkFailureWhileOtherModemHoldsBulk(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy ModemPolicy
		sent   int // bulk parts the held modem sent today
	}{
		{"quiet hours", ModemPolicy{Quiet: QuietHours{From: 0, To: 24 * time.Hour}}, 0},
		{"daily cap reached", ModemPolicy{DailyCap: 1}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newMRig(t, 2, "pty", sim.ModemOptions{})
			first, held := r.sims[0].IMEI(), r.sims[1].IMEI()
			policy := SendPolicy{Modems: map[string]ModemPolicy{held: c.policy}, Location: time.UTC}
			if c.sent > 0 {
				if err := r.db.Update(func(tx *store.Tx) error {
					return tx.AddModemSends(held, policy.Day(tx.Now()), c.sent)
				}); err != nil {
					t.Fatal(err)
				}
			}
			r.sims[0].SetFaults(sim.Faults{SendErrors: []int{42}}) // congestion: temporary
			r.start(ModemOptions{Policy: policy})
			bulk := r.sendReq(SendRequest{To: bulkNumbers(0, 2), Text: "a bulk whose first part fails once"})
			if !bulk.Messages[0].Marketing {
				t.Fatal("a send to two recipients is not a bulk")
			}
			attempts := 0
			for _, m := range bulk.Messages {
				got := r.waitState(m.ID, model.StateSent)
				if got.Modem != first {
					t.Fatalf("a bulk part left from %q, want %s (the other holds bulk parts)", got.Modem, first)
				}
				_, parts := r.message(got.ID)
				attempts += parts[0].Attempts
			}
			if attempts != 3 {
				t.Fatalf("the two bulk parts took %d attempts, want 3 (one failed once)", attempts)
			}
		})
	}
}
