package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// claim takes the next due part as a dispatcher would.
func (e *env) claim(modem string) (store.Due, bool) {
	e.t.Helper()
	d, ok, err := e.db.ClaimDue(modem, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return d, ok
}

func (e *env) update(fn func(tx *store.Tx) (model.Message, error)) model.Message {
	e.t.Helper()
	var m model.Message
	if err := e.db.Update(func(tx *store.Tx) error {
		var err error
		m, err = fn(tx)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func TestStateRollUpThroughTheOutbox(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	res := e.send(u, strings.Repeat("two parts ", 20), numA) // 200 chars: 2 parts
	id := res.Messages[0].ID

	d1, ok := e.claim("m1")
	if !ok || d1.Part.Seq != 1 || d1.Message.State != model.StateSubmitting || d1.Part.Attempts != 1 {
		t.Fatalf("first claim %+v %v", d1, ok)
	}
	m := e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkSent(id, 1, "m1", 17) })
	if m.State != model.StateQueued {
		// part 2 still waits in the outbox
		t.Fatalf("one of two sent: %s, want queued", m.State)
	}
	d2, _ := e.claim("m1")
	m = e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkSent(id, d2.Part.Seq, "m1", 18) })
	if m.State != model.StateSent || m.SentAt.IsZero() {
		t.Fatalf("both sent: %+v", m)
	}
	if _, ok := e.claim("m1"); ok {
		t.Fatal("outbox not empty")
	}
	// Status reports match by (modem, MR, recipient, recency).
	var found store.Due
	_ = e.db.View(func(tx *store.Tx) error {
		var err error
		found, ok, err = tx.FindByMR("m1", 18, numA, e.clock.Now().Add(-time.Hour))
		return err
	})
	if !ok || found.Part.Seq != 2 {
		t.Fatalf("FindByMR: %+v %v", found, ok)
	}
	_ = e.db.View(func(tx *store.Tx) error {
		_, ok, _ = tx.FindByMR("m1", 18, numB, time.Time{})
		return nil
	})
	if ok {
		t.Fatal("FindByMR matched another recipient")
	}
	m = e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkStatus(id, 1, true, "") })
	if m.State != model.StateSent {
		t.Fatalf("one part delivered: %s", m.State)
	}
	m = e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkStatus(id, 2, true, "") })
	if m.State != model.StateDelivered || m.DeliveredAt.IsZero() {
		t.Fatalf("all delivered: %+v", m)
	}
}

func TestFailedReportFailsMessage(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	id := e.send(u, "x", numA).Messages[0].ID
	e.claim("m1")
	e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkSent(id, 1, "m1", 0) })
	m := e.update(func(tx *store.Tx) (model.Message, error) {
		return tx.MarkStatus(id, 1, false, "the number does not exist")
	})
	if m.State != model.StateFailed || m.Reason != "the number does not exist" || m.FailedAt.IsZero() {
		t.Fatalf("%+v", m)
	}
}

func TestCancelRetryDismiss(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	other := e.user("other", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	sub := e.s.Bus().Subscribe(64, nil)
	defer sub.Close()

	a := e.send(u, "cancel me", numA).Messages[0].ID
	if _, err := e.s.Cancel(ctx, other.ID, a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("someone else cancelled: %v", err)
	}
	m, err := e.s.Cancel(ctx, u.ID, a)
	if err != nil || m.State != model.StateCancelled {
		t.Fatalf("cancel: %+v %v", m, err)
	}
	if _, ok := e.claim("m1"); ok {
		t.Fatal("cancelled message still in the outbox")
	}
	if ev := <-sub.C; ev.(*StatusChanged).Message.State != model.StateCancelled {
		t.Fatalf("event %+v", ev)
	}

	// A permanent error on part 2 of 3 fails the message; retry resends
	// from part 2 with the same TPDU (same reference).
	res := e.send(u, strings.Repeat("three parts ", 30), numB)
	b := res.Messages[0].ID
	e.claim("m1")
	e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkSent(b, 1, "m1", 1) })
	d2, _ := e.claim("m1")
	if d2.Part.Seq != 2 {
		t.Fatalf("claimed part %d, want 2", d2.Part.Seq)
	}
	if _, err := e.s.Cancel(ctx, u.ID, b); !errors.Is(err, ErrConflict) {
		t.Fatalf("cancel of a message in flight: %v", err)
	}
	m = e.update(func(tx *store.Tx) (model.Message, error) {
		return tx.MarkFailed(b, 2, "the network refused the message")
	})
	e.s.PublishStatus(model.StateSubmitting, m)
	if m.State != model.StateFailed || m.Reason != "the network refused the message" {
		t.Fatalf("failed: %+v", m)
	}
	fp, err := e.s.Failures(ctx, u.ID, Page{Limit: 10})
	if err != nil || len(fp.Items) != 1 || fp.Items[0].ID != b {
		t.Fatalf("failures %+v %v", fp, err)
	}
	if fp, _ := e.s.Failures(ctx, other.ID, Page{Limit: 10}); len(fp.Items) != 0 {
		t.Fatalf("other user sees failures %+v", fp.Items)
	}
	if fp, _ := e.s.Failures(ctx, admin.ID, Page{Limit: 10}); len(fp.Items) != 1 {
		t.Fatalf("admin failures %+v", fp.Items)
	}
	// One event for the change: message.failed, not also a status event.
	var names []string
	for len(sub.C) > 0 {
		if sc, ok := (<-sub.C).(*StatusChanged); ok && sc.Message.State.IsFailure() {
			names = append(names, sc.EventName())
		}
	}
	if len(names) != 1 || names[0] != EventMessageFailed {
		t.Errorf("failure events %v, want one %s", names, EventMessageFailed)
	}

	var tpdu2 []byte
	_ = e.db.View(func(tx *store.Tx) error { p, _ := tx.Part(b, 2); tpdu2 = p.TPDU; return nil })
	m, err = e.s.Retry(ctx, u.ID, b)
	if err != nil || m.State != model.StateQueued {
		t.Fatalf("retry: %+v %v", m, err)
	}
	if fp, _ := e.s.Failures(ctx, u.ID, Page{Limit: 10}); len(fp.Items) != 0 {
		t.Fatalf("retried message still listed as failure")
	}
	d, ok := e.claim("m2")
	if !ok || d.Part.Seq != 2 || string(d.Part.TPDU) != string(tpdu2) || d.Part.Attempts != 2 {
		t.Fatalf("after retry claimed %+v, want part 2 again with its TPDU", d.Part)
	}
	if _, err := e.s.Retry(ctx, u.ID, b); !errors.Is(err, ErrConflict) {
		t.Fatalf("retry of a message in flight: %v", err)
	}

	// Dismiss hides a failure but keeps the message.
	c := e.send(u, "x", numC).Messages[0].ID
	for {
		d, ok := e.claim("m1")
		if !ok {
			break
		}
		e.update(func(tx *store.Tx) (model.Message, error) { return tx.MarkFailed(d.Message.ID, d.Part.Seq, "no") })
	}
	if _, err := e.s.Dismiss(ctx, u.ID, c); err != nil {
		t.Fatal(err)
	}
	if fp, _ := e.s.Failures(ctx, u.ID, Page{Limit: 10}); len(fp.Items) != 1 || fp.Items[0].ID == c {
		t.Fatalf("after dismiss %+v", fp.Items)
	}
	if md, err := e.s.Message(ctx, u.ID, c); err != nil || !md.Dismissed || md.State != model.StateFailed {
		t.Fatalf("dismissed message %+v %v", md, err)
	}
}

func TestRecoverSubmittingAndExpiry(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	a := e.send(u, "in flight", numA).Messages[0].ID
	e.claim("m1") // the process "dies" here, during AT+CMGS

	msgs, err := e.s.RecoverAtStartup(ctx, false)
	if err != nil || len(msgs) != 1 || msgs[0].ID != a || msgs[0].State != model.StateUnknown || msgs[0].Reason != ReasonUnknown {
		t.Fatalf("recover: %+v %v", msgs, err)
	}
	if _, ok := e.claim("m1"); ok {
		t.Fatal("unknown part resent without being asked")
	}
	if fp, _ := e.s.Failures(ctx, u.ID, Page{Limit: 10}); len(fp.Items) != 1 || fp.Items[0].State != model.StateUnknown {
		t.Fatalf("unknown not among failures: %+v", fp.Items)
	}
	// With resend chosen, it goes back to the outbox.
	b := e.send(u, "again", numB).Messages[0].ID
	e.claim("m1")
	if msgs, _ := e.s.RecoverAtStartup(ctx, true); len(msgs) != 1 || msgs[0].State != model.StateQueued {
		t.Fatalf("resend recover %+v", msgs)
	}
	if d, ok := e.claim("m1"); !ok || d.Message.ID != b {
		t.Fatalf("resend: claimed %+v", d)
	}

	// A message past its expiry is expired, not sent.
	exp := e.clock.Now().Add(time.Minute)
	res, err := e.s.Send(ctx, SendRequest{UserID: u.ID, Text: "soon", To: []string{numC}, ExpiresAt: exp,
		SendAt: e.clock.Now().Add(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.claim("m1"); ok {
		t.Fatal("claimed before send-at")
	}
	e.clock.Advance(2 * time.Minute)
	if d, ok := e.claim("m1"); ok {
		t.Fatalf("claimed an expired message %+v", d)
	}
	md, _ := e.s.Message(ctx, u.ID, res.Messages[0].ID)
	if md.State != model.StateExpired {
		t.Fatalf("state %s, want expired", md.State)
	}
}

func TestRetention(t *testing.T) {
	e := newEnv(t, Options{Retention: 30 * 24 * time.Hour, PurgeBatch: 3})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	// Old: 5 delivered-ish (incoming) messages from A, and one still queued.
	for i := 0; i < 5; i++ {
		e.receive(numA, "old")
	}
	queued := e.send(u, "old but queued", numB).Messages[0].ID
	e.clock.Advance(40 * 24 * time.Hour)
	recent := e.receive(numC, "recent")

	tot, err := e.s.PurgeOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Messages != 5 || tot.Batches < 2 {
		t.Fatalf("purged %+v, want 5 messages in several batches", tot)
	}
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	if _, err := e.thread(admin, numA); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged conversation still there: %v", err)
	}
	if got := e.numbers(admin, true); len(got) != 1 || got[0] != numC {
		t.Errorf("unassigned after purge %v", got)
	}
	for _, id := range []model.ID{queued, recent.ID} {
		if _, err := e.s.Message(ctx, admin.ID, id); err != nil {
			t.Errorf("message %s purged: %v", id, err)
		}
	}
	// Nothing left to purge.
	if tot, _ := e.s.PurgeOnce(ctx); tot.Messages != 0 {
		t.Errorf("second pass purged %+v", tot)
	}
}
