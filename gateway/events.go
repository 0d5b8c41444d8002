package gateway

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// The event names: the one vocabulary of SSE, metrics, webhooks (whose
// SMSGate names map from these) and the UI. Each change raises one event.
const (
	EventMessageReceived  = "message.received"
	EventMessageStatus    = "message.status" // queued again, submitting
	EventMessageSent      = "message.sent"
	EventMessageDelivered = "message.delivered"
	// EventMessageFailed: failed, unknown or expired (Message.State says
	// which, Message.Reason why).
	EventMessageFailed    = "message.failed"
	EventMessageCancelled = "message.cancelled"
	EventModemState       = "modem.state"
	EventNotification     = "notification"
)

// Event is one of the typed events on the Bus: *MessageReceived,
// *StatusChanged, *ModemStateChanged, *NotificationAdded.
type Event interface {
	// EventName is one of the Event* names.
	EventName() string
	// EventTime is when the gateway raised it.
	EventTime() time.Time
}

// MessageReceived: an incoming message was stored (and associated).
type MessageReceived struct {
	At      time.Time
	Message model.Message
}

// StatusChanged: a message moved to another state. Its name says to which
// (message.sent, message.failed...).
type StatusChanged struct {
	At       time.Time
	Message  model.Message
	Previous model.State
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
func (*MessageReceived) EventName() string { return EventMessageReceived }

// EventName implements Event: named after the new state.
func (e *StatusChanged) EventName() string {
	switch e.Message.State {
	case model.StateSent:
		return EventMessageSent
	case model.StateDelivered:
		return EventMessageDelivered
	case model.StateCancelled:
		return EventMessageCancelled
	case model.StateFailed, model.StateUnknown, model.StateExpired:
		return EventMessageFailed
	}
	return EventMessageStatus
}

// EventName implements Event.
func (*ModemStateChanged) EventName() string { return EventModemState }

// EventName implements Event.
func (*NotificationAdded) EventName() string { return EventNotification }

// EventTime implements Event.
func (e *MessageReceived) EventTime() time.Time { return e.At }

// EventTime implements Event.
func (e *StatusChanged) EventTime() time.Time { return e.At }

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
	// stop ends a derived subscription (Service.Subscribe): it closes the
	// bus subscription it reads, and its goroutine then closes c.
	stop func()
	// upstream is the bus subscription a derived one reads: an event lost
	// in its buffer is lost to this reader too, and counted with its own.
	upstream *Subscription
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

// Dropped counts the events this subscriber lost because its buffer (or,
// for a derived subscription, the bus buffer it reads) was full.
func (s *Subscription) Dropped() uint64 {
	n := s.dropped.Load()
	if s.upstream != nil {
		n += s.upstream.Dropped()
	}
	return n
}

// Close unsubscribes and closes C.
func (s *Subscription) Close() {
	if s.stop != nil {
		s.once.Do(s.stop)
		return
	}
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
