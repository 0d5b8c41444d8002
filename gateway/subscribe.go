package gateway

import (
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Everyone is the viewer of the gateway's own consumers (metrics, webhooks,
// which belong to admins): Subscribe(Everyone) sees every event.
const Everyone model.ID = 0

// Subscribe delivers the events viewer may see until Close: the one
// visibility gate for streams, the same rule as every read (a message event
// is seen exactly when the viewer may read the message; a notification by
// the user it is for; modem states by everyone). The buffer holds 1024
// events; a reader that falls behind loses events (Dropped counts them)
// rather than slowing the gateway.
func (s *Service) Subscribe(viewer model.ID) *Subscription {
	raw := s.bus.Subscribe(1024, nil)
	c := make(chan Event, 1024)
	out := &Subscription{C: c, c: c, stop: raw.Close, upstream: raw}
	go func() {
		defer close(c)
		for e := range raw.C {
			if viewer != Everyone && !s.visible(viewer, e) {
				continue
			}
			select {
			case c <- e:
			default:
				out.dropped.Add(1)
			}
		}
	}()
	return out
}

// visible applies the read rules to one event.
func (s *Service) visible(viewer model.ID, e Event) bool {
	var m model.Message
	switch e := e.(type) {
	case *ModemStateChanged:
		return true
	case *NotificationAdded:
		return e.Notification.UserID == viewer
	case *MessageReceived:
		m = e.Message
	case *StatusChanged:
		m = e.Message
	default:
		return false
	}
	ok := false
	_ = s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		ok = err == nil && canSee(tx, u, &m)
		return nil
	})
	return ok
}
