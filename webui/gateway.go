package webui

import (
	"context"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// Gateway is what the API needs from the service core. Every read takes the
// Viewer so that the gateway, not this package, applies visibility rules.
type Gateway interface {
	Send(ctx context.Context, req SendRequest) (SendResult, error)
	Message(ctx context.Context, v Viewer, id store.ID) (store.Message, []store.Part, error)
	Messages(ctx context.Context, v Viewer, q MessageQuery) ([]store.Message, string, error)
	// Batch lists the messages of one send the viewer may see.
	Batch(ctx context.Context, v Viewer, batch store.ID) ([]store.Message, error)
	Retry(ctx context.Context, v Viewer, id store.ID) (store.Message, error)
	Cancel(ctx context.Context, v Viewer, id store.ID) (store.Message, error)
	Conversations(ctx context.Context, v Viewer, q ConversationQuery) ([]Conversation, string, error)
	Thread(ctx context.Context, v Viewer, number string, p Page) ([]store.Message, string, error)
	Failures(ctx context.Context, v Viewer, p Page) ([]store.Message, string, error)
	PutContact(ctx context.Context, c store.Contact) (store.Contact, error)
	Contact(ctx context.Context, number string) (store.Contact, error)
	DeleteContact(ctx context.Context, number string) error
	// CountText segments a text as Send would.
	CountText(text string) pdu.Count
	UserByName(ctx context.Context, name string) (store.User, error)
	// Normalize turns a number as a client wrote it into E.164.
	Normalize(number string) (string, error)
	Modems(ctx context.Context) []ModemStatus
	// Ready is nil when the database is open and a modem is registered,
	// otherwise the reason.
	Ready(ctx context.Context) error
	// Subscribe delivers bus events until cancel is called; a slow reader
	// loses events rather than blocking the gateway.
	Subscribe() (events <-chan Event, cancel func())
	// QueueDepth is the number of message parts waiting to be sent. The
	// outbox is one queue for every modem (any modem that can send takes
	// the next part), so there is no per-modem figure.
	QueueDepth() int
	// MarkRead clears the viewer's unread count for number (their
	// notifications about it) and says how many there were.
	MarkRead(ctx context.Context, v Viewer, number string) (int, error)
	// Notifications lists the viewer's uncleared notifications, newest
	// first, with their total count (the unread badge).
	Notifications(ctx context.Context, v Viewer, p Page) (items []store.Notification, count int, next string, err error)
	// ClearNotifications clears all the viewer's notifications.
	ClearNotifications(ctx context.Context, v Viewer) (int, error)
}

// Viewer is who reads: the gateway filters what they may see.
type Viewer struct {
	UserID store.ID
	Admin  bool
}

// SendRequest is one POST /api/v1/messages, after parsing.
type SendRequest struct {
	UserID         store.ID
	To             []string
	Text           string
	CRM            *store.CRMRef
	StatusReport   bool
	SendAt         time.Time
	ExpiresAt      time.Time
	IdempotencyKey string
	// Priority is -128..127 (0: none); Campaign names a bulk send.
	Priority int
	Campaign string
}

// RecipientError is a recipient that could not be used.
type RecipientError struct {
	Index  int    `json:"index"`
	To     string `json:"to"`
	Code   string `json:"code"`
	Reason string `json:"message"`
}

// SendResult is what Send accepted.
type SendResult struct {
	BatchID  store.ID
	Messages []store.Message
	Errors   []RecipientError
	// Replayed is true when an Idempotency-Key matched an earlier send.
	Replayed bool
}

// Page is a cursor and a limit.
type Page struct {
	Cursor string
	Limit  int
}

// MessageQuery filters GET /api/v1/messages.
type MessageQuery struct {
	Page
	State  store.State
	Number string
	Since  time.Time
}

// ConversationQuery filters GET /api/v1/conversations.
type ConversationQuery struct {
	Page
	// UserID lists that user's conversations (admins only; zero: the
	// viewer's own, or the unassigned inbox when Unassigned).
	UserID     store.ID
	Unassigned bool
	// All lists every conversation (admins only).
	All              bool
	IncludeMarketing *bool
}

// Conversation is one row of a conversation listing.
type Conversation struct {
	store.Conversation
	// Unread is how many of the viewer's notifications (incoming messages
	// not yet seen) are about this number.
	Unread  int            `json:"unread"`
	Contact *store.Contact `json:"contact,omitempty"`
}

// ModemStatus is one modem as GET /api/v1/modems shows it.
type ModemStatus struct {
	Name         string `json:"name"`
	Device       string `json:"device,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	Model        string `json:"model,omitempty"`
	IMSI         string `json:"imsi,omitempty"`
	ICCID        string `json:"iccid,omitempty"`
	Number       string `json:"number,omitempty"`
	Operator     string `json:"operator,omitempty"`
	SignalDBm    int    `json:"signal_dbm,omitempty"`
	SignalBars   int    `json:"signal_bars"`
	Registration string `json:"registration"`
	Registered   bool   `json:"registered"`
	State        string `json:"state"`
	// Leased is true while the dispatcher holds the modem to send parts.
	Leased    bool      `json:"leased"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Event is one bus event as the API streams it.
type Event struct {
	// Type is one of message.received, message.sent, message.delivered,
	// message.failed, message.status, modem.state, notification.
	Type string `json:"type"`
	At   time.Time
	// Message is set for message events.
	Message *store.Message `json:"message,omitempty"`
	// Modem is set for modem events.
	Modem *ModemStatus `json:"modem,omitempty"`
	// UserIDs are the users the event concerns (for filtering); empty
	// means admins only.
	UserIDs []store.ID `json:"-"`
	// Latency, for message.sent, is the time from acceptance to +CMGS.
	Latency time.Duration `json:"-"`
}

// Webhooks is what the API needs from the webhook sender's registry.
type Webhooks interface {
	Create(ctx context.Context, h store.Webhook) (store.Webhook, error)
	List(ctx context.Context, userID store.ID) ([]store.Webhook, error)
	Get(ctx context.Context, id store.ID) (store.Webhook, error)
	Delete(ctx context.Context, id store.ID) error
	// Deliveries lists a webhook's latest deliveries, newest first.
	Deliveries(ctx context.Context, id store.ID, limit int) ([]store.WebhookDelivery, error)
	// Backlog is the number of pending deliveries.
	Backlog() int
	// ExportReceived queues sms:received deliveries of these messages again
	// (SMSGate's inbox export).
	ExportReceived(ctx context.Context, ms []store.Message) error
}
