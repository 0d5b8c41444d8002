package webhook

import (
	"context"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// EventSource is where the sender takes the gateway's events from: the core's
// one subscription (*gateway.Service), as everyone (webhooks are an
// admin's and see every event).
type EventSource interface {
	Subscribe(viewer model.ID) *gateway.Subscription
}

// Bridge wakes the sender on the gateway's events until ctx ends. It
// subscribes when called; use Subscribe then Run to be subscribed before
// the gateway starts publishing.
func (s *Sender) Bridge(ctx context.Context, events EventSource) { s.Subscribe(events).Run(ctx) }

// BusBridge is a subscription of the sender to the bus.
//
// Message events are not taken from the bus: the store writes them to its
// event log in the transaction that makes them happen, and the bus only
// rings the doorbell, so a message event is turned into deliveries (by
// Catchup) within a commit of happening, and a missed doorbell (a full
// buffer, a crash after the commit) costs at most a Poll of latency, never
// the event. modem.state is the exception: it changes no stored state, so
// it is enqueued from the bus and is best-effort (lost in a crash or a bus
// overflow; the next change says the state again).
type BusBridge struct {
	s   *Sender
	sub *gateway.Subscription
}

// Subscribe subscribes to the gateway's events now; Run then acts on them.
func (s *Sender) Subscribe(events EventSource) *BusBridge {
	return &BusBridge{s: s, sub: events.Subscribe(gateway.Everyone)}
}

// Run consumes the event log at once (catching up with what was committed
// while no sender ran), then at every bus event, until ctx ends.
func (b *BusBridge) Run(ctx context.Context) {
	s, sub := b.s, b.sub
	defer sub.Close()
	catchup := func() {
		if _, err := s.Catchup(context.WithoutCancel(ctx)); err != nil {
			s.o.Logger.Error("webhook: event log", "error", err)
		}
	}
	catchup()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case ge, ok := <-sub.C:
			if !ok {
				return
			}
			// Take what else is waiting, so that a burst of events costs
			// one pass over the log.
			ring := b.handle(ctx, ge)
		more:
			for {
				select {
				case ge, ok := <-sub.C:
					if !ok {
						break more
					}
					ring = b.handle(ctx, ge) || ring
				default:
					break more
				}
			}
			if ring {
				catchup()
			}
			if d := sub.Dropped(); d != dropped {
				s.o.Logger.Warn("webhook: bus events missed (subscriber behind); message events are read from the store's log, modem.state events are lost",
					"missed", d-dropped)
				dropped = d
			}
		}
	}
}

// handle enqueues a modem.state event and says whether ge is a message
// event (the log has something new).
func (b *BusBridge) handle(ctx context.Context, ge gateway.Event) bool {
	switch ge.(type) {
	case *gateway.MessageReceived, *gateway.StatusChanged:
		return true
	case *gateway.ModemStateChanged:
		if e, ok := eventFor(ge); ok {
			if err := b.s.Enqueue(context.WithoutCancel(ctx), e); err != nil {
				b.s.o.Logger.Error("webhook: enqueue", "event", e.Name, "error", err)
			}
		}
	}
	return false
}

// messageData is the native payload of a message event.
type messageData struct {
	ID        string        `json:"id"`
	BatchID   string        `json:"batch_id,omitempty"`
	Direction string        `json:"direction"`
	Number    string        `json:"number"`
	Text      string        `json:"text,omitempty"`
	Parts     int           `json:"parts"`
	State     model.State   `json:"state"`
	Error     string        `json:"error,omitempty"`
	Ref       *model.CRMRef `json:"ref,omitempty"`
	Modem     string        `json:"modem,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	At        time.Time     `json:"at"`
}

func dataOf(m model.Message, at time.Time) messageData {
	d := messageData{ID: m.ID.String(), Direction: string(m.Direction), Number: m.Number, Text: m.Text, Parts: m.Parts,
		State: m.State, Error: m.Reason, Ref: m.CRM, Modem: m.Modem, CreatedAt: m.CreatedAt, At: at}
	if m.BatchID != 0 {
		d.BatchID = m.BatchID.String()
	}
	return d
}

func owners(m model.Message) []model.ID {
	if m.UserID != 0 {
		return append([]model.ID{m.UserID}, m.Users...)
	}
	return m.Users
}

// eventFor maps a bus event to a webhook event, with SMSGate's payload for
// the events it knows.
func eventFor(ge gateway.Event) (Event, bool) {
	switch e := ge.(type) {
	case *gateway.MessageReceived:
		m := e.Message
		return Event{Name: EventReceived, Data: dataOf(m, e.At), UserIDs: m.Users, SMSGate: map[string]any{
			"messageId": m.ID.String(), "message": m.Text, "phoneNumber": m.Number, "simNumber": nil,
			"receivedAt": m.CreatedAt.Format(time.RFC3339)}}, true
	case *gateway.StatusChanged:
		m := e.Message
		switch e.EventName() {
		case gateway.EventMessageSent:
			return Event{Name: EventSent, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
				"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil, "partsCount": m.Parts,
				"sentAt": e.At.Format(time.RFC3339)}}, true
		case gateway.EventMessageDelivered:
			return Event{Name: EventDelivered, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
				"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil,
				"deliveredAt": e.At.Format(time.RFC3339)}}, true
		case gateway.EventMessageFailed:
			if e.Previous.IsFailure() {
				return Event{}, false // failed before (unknown, then failed on retry's refusal)
			}
			return Event{Name: EventFailed, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
				"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil, "reason": m.Reason,
				"failedAt": e.At.Format(time.RFC3339)}}, true
		}
	case *gateway.ModemStateChanged:
		return Event{Name: EventModem, Data: map[string]any{"modem": e.Modem, "state": e.State, "detail": e.Detail, "at": e.At}}, true
	}
	return Event{}, false
}

// ExportReceived queues again the sms:received deliveries of incoming
// messages (SMSGate's inbox export), only to webhooks registered with
// SMSGate's event name.
func (s *Sender) ExportReceived(ctx context.Context, ms []model.Message) error {
	for _, m := range ms {
		e, _ := eventFor(&gateway.MessageReceived{At: m.CreatedAt, Message: m})
		e.OnlySMSGate = true
		if err := s.Enqueue(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
