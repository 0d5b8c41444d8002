package api

import (
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// sseHeartbeat keeps proxies from closing an idle stream.
const sseHeartbeat = 15 * time.Second

// streamEvents streams the events the principal's user may see (the core
// applies visibility) as server-sent events. The handler runs in the
// request's goroutine until the client goes away or the server drains; the
// gin.Context never leaves it.
func (s *Server) streamEvents(c *gin.Context) {
	sub := s.events.Subscribe(httpkit.PrincipalFrom(c).UserID)
	defer sub.Close()
	stream, ok := httpkit.StartSSE(c, "gsmgate events")
	if !ok {
		s.sh.Fail(c, httpkit.ErrInternal.With(nil, "streaming is not supported by this connection"))
		return
	}
	ctx := c.Request.Context()
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.sh.Closing:
			return
		case <-tick.C:
			if stream.Ping() != nil {
				return
			}
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if _, isNote := e.(*gateway.NotificationAdded); isNote {
				continue // the API streams message and modem events
			}
			body, err := json.Marshal(sseEvent(e))
			if err != nil {
				s.sh.Log.Error("api: encode event", "type", e.EventName(), "error", err)
				continue
			}
			if stream.Event(e.EventName(), body) != nil {
				return
			}
		}
	}
}

// Event is the data of one server-sent event.
type Event struct {
	Type    string       `json:"type"`
	At      time.Time    `json:"at"`
	Message *MessageView `json:"message,omitempty"`
	Modem   *ModemEvent  `json:"modem,omitempty"`
}

// ModemEvent is what a modem.state event knows: the new state and why, not
// a full status (signal, registration, leased would read as zero values).
type ModemEvent struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func sseEvent(e gateway.Event) Event {
	b := Event{Type: e.EventName(), At: e.EventTime()}
	switch e := e.(type) {
	case *gateway.ModemStateChanged:
		b.Modem = &ModemEvent{Name: e.Modem, State: e.State, LastError: e.Detail, UpdatedAt: e.At}
	case *gateway.MessageReceived:
		v := viewMessage(e.Message, nil)
		b.Message = &v
	case *gateway.StatusChanged:
		v := viewMessage(e.Message, nil)
		b.Message = &v
	}
	return b
}
