package webhook

import (
	"context"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Bridge turns the gateway's bus events into persisted deliveries until ctx
// ends. It subscribes when called; use Subscribe then Run to be subscribed
// before the gateway starts publishing.
func (s *Sender) Bridge(ctx context.Context, bus *gateway.Bus) { s.Subscribe(bus).Run(ctx) }

// BusBridge is a subscription of the sender to the bus.
type BusBridge struct {
	s   *Sender
	sub *gateway.Subscription
}

// Subscribe subscribes to bus now; Run then turns its events into
// deliveries. The bus drops events for a subscriber that falls behind: the
// buffer here is large and a drop is logged with the count.
func (s *Sender) Subscribe(bus *gateway.Bus) *BusBridge {
	return &BusBridge{s: s, sub: bus.Subscribe(4096, nil)}
}

// Run enqueues deliveries for the subscribed events until ctx ends.
func (b *BusBridge) Run(ctx context.Context) {
	s, sub := b.s, b.sub
	defer sub.Close()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case ge, ok := <-sub.C:
			if !ok {
				return
			}
			if e, ok := eventFor(ge); ok {
				if err := s.Enqueue(context.WithoutCancel(ctx), e); err != nil {
					s.o.Logger.Error("webhook: enqueue", "event", e.Name, "error", err)
				}
			}
			if d := sub.Dropped(); d != dropped {
				s.o.Logger.Warn("webhook: bus events lost (subscriber behind)", "lost", d-dropped)
				dropped = d
			}
		}
	}
}

// messageData is the native payload of a message event.
type messageData struct {
	ID        string        `json:"id"`
	BatchID   string        `json:"batch_id,omitempty"`
	Direction string        `json:"direction"`
	Number    string        `json:"number"`
	Text      string        `json:"text,omitempty"`
	Parts     int           `json:"parts"`
	State     store.State   `json:"state"`
	Error     string        `json:"error,omitempty"`
	Ref       *store.CRMRef `json:"ref,omitempty"`
	Modem     string        `json:"modem,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	At        time.Time     `json:"at"`
}

func dataOf(m store.Message, at time.Time) messageData {
	d := messageData{ID: m.ID.String(), Direction: string(m.Direction), Number: m.Number, Text: m.Text, Parts: m.Parts,
		State: m.State, Error: m.Reason, Ref: m.CRM, Modem: m.Modem, CreatedAt: m.CreatedAt, At: at}
	if m.BatchID != 0 {
		d.BatchID = m.BatchID.String()
	}
	return d
}

func owners(m store.Message) []store.ID {
	if m.UserID != 0 {
		return append([]store.ID{m.UserID}, m.Users...)
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
		switch m.State {
		case store.StateSent:
			return Event{Name: EventSent, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
				"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil, "partsCount": m.Parts,
				"sentAt": e.At.Format(time.RFC3339)}}, true
		case store.StateDelivered:
			return Event{Name: EventDelivered, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
				"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil,
				"deliveredAt": e.At.Format(time.RFC3339)}}, true
		}
	case *gateway.SendFailed:
		m := e.Message
		return Event{Name: EventFailed, Data: dataOf(m, e.At), UserIDs: owners(m), SMSGate: map[string]any{
			"messageId": m.ID.String(), "phoneNumber": m.Number, "simNumber": nil, "reason": m.Reason,
			"failedAt": e.At.Format(time.RFC3339)}}, true
	case *gateway.ModemStateChanged:
		return Event{Name: EventModem, Data: map[string]any{"modem": e.Modem, "state": e.State, "detail": e.Detail, "at": e.At}}, true
	}
	return Event{}, false
}

// ExportReceived queues again the sms:received deliveries of incoming
// messages (SMSGate's inbox export), only to webhooks registered with
// SMSGate's event name.
func (s *Sender) ExportReceived(ctx context.Context, ms []store.Message) error {
	for _, m := range ms {
		e, _ := eventFor(&gateway.MessageReceived{At: m.CreatedAt, Message: m})
		e.OnlySMSGate = true
		if err := s.Enqueue(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
