package webui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

// sseHeartbeat keeps proxies from closing an idle stream.
const sseHeartbeat = 15 * time.Second

// streamEvents streams the events the principal's user may see (the core
// applies visibility) as server-sent events. The handler runs in the
// request's goroutine until the client goes away or the server drains; the
// gin.Context never leaves it.
func (s *Server) streamEvents(c *gin.Context) {
	p := principal(c)
	flusher, ok := c.Writer.(http.Flusher)
	if !ok {
		s.fail(c, ErrInternal.With(nil, "streaming is not supported by this connection"))
		return
	}
	sub := s.events.Subscribe(p.UserID)
	defer sub.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	fmt.Fprint(c.Writer, ": gsmgate events\nretry: 3000\n\n")
	flusher.Flush()

	ctx := c.Request.Context()
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	var seq uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streams:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(c.Writer, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if _, isNote := e.(*gateway.NotificationAdded); isNote {
				continue // the API streams message and modem events
			}
			body, err := json.Marshal(sseEvent(e))
			if err != nil {
				s.log.Error("webui: encode event", "type", e.EventName(), "error", err)
				continue
			}
			seq++
			if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: %s\ndata: %s\n\n", seq, e.EventName(), body); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

type sseBody struct {
	Type    string       `json:"type"`
	At      time.Time    `json:"at"`
	Message *messageView `json:"message,omitempty"`
	Modem   *modemEvent  `json:"modem,omitempty"`
}

// modemEvent is what a modem.state event knows: the new state and why, not
// a full status (signal, registration, leased would read as zero values).
type modemEvent struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

func sseEvent(e gateway.Event) sseBody {
	b := sseBody{Type: e.EventName(), At: e.EventTime()}
	switch e := e.(type) {
	case *gateway.ModemStateChanged:
		b.Modem = &modemEvent{Name: e.Modem, State: e.State, LastError: e.Detail, UpdatedAt: e.At}
	case *gateway.MessageReceived:
		v := viewMessage(e.Message, nil)
		b.Message = &v
	case *gateway.StatusChanged:
		v := viewMessage(e.Message, nil)
		b.Message = &v
	}
	return b
}
