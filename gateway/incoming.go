package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Incoming is a received message, assembled by the inbox from its parts.
type Incoming struct {
	// From is the originator as received; it is normalised to E.164 when it
	// is a number, kept as is when alphanumeric.
	From     string
	Text     string
	Data     []byte
	Encoding string
	Modem    string
	// SCTS is the service centre's time stamp (zero: unknown).
	SCTS time.Time
	// Parts is how many parts arrived; Incomplete when some never did.
	Parts      int
	Incomplete bool
	// PendingKey, when set, names stored pending parts to delete in the
	// same transaction (the message they made is now stored).
	PendingKey string
	// DedupKeys are remembered in the same transaction, so the parts are
	// recognised if a modem hands them over again. When every one of them
	// was seen before, nothing is stored and AcceptIncoming returns
	// ErrDuplicate.
	DedupKeys []string
	// RawPDUs are the PDUs as received, kept with the message.
	RawPDUs [][]byte
}

// AcceptIncoming stores a received message in one transaction: it joins the
// conversation with its number and is associated with every user in
// incoming_and_outgoing mode who has sent to or received from that number
// before (outgoing_only users do not see incoming messages); with none, it
// goes to the unassigned inbox and the admins are notified. Each associated
// user gets a notification, kept until cleared. Events follow the commit.
func (s *Service) AcceptIncoming(ctx context.Context, in Incoming) (model.Message, error) {
	if err := ctxErr(ctx); err != nil {
		return model.Message{}, err
	}
	if in.From == "" {
		return model.Message{}, invalid("from", "empty originator")
	}
	number := s.ConversationNumber(in.From)
	now := s.clock.Now()
	var m model.Message
	var notes []model.Notification
	var confirm model.Message
	err := s.st.Batch(func(tx *store.Tx) error {
		notes, confirm = notes[:0], model.Message{}
		if len(in.DedupKeys) > 0 {
			seen := 0
			for _, k := range in.DedupKeys {
				if tx.SeenInbound(k) {
					seen++
				}
			}
			if seen == len(in.DedupKeys) {
				return ErrDuplicate
			}
		}
		var users []model.ID
		// (the view: a bulk message not yet filed names its sender too)
		if conv, err := tx.ConversationView(number); err == nil {
			for _, id := range conv.Users {
				u, err := tx.User(id)
				if err == nil && !u.Disabled && u.Visibility == model.VisibilityAll {
					users = append(users, id)
				}
			}
		}
		notify := slices.Clone(users)
		if len(users) == 0 {
			all, err := tx.Users()
			if err != nil {
				return err
			}
			for _, u := range all {
				if u.Role == model.RoleAdmin && !u.Disabled {
					notify = append(notify, u.ID)
				}
			}
		}
		parts := in.Parts
		if parts == 0 {
			parts = 1
		}
		m = model.Message{
			ID: tx.NewID(), Direction: model.Incoming, Number: number, Text: in.Text, Data: in.Data,
			Encoding: in.Encoding, Parts: parts, State: model.StateDelivered, Users: users,
			CreatedAt: now, DeliveredAt: in.SCTS, Modem: in.Modem, Incomplete: in.Incomplete,
			RawPDUs: in.RawPDUs,
		}
		if err := tx.InsertMessage(&m, nil); err != nil {
			return err
		}
		var err error
		if confirm, err = s.applyOptOutWord(tx, &m, now); err != nil {
			return err
		}
		for _, uid := range notify {
			n := model.Notification{ID: tx.NewID(), UserID: uid, Kind: "message_received", MessageID: m.ID,
				Number: number, Text: previewText(&m), CreatedAt: now}
			if err := tx.AddNotification(&n); err != nil {
				return err
			}
			notes = append(notes, n)
		}
		if in.PendingKey != "" {
			if err := tx.DeletePending(in.PendingKey); err != nil {
				return err
			}
		}
		for _, k := range in.DedupKeys {
			if err := tx.MarkInbound(k); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrDuplicate) {
		return model.Message{}, err
	}
	if err != nil {
		return model.Message{}, fmt.Errorf("gateway: store incoming from %s: %w", number, err)
	}
	s.log.Info("message received", "message", m.ID, "from", number, "users", len(m.Users), "modem", in.Modem, "incomplete", in.Incomplete)
	s.bus.Publish(&MessageReceived{At: now, Message: m})
	for _, n := range notes {
		s.bus.Publish(&NotificationAdded{At: now, Notification: n})
	}
	if confirm.ID != 0 {
		s.WakeOutbox()
	}
	return m, nil
}

func previewText(m *model.Message) string {
	if m.Text == "" && len(m.Data) > 0 {
		return fmt.Sprintf("[%d octets of data]", len(m.Data))
	}
	r := []rune(m.Text)
	if len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return m.Text
}

// NotificationPage is a page of a user's notifications, newest first, with
// how many they have in all (the unread badge).
type NotificationPage struct {
	Paged[model.Notification]
	Count int
}

// Notifications lists the user's notifications, newest first.
func (s *Service) Notifications(ctx context.Context, user model.ID, q Page) (NotificationPage, error) {
	var out NotificationPage
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	limit := q.limit(50, 500)
	before, err := q.idCursor()
	if err != nil {
		return out, err
	}
	err = s.st.View(func(tx *store.Tx) error {
		var err error
		out.Items, err = tx.Notifications(user, store.Page{Before: before, Limit: limit})
		out.Count = tx.UnreadTotal(user)
		return err
	})
	if len(out.Items) == limit {
		out.Next = out.Items[limit-1].ID.String()
	}
	return out, err
}

// ClearNotification removes one of the user's notifications.
func (s *Service) ClearNotification(ctx context.Context, user, id model.ID) error {
	return s.st.Update(func(tx *store.Tx) error { return tx.ClearNotification(user, id) })
}

// ClearNotifications removes all of the user's notifications.
func (s *Service) ClearNotifications(ctx context.Context, user model.ID) (int, error) {
	var n int
	err := s.st.Update(func(tx *store.Tx) error {
		var err error
		n, err = tx.ClearNotifications(user)
		return err
	})
	return n, err
}

// MarkRead clears the viewer's notifications about number: the UI calls it
// when the user opens that conversation, so its unread count
// (model.Conversation.Unread) drops to zero. It says how many there were.
func (s *Service) MarkRead(ctx context.Context, viewer model.ID, number string) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	number = s.ConversationNumber(number)
	var n int
	err := s.st.Update(func(tx *store.Tx) error {
		var err error
		n, err = tx.ClearNotificationsAbout(viewer, number)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("gateway: mark read: %w", err)
	}
	return n, nil
}

// NotificationCount is how many notifications the user has not cleared (the
// unread badge); it reads the per-conversation counts, not the
// notifications.
func (s *Service) NotificationCount(ctx context.Context, user model.ID) (int, error) {
	var n int
	err := s.st.View(func(tx *store.Tx) error {
		n = tx.UnreadTotal(user)
		return nil
	})
	return n, err
}
