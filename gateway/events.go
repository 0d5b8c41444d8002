package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Event is one of the typed events on the Bus: *MessageReceived,
// *StatusChanged, *SendFailed, *ModemStateChanged, *NotificationAdded.
type Event interface {
	// EventName is the name used by SSE and webhooks ("message.received").
	EventName() string
	// EventTime is when the gateway raised it.
	EventTime() time.Time
}

// MessageReceived: an incoming message was stored (and associated).
type MessageReceived struct {
	At      time.Time
	Message model.Message
}

// StatusChanged: a message moved to another state.
type StatusChanged struct {
	At       time.Time
	Message  model.Message
	Previous model.State
}

// SendFailed: a message failed (failed, unknown or expired), with the
// reason in Message.Reason.
type SendFailed struct {
	At      time.Time
	Message model.Message
}

// ModemStateChanged: a modem came up, went down, changed network state.
type ModemStateChanged struct {
	At    time.Time
	Modem string
	State string
	// Detail is a human sentence (operator, signal, error).
	Detail string
}

// NotificationAdded: a user got a notification.
type NotificationAdded struct {
	At           time.Time
	Notification model.Notification
}

// EventName implements Event.
func (*MessageReceived) EventName() string { return "message.received" }

// EventName implements Event.
func (*StatusChanged) EventName() string { return "message.status" }

// EventName implements Event.
func (*SendFailed) EventName() string { return "message.failed" }

// EventName implements Event.
func (*ModemStateChanged) EventName() string { return "modem.state" }

// EventName implements Event.
func (*NotificationAdded) EventName() string { return "notification" }

// EventTime implements Event.
func (e *MessageReceived) EventTime() time.Time { return e.At }

// EventTime implements Event.
func (e *StatusChanged) EventTime() time.Time { return e.At }

// EventTime implements Event.
func (e *SendFailed) EventTime() time.Time { return e.At }

// EventTime implements Event.
func (e *ModemStateChanged) EventTime() time.Time { return e.At }

// EventTime implements Event.
func (e *NotificationAdded) EventTime() time.Time { return e.At }

// Bus is the in-process event bus. Publish never blocks: each subscriber has
// its own buffer, and an event that does not fit in a full buffer is dropped
// for that subscriber only and counted (Subscription.Dropped). Consumers
// that must not lose anything (webhooks) read the durable state from the
// store after a gap; the bus is a doorbell, not the record.
type Bus struct {
	mu     sync.RWMutex
	subs   map[*Subscription]struct{}
	closed bool
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscription receives events on C until Close.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	bus     *Bus
	filter  func(Event) bool
	dropped atomic.Uint64
	once    sync.Once
}

// Subscribe adds a subscriber with a buffer of size events (default 256).
// filter, when not nil, picks the events it wants (it runs in Publish and
// must be quick).
func (b *Bus) Subscribe(size int, filter func(Event) bool) *Subscription {
	if size <= 0 {
		size = 256
	}
	c := make(chan Event, size)
	s := &Subscription{C: c, c: c, bus: b, filter: filter}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(c)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Dropped counts the events this subscriber lost because its buffer was
// full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and closes C.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		defer s.bus.mu.Unlock()
		if _, ok := s.bus.subs[s]; ok {
			delete(s.bus.subs, s)
			close(s.c)
		}
	})
}

// Publish hands e to every subscriber without waiting for any.
func (b *Bus) Publish(e Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
}

// Close closes every subscription; later Subscribes get a closed channel.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.c)
	}
}
