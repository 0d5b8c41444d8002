package webui

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// Unread counts and notifications are per user: these routes act for the
// token's own user (there is no ?user=, an admin does not read or clear a
// colleague's badge).

type notificationView struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	MessageID string    `json:"message_id,omitempty"`
	Number    string    `json:"number,omitempty"`
	Text      string    `json:"text,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type notificationList struct {
	// Count is every uncleared notification, not only this page's.
	Count      int                `json:"count"`
	Items      []notificationView `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

type clearedView struct {
	Cleared int `json:"cleared"`
}

func viewNotification(n model.Notification) notificationView {
	v := notificationView{ID: n.ID.String(), Kind: n.Kind, Number: n.Number, Text: n.Text, CreatedAt: n.CreatedAt}
	if n.MessageID != 0 {
		v.MessageID = n.MessageID.String()
	}
	return v
}

func (s *Server) markRead(c *gin.Context) {
	number, ok := s.pathNumber(c)
	if !ok {
		return
	}
	n, err := s.gw.MarkRead(c.Request.Context(), principal(c).viewer(), number)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, clearedView{Cleared: n})
}

func (s *Server) listNotifications(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ns, count, next, err := s.gw.Notifications(c.Request.Context(), principal(c).viewer(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := notificationList{Count: count, Items: make([]notificationView, 0, len(ns)), NextCursor: next}
	for _, n := range ns {
		out.Items = append(out.Items, viewNotification(n))
	}
	writeJSON(c, http.StatusOK, out)
}

func (s *Server) clearNotifications(c *gin.Context) {
	n, err := s.gw.ClearNotifications(c.Request.Context(), principal(c).viewer())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, clearedView{Cleared: n})
}
