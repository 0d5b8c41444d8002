package gateway

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestUnreadCountsAndMarkRead: each conversation row carries the viewer's
// unread count (their uncleared notifications about that number), opening
// it clears them, and colleagues keep their own counts.
func TestUnreadCountsAndMarkRead(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	alice := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	bob := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	e.send(alice, "hi", numA)
	e.send(bob, "hi", numA)
	e.send(alice, "hello", numB)
	e.receive(numA, "one")
	e.receive(numA, "two")
	e.receive(numB, "three")

	unread := func(u model.User) map[string]int {
		t.Helper()
		p, err := e.s.Conversations(ctx, u.ID, ConversationQuery{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, it := range p.Items {
			out[it.Number] = it.Unread
		}
		return out
	}
	if got, want := unread(alice), map[string]int{numA: 2, numB: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alice unread %v, want %v", got, want)
	}
	if n, err := e.s.NotificationCount(ctx, alice.ID); err != nil || n != 3 {
		t.Fatalf("alice's badge %d %v, want 3", n, err)
	}
	// Opening A (written as the user might type it) clears A only, and
	// only for alice.
	if n, err := e.s.MarkRead(ctx, alice.ID, "07911 123451"); err != nil || n != 2 {
		t.Fatalf("mark read cleared %d %v, want 2", n, err)
	}
	if got, want := unread(alice), map[string]int{numA: 0, numB: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alice unread after reading A %v, want %v", got, want)
	}
	if got, want := unread(bob), map[string]int{numA: 2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("bob unread %v, want %v", got, want)
	}
	// Clearing one notification, then all, keeps the counts in step.
	ns, err := e.notes(bob.ID)
	if err != nil || len(ns) != 2 {
		t.Fatalf("bob's notifications %+v %v", ns, err)
	}
	if err := e.s.ClearNotification(ctx, bob.ID, ns[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, want := unread(bob), map[string]int{numA: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("bob unread after clearing one %v, want %v", got, want)
	}
	if _, err := e.s.ClearNotifications(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.s.NotificationCount(ctx, alice.ID); n != 0 {
		t.Fatalf("alice's badge after clearing all: %d", n)
	}
	if n, _ := e.s.NotificationCount(ctx, bob.ID); n != 1 {
		t.Fatalf("bob's badge: %d, want 1", n)
	}
}

// TestOutgoingOnlyHidesConversationsWithNothingOwn: a user whose only
// message with a number was purged, but who was associated with a later
// reply, sees nothing of that conversation once in outgoing_only mode.
func TestOutgoingOnlyHidesConversationsWithNothingOwn(t *testing.T) {
	e := newEnv(t, Options{Retention: 24 * time.Hour})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	old := e.send(u, "old question", numA).Messages[0]
	if _, err := e.s.Cancel(ctx, u.ID, old.ID); err != nil { // final, so purgeable
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Hour)
	e.receive(numA, "late answer") // associated with u
	e.send(u, "to b", numB)
	e.clock.Advance(10 * time.Hour)
	if tot, err := e.s.PurgeOnce(ctx); err != nil || tot.Messages != 1 {
		t.Fatalf("purge %+v %v, want the old question only", tot, err)
	}
	own := model.VisibilityOwn
	if _, err := e.s.UpdateUser(ctx, u.ID, UserUpdate{Visibility: &own}); err != nil {
		t.Fatal(err)
	}
	if got := e.numbers(u, false); !reflect.DeepEqual(got, []string{numB}) {
		t.Fatalf("outgoing_only list %v, want only B", got)
	}
	if _, err := e.thread(u, numA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("A's thread for outgoing_only u: %v, want ErrNotFound", err)
	}
}

// TestDisabledViewerSeesNothing: a disabled user's session or token reads
// nothing, whatever was theirs.
func TestDisabledViewerSeesNothing(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user("u", model.RoleAdmin, model.VisibilityAll, false)
	m := e.send(u, "mine", numA).Messages[0]
	yes := true
	if _, err := e.s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Conversations(ctx, u.ID, ConversationQuery{}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("conversations: %v", err)
	}
	if _, err := e.s.Thread(ctx, u.ID, numA, Page{}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("thread: %v", err)
	}
	if _, err := e.s.Message(ctx, u.ID, m.ID); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("message: %v", err)
	}
	if _, err := e.s.Failures(ctx, u.ID, Page{Limit: 0}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("failures: %v", err)
	}
}

// TestSendAtHoldsTheMessage: a message with a send-at time is not handed to
// a modem before it.
func TestSendAtHoldsTheMessage(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	at := e.clock.Now().Add(time.Hour)
	if _, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, To: []string{numA}, Text: "later", SendAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := e.db.ClaimDue("m1", nil); err != nil || ok {
		t.Fatalf("claimed before send-at: %v %v", ok, err)
	}
	e.clock.Advance(time.Hour)
	d, ok, err := e.db.ClaimDue("m1", nil)
	if err != nil || !ok || d.Message.Text != "later" {
		t.Fatalf("not claimed at send-at: %+v %v %v", d, ok, err)
	}
}

// TestRetentionPurgesOldNotifications: notifications are kept until
// cleared, but not past the retention of their messages.
func TestRetentionPurgesOldNotifications(t *testing.T) {
	e := newEnv(t, Options{Retention: 24 * time.Hour, PurgeBatch: 2})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	e.send(u, "hi", numA)
	for i := 0; i < 5; i++ {
		e.receive(numA, "old") // u is notified
		e.receive(numB, "old") // unassigned: the admin is notified
	}
	e.clock.Advance(48 * time.Hour)
	e.receive(numA, "new")
	tot, err := e.s.PurgeOnce(ctx)
	if err != nil || tot.Notifications != 10 {
		t.Fatalf("purged %+v %v, want 10 notifications", tot, err)
	}
	for _, c := range []struct {
		u    model.User
		want int
	}{{u, 1}, {admin, 0}} {
		if n, _ := e.s.NotificationCount(ctx, c.u.ID); n != c.want {
			t.Errorf("%s has %d notifications, want %d", c.u.Name, n, c.want)
		}
	}
}

// TestPurgeOfTheNewestMessageKeepsTheConversationListable: retention keeps
// a message still queued but deletes a newer delivered one; the
// conversation's last message becomes the one left.
func TestPurgeOfTheNewestMessageKeepsTheConversationListable(t *testing.T) {
	e := newEnv(t, Options{Retention: 24 * time.Hour})
	ctx := context.Background()
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	e.send(u, "still queued", numA)
	e.receive(numA, "reply")
	e.clock.Advance(48 * time.Hour)
	if tot, err := e.s.PurgeOnce(ctx); err != nil || tot.Messages != 1 {
		t.Fatalf("purge %+v %v, want the reply only", tot, err)
	}
	for _, q := range []struct {
		who model.User
		q   ConversationQuery
	}{{u, ConversationQuery{}}, {admin, ConversationQuery{All: true}}} {
		p, err := e.s.Conversations(ctx, q.who.ID, q.q)
		if err != nil || len(p.Items) != 1 || p.Items[0].Last.Text != "still queued" || p.Items[0].Count != 1 {
			t.Fatalf("%s's list %+v %v, want A with the queued message last", q.who.Name, p.Items, err)
		}
	}
	r, err := e.s.Search(ctx, u.ID, "7911 123451", 10)
	if err != nil || len(r.Conversations) != 1 || r.Conversations[0].Last.Text != "still queued" {
		t.Fatalf("search %+v %v", r.Conversations, err)
	}
}
