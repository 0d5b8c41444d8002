package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// TestBulkFailuresOneNoticePerSend: the failures of a bulk send are told
// to its sender in one notice, not one per message: once while the send
// is under way ("1 of 3 failed so far"), then, because another failed
// after that, once more when it has finished ("2 of 3 failed"). The rate
// limit and the injected clock hold the send between the steps; the
// gathering delay is an hour so that the test, not a timer, decides when
// notices are written.
func TestBulkFailuresOneNoticePerSend(t *testing.T) {
	ctx := context.Background()
	r := newMRig(t, 1, "pty", sim.ModemOptions{})
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	r.start(ModemOptions{Policy: SendPolicy{Default: ModemPolicy{RatePerMinute: 1}}, BulkNoticeDelay: time.Hour})
	res := r.sendReq(SendRequest{To: bulkNumbers(0, 3), Text: "Spring sale", Campaign: "spring"})
	batch := res.Messages[0].BatchID
	notes := func() []model.Notification {
		t.Helper()
		p, err := r.s.Notifications(ctx, r.user.ID, Page{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	// A failure is published (and gathered) just after its commit.
	gathered := func() bool {
		r.s.bulkNotes.mu.Lock()
		defer r.s.bulkNotes.mu.Unlock()
		_, ok := r.s.bulkNotes.pending[batch]
		return ok
	}
	stateOf := func(i int) model.State { m, _ := r.message(res.Messages[i].ID); return m.State }
	failedOrSent := []model.State{model.StateFailed, model.StateSent, model.StateDelivered}

	first := -1
	r.waitFor("one message done", func() bool {
		for i := range res.Messages {
			if s := stateOf(i); s == model.StateFailed || s == model.StateSent || s == model.StateDelivered {
				first = i
				return true
			}
		}
		return false
	})
	if s := stateOf(first); s != model.StateFailed {
		t.Fatalf("the first message is %s, want failed (the modem's first send fails)", s)
	}
	r.waitFor("the failure gathered", gathered)
	if n := len(notes()); n != 0 {
		t.Fatalf("%d notices before the gathering delay", n)
	}
	if watched := r.s.flushBulkNotices(ctx); watched != 0 {
		t.Fatalf("%d sends still watched after the first notice", watched)
	}
	ns := notes()
	if len(ns) != 1 || ns[0].Kind != NoticeBulkFailed || ns[0].BatchID != batch || ns[0].Text != "Bulk 'spring': 1 of 3 failed so far" {
		t.Fatalf("after the first failure: %+v", ns)
	}

	// The second message fails too; the send is not finished, so the
	// notice waits for its end.
	r.sims[0].SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	r.clock.Advance(61 * time.Second)
	r.s.WakeOutbox()
	r.waitFor("two messages failed", func() bool {
		n := 0
		for i := range res.Messages {
			if stateOf(i) == model.StateFailed {
				n++
			}
		}
		return n == 2
	})
	r.waitFor("the failure gathered", gathered)
	if watched := r.s.flushBulkNotices(ctx); watched != 1 {
		t.Fatalf("%d sends watched; want the one under way with a new failure", watched)
	}
	if n := len(notes()); n != 1 {
		t.Fatalf("%d notices while the send is under way; want still the first only", n)
	}

	r.clock.Advance(61 * time.Second)
	r.s.WakeOutbox()
	for _, m := range res.Messages {
		r.waitState(m.ID, failedOrSent...)
	}
	if watched := r.s.flushBulkNotices(ctx); watched != 0 {
		t.Fatalf("%d sends watched after the end", watched)
	}
	ns = notes()
	if len(ns) != 2 || ns[0].Text != "Bulk 'spring': 2 of 3 failed" || ns[0].BatchID != batch {
		t.Fatalf("after the end: %+v", ns)
	}
	// Nothing more to tell.
	r.s.flushBulkNotices(ctx)
	if n := len(notes()); n != 2 {
		t.Fatalf("%d notices after a flush with nothing new", n)
	}
}

// TestBulkNoticeKeepsAFailureNotedDuringAFlush: a failure noted while a
// flush was writing the notice for the failures before it stays pending
// (told at the next flush), whether the flush kept the send or forgot it.
func TestBulkNoticeKeepsAFailureNotedDuringAFlush(t *testing.T) {
	const batch, user = model.ID(7), model.ID(1)
	for _, finished := range []bool{false, true} {
		b := newBulkNotices()
		b.failed(batch, user)
		mark := b.pending[batch] // what the flush looked at
		b.failed(batch, user)    // noted while it wrote the notice
		b.settle(batch, mark, 1, finished)
		if _, ok := b.pending[batch]; !ok {
			t.Errorf("finished %v: the later failure was dropped", finished)
		}
		b.settle(batch, b.pending[batch], 2, finished)
		if _, ok := b.pending[batch]; ok {
			t.Errorf("finished %v: still pending after the flush that saw it", finished)
		}
		if _, ok := b.told[batch]; ok == finished {
			t.Errorf("finished %v: told count kept %v", finished, ok)
		}
	}
}
