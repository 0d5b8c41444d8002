package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func TestBusSlowSubscriberNeverBlocks(t *testing.T) {
	b := NewBus()
	slow := b.Subscribe(1, nil) // never read
	fast := b.Subscribe(1000, nil)
	onlyModem := b.Subscribe(10, func(e Event) bool { _, ok := e.(*ModemStateChanged); return ok })
	var got []Event
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for e := range fast.C {
			got = append(got, e)
		}
	}()
	for i := 0; i < 500; i++ {
		b.Publish(&StatusChanged{Message: model.Message{Attempts: i}})
	}
	b.Publish(&ModemStateChanged{Modem: "m1", State: "up"})
	fast.Close()
	wg.Wait()
	if len(got) != 501 {
		t.Fatalf("fast subscriber got %d events, want 501", len(got))
	}
	if got[0].(*StatusChanged).Message.Attempts != 0 || got[499].(*StatusChanged).Message.Attempts != 499 {
		t.Fatal("events out of order")
	}
	if slow.Dropped() != 500 || len(slow.C) != 1 {
		t.Fatalf("slow subscriber: dropped %d, buffered %d; want 500 and 1", slow.Dropped(), len(slow.C))
	}
	if len(onlyModem.C) != 1 || onlyModem.Dropped() != 0 {
		t.Fatalf("filtered subscriber got %d", len(onlyModem.C))
	}
	b.Close()
	if _, ok := <-onlyModem.C; !ok {
		t.Fatal("buffered event lost at close")
	}
	if _, ok := <-onlyModem.C; ok {
		t.Fatal("channel open after bus close")
	}
	slow.Close() // closing twice (bus then subscriber) is fine
}

func TestSendAndReceiveWithAStuckSubscriber(t *testing.T) {
	e := newEnv(t, Options{})
	stuck := e.s.Bus().Subscribe(1, nil)
	defer stuck.Close()
	u := e.user("u", model.RoleAdmin, model.VisibilityAll, false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			if _, err := e.s.AcceptIncoming(context.Background(), Incoming{From: numA, Text: "x"}); err != nil {
				t.Error(err)
				return
			}
		}
		if _, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, To: []string{numA}, Text: "y"}); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a deadlock guard, not a timing assertion
		t.Fatal("gateway blocked on a subscriber that does not read")
	}
	if stuck.Dropped() == 0 {
		t.Fatal("nothing dropped: the subscriber was not full")
	}
}

func TestIncomingEvents(t *testing.T) {
	e := newEnv(t, Options{})
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	sub := e.s.Bus().Subscribe(10, nil)
	defer sub.Close()
	m := e.receive(numA, "hello")
	ev1 := (<-sub.C).(*MessageReceived)
	ev2 := (<-sub.C).(*NotificationAdded)
	if ev1.Message.ID != m.ID || ev2.Notification.UserID != admin.ID || ev2.Notification.MessageID != m.ID {
		t.Fatalf("events %+v %+v", ev1, ev2)
	}
	if ev1.EventName() != "message.received" || ev2.EventName() != "notification" {
		t.Fatal("event names")
	}
}

// A derived subscription (Service.Subscribe) counts as dropped what the bus
// buffer it reads could not take, not only what its own buffer refused: a
// reader told "nothing dropped" after such a loss would not catch up.
func TestDerivedSubscriptionCountsUpstreamDrops(t *testing.T) {
	bus := NewBus()
	raw := bus.Subscribe(1, nil)
	c := make(chan Event, 1)
	out := &Subscription{C: c, c: c, stop: raw.Close, upstream: raw}
	for range 3 {
		bus.Publish(&NotificationAdded{})
	}
	if got := out.Dropped(); got != 2 {
		t.Fatalf("Dropped() = %d, want the 2 the bus buffer refused", got)
	}
	out.dropped.Add(1)
	if got := out.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d, want 3 (2 upstream + 1 own)", got)
	}
}
