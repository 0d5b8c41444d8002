package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// The UI's event stream (GET /ui/events): the core's bus as the viewer
// may see it. Four event names:
//
//   - "notification": one of the viewer's notifications (an incoming SMS,
//     a send failure), with the notification's ID as the event ID. These
//     are stored, so a browser that reconnects with Last-Event-ID gets the
//     ones it missed: no toast is lost to a dropped connection.
//   - "message": a message the viewer may see was received or
//     changed state; the page updates its bubble or reloads the thread.
//     These carry no ID: after a gap the page reloads what it shows.
//   - "modem": a modem changed state; the modems dashboard reloads.
//   - "hello": sent first, so the page knows the stream is up.

type noteEvent struct {
	noteView
	Number string `json:"number,omitempty"`
}

type messageEvent struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	Direction string `json:"direction"`
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
}

func (h *Handler) events(c *gin.Context) {
	v := viewerOf(c)
	flusher, ok := c.Writer.(http.Flusher)
	if !ok {
		c.String(http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	ctx := c.Request.Context()
	uid := v.User.ID
	// Subscribe before reading what was missed, so nothing falls between.
	// The core's subscription passes only what this viewer may see.
	sub := h.gw.Subscribe(uid)
	defer sub.Close()

	hdr := c.Writer.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := c.Writer
	send := func(id, name string, body any) bool {
		b, err := json.Marshal(body)
		if err != nil {
			return true
		}
		if id != "" {
			_, err = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", id, name, b)
		} else {
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		}
		flusher.Flush()
		return err == nil
	}
	fmt.Fprint(w, "retry: 2000\n\n")
	if !send("", "hello", map[string]string{"user": v.User.Name}) {
		return
	}

	// Replay the notifications newer than the last one the browser saw.
	// The browser's own Last-Event-ID wins (a reconnect); a new page passes
	// the newest notification the tab has shown as ?after=.
	var last model.ID
	lid := c.Request.Header.Get("Last-Event-ID")
	if lid == "" {
		lid = c.Query("after")
	}
	if lid != "" {
		if id, err := model.ParseID(lid); err == nil {
			last = id
			page, err := h.gw.Notifications(ctx, uid, gateway.Page{Limit: 200})
			notes := page.Items
			if err != nil {
				h.log.Error("ui: events replay", "error", err)
			}
			for i := len(notes) - 1; i >= 0; i-- { // oldest first
				if n := notes[i]; n.ID > last {
					if !send(n.ID.String(), "notification", noteEvent{noteView: h.noteOf(ctx, n, map[string]string{}), Number: n.Number}) {
						return
					}
					last = n.ID
				}
			}
		}
	}

	tick := time.NewTicker(h.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-tick.C:
			// A session ended elsewhere (logout, password change, expiry)
			// ends its streams too.
			if _, _, err := h.gw.SessionByToken(ctx, v.secret); err != nil {
				return
			}
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			switch e := e.(type) {
			case *gateway.NotificationAdded:
				n := e.Notification
				if n.ID <= last {
					continue // already replayed
				}
				last = n.ID
				if !send(n.ID.String(), "notification", noteEvent{noteView: h.noteOf(ctx, n, map[string]string{}), Number: n.Number}) {
					return
				}
			case *gateway.StatusChanged:
				if !sendMessage(&e.Message, send) {
					return
				}
			case *gateway.MessageReceived:
				if !sendMessage(&e.Message, send) {
					return
				}
			case *gateway.ModemStateChanged:
				if !send("", "modem", modemEvent{Modem: e.Modem, State: e.State, Detail: e.Detail}) {
					return
				}
			}
		}
	}
}

type modemEvent struct {
	Modem  string `json:"modem"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

func sendMessage(m *model.Message, send func(id, name string, body any) bool) bool {
	return send("", "message", messageEvent{ID: m.ID.String(), Number: m.Number, Direction: string(m.Direction),
		State: string(m.State), Reason: m.Reason})
}
