package gateway

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	s     *Service
	db    *store.DB
	clock *fakeClock
	path  string
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "gsmgate.db")
	db, err := store.Open(path, store.Options{Now: clock.Now, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if o.DefaultCountry == "" {
		o.DefaultCountry = "GB"
	}
	if o.PasswordCost == 0 {
		o.PasswordCost = 4 // bcrypt.MinCost: tests hash many passwords
	}
	s, err := New(db, clock, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, db: db, clock: clock, path: path}
}

func (e *env) user(name string, role model.Role, vis model.Visibility, mkt bool) model.User {
	e.t.Helper()
	u, err := e.s.CreateUser(context.Background(), NewUser{Name: name, Password: "password-" + name, Role: role, Visibility: vis, IncludeMarketedWhenSorting: mkt})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) send(u model.User, text string, to ...string) *SendResult {
	e.t.Helper()
	res, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, To: to, Text: text})
	if err != nil {
		e.t.Fatalf("send to %v: %v", to, err)
	}
	e.clock.Advance(time.Second)
	return res
}

// message reads one message from the store.
func (e *env) message(id model.ID) model.Message {
	e.t.Helper()
	var m model.Message
	if err := e.db.View(func(tx *store.Tx) error {
		var err error
		m, err = tx.Message(id)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) receive(from, text string) model.Message {
	e.t.Helper()
	m, err := e.s.AcceptIncoming(context.Background(), Incoming{From: from, Text: text, Modem: "m1"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	return m
}

func (e *env) numbers(viewer model.User, unassigned bool) []string {
	e.t.Helper()
	p, err := e.s.Conversations(context.Background(), viewer.ID, ConversationQuery{Unassigned: unassigned, Page: Page{Limit: 100}})
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.Number)
	}
	return out
}

func (e *env) thread(viewer model.User, number string) ([]string, error) {
	e.t.Helper()
	p, err := e.s.Thread(context.Background(), viewer.ID, number, Page{Limit: 100})
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, m := range p.Messages {
		out = append(out, m.Text)
	}
	return out, nil
}

// Numbers valid under libphonenumber's GB metadata.
const (
	numA = "+447911123451"
	numB = "+447911123452"
	numC = "+447911123453"
	numD = "+447911123454"
)

// notes lists a user's notifications (the first page).
func (e *env) notes(user model.ID) ([]model.Notification, error) {
	p, err := e.s.Notifications(context.Background(), user, Page{})
	return p.Items, err
}
