package gateway

import (
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// NoticeSendFailed is the Kind of the notification a sending user gets
// when their message fails (failed, unknown or expired); it stays in the
// UI's sidebar until cleared, as incoming messages' notifications do.
const NoticeSendFailed = "send_failed"

// noteFailure records a NoticeSendFailed notification for m's sender and
// publishes it. It leaves Number empty so that the conversation's unread
// badge counts only incoming messages; the recipient is in Text. A bulk
// (marketing) message gets none of its own: a send to thousands failing
// would bury the sender in notices; its bulk send gets one for all its
// failures (bulkNotices).
func (s *Service) noteFailure(now time.Time, m model.Message) {
	if m.UserID == 0 || m.Direction != model.Outgoing {
		return
	}
	if m.Marketing {
		if m.BatchID != 0 {
			s.bulkNotes.failed(m.BatchID, m.UserID)
		}
		return
	}
	reason := m.Reason
	if reason == "" {
		reason = string(m.State)
	}
	var n model.Notification
	err := s.st.Update(func(tx *store.Tx) error {
		n = model.Notification{ID: tx.NewID(), UserID: m.UserID, Kind: NoticeSendFailed, MessageID: m.ID,
			Text: fmt.Sprintf("%s: %s", m.Number, reason), CreatedAt: now}
		return tx.AddNotification(&n)
	})
	if err != nil {
		s.log.Error("gateway: send failure notification", "message", m.ID, "error", err)
		return
	}
	s.bus.Publish(&NotificationAdded{At: now, Notification: n})
}
