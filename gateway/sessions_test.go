package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestSessionLifecycle: a session is found by its secret until logout, an
// idle period, its absolute expiry, a disabled user, or a password change
// made from another session.
func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{SessionIdle: time.Hour, SessionMax: 5 * time.Hour})
	u := e.user("sue", model.RoleStaff, model.VisibilityAll, false)
	live := func(secret string) bool {
		_, _, err := e.s.SessionByToken(ctx, secret)
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Fatal(err)
		}
		return err == nil
	}
	newSession := func() string {
		secret, sess, err := e.s.CreateSession(ctx, u.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if sess.CSRF == "" || sess.CSRF == secret || len(sess.Hash) != 32 {
			t.Fatalf("session %+v", sess)
		}
		return secret
	}

	a := newSession()
	if !live(a) || live("") || live(a+"x") {
		t.Fatal("lookup by secret")
	}
	// Used every 50 minutes, it outlives the idle hour...
	for range 5 {
		e.clock.Advance(50 * time.Minute)
		if !live(a) {
			t.Fatal("an active session ended")
		}
	}
	// ...but not the absolute five hours.
	e.clock.Advance(55 * time.Minute) // 305 minutes in, 55 idle
	if live(a) {
		t.Fatal("a session outlived its absolute expiry")
	}

	b := newSession()
	e.clock.Advance(time.Hour)
	if live(b) {
		t.Fatal("an idle session did not end")
	}

	c := newSession()
	if err := e.s.Logout(ctx, c); err != nil || live(c) {
		t.Fatalf("logout: %v, live %v", err, live(c))
	}

	d1, d2 := newSession(), newSession()
	if err := e.s.ChangePassword(ctx, u.ID, "wrong", "new-password-1", d1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := e.s.ChangePassword(ctx, u.ID, "password-sue", "new-password-1", d1); err != nil {
		t.Fatal(err)
	}
	if !live(d1) || live(d2) {
		t.Fatalf("after a password change: this session %v, the other %v", live(d1), live(d2))
	}
	if _, err := e.s.Login(ctx, "sue", "new-password-1"); err != nil {
		t.Fatal(err)
	}

	disabled := true
	if _, err := e.s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if live(d1) {
		t.Fatal("a disabled user's session still works")
	}
	if _, _, err := e.s.CreateSession(ctx, u.ID, "", ""); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("session for a disabled user: %v", err)
	}
}

// TestSendFailureNotifies: a failed message leaves its sender a
// notification (kind send_failed) that does not count as unread in the
// conversation.
func TestSendFailureNotifies(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	u := e.user("fay", model.RoleStaff, model.VisibilityAll, false)
	res := e.send(u, "hello", "+447911123456")
	m := res.Messages[0]
	sub := e.s.Bus().Subscribe(8, nil)
	defer sub.Close()
	failed := e.message(m.ID)
	failed.State, failed.Reason = model.StateFailed, "the network refused it"
	e.s.PublishStatus(model.StateQueued, failed)
	page, err := e.s.Notifications(ctx, u.ID, Page{})
	notes := page.Items
	if err != nil || len(notes) != 1 || notes[0].Kind != NoticeSendFailed || notes[0].MessageID != m.ID {
		t.Fatalf("notifications %+v %v", notes, err)
	}
	if n, _ := e.s.NotificationCount(ctx, u.ID); n != 0 {
		t.Fatalf("unread count %d, want 0 (failures are not unread messages)", n)
	}
	// One event for the change, then the notification.
	var names []string
	for len(names) < 2 {
		names = append(names, (<-sub.C).EventName())
	}
	if names[0] != EventMessageFailed || names[1] != EventNotification {
		t.Fatalf("events %v", names)
	}
}

// TestSetIncludeMarketing takes effect on the next listing.
func TestSetIncludeMarketing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	u := e.user("max", model.RoleStaff, model.VisibilityAll, false)
	e.send(u, "one", "+447911123456")
	e.clock.Advance(time.Second)
	e.send(u, "sale", "+447911123457", "+447911123458")
	first := func() string {
		p, err := e.s.Conversations(ctx, u.ID, ConversationQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items[0].Number
	}
	if first() != "+447911123456" {
		t.Fatal("marketing sorted first without the option")
	}
	if _, err := e.s.SetIncludeMarketing(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if first() == "+447911123456" {
		t.Fatal("the option did not take effect")
	}
}

// TestCheckNumber tells impossible numbers from unknown ranges.
func TestCheckNumber(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		in      string
		number  string
		problem bool
		unknown bool
	}{
		{"07911 123456", "+447911123456", false, false},
		{"12", "", true, false},
		{"+447700900555", "+447700900555", false, true}, // Ofcom drama range: sent, with a warning
		{"80010", "80010", false, false},                // a short code
		{"MyBank", "", true, false},
	}
	for _, c := range cases {
		got := e.s.CheckNumber(c.in)
		if got.Number != c.number || (got.Problem != "") != c.problem || got.UnknownRange != c.unknown {
			t.Errorf("CheckNumber(%q) = %+v", c.in, got)
		}
	}
}

// TestBulkFailureNotifiesNobody: a failed message of a bulk send leaves no
// notification of its own (the failures listing has it; its bulk send
// gets one for all its failures, TestBulkFailuresOneNoticePerSend).
func TestBulkFailureNotifiesNobody(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	u := e.user("bea", model.RoleStaff, model.VisibilityAll, false)
	res := e.send(u, "sale", "+447911123456", "+447911123457")
	failed := e.message(res.Messages[0].ID)
	failed.State, failed.Reason = model.StateFailed, "the network refused it"
	e.s.PublishStatus(model.StateQueued, failed)
	page, err := e.s.Notifications(ctx, u.ID, Page{})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("notifications %+v %v", page.Items, err)
	}
}
