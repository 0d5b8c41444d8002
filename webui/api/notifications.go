package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// Unread counts and notifications are per user: these routes act for the
// token's own user (there is no ?user=, an admin does not read or clear a
// colleague's badge).

type NotificationView struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	MessageID string    `json:"message_id,omitempty"`
	BatchID   string    `json:"batch_id,omitempty"`
	Number    string    `json:"number,omitempty"`
	Text      string    `json:"text,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

type NotificationList struct {
	// Count is every uncleared notification, not only this page's.
	Count      int                `json:"count"`
	Items      []NotificationView `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

type Cleared struct {
	Cleared int `json:"cleared"`
}

func viewNotification(n model.Notification) NotificationView {
	v := NotificationView{ID: n.ID.String(), Kind: n.Kind, Number: n.Number, Text: n.Text, CreatedAt: n.CreatedAt}
	if n.MessageID != 0 {
		v.MessageID = n.MessageID.String()
	}
	if n.BatchID != 0 {
		v.BatchID = n.BatchID.String()
	}
	return v
}

func (s *Server) markRead(c *gin.Context) {
	number, ok := s.pathConversation(c)
	if !ok {
		return
	}
	n, err := s.inbox.MarkRead(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, number)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, Cleared{Cleared: n})
}

func (s *Server) listNotifications(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	np, err := s.inbox.Notifications(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, p)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := NotificationList{Count: np.Count, Items: make([]NotificationView, 0, len(np.Items)), NextCursor: np.Next}
	for _, n := range np.Items {
		out.Items = append(out.Items, viewNotification(n))
	}
	httpkit.WriteJSON(c, http.StatusOK, out)
}

func (s *Server) clearNotifications(c *gin.Context) {
	n, err := s.inbox.ClearNotifications(c.Request.Context(), httpkit.PrincipalFrom(c).UserID)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, Cleared{Cleared: n})
}
