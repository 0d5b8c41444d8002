package api

import (
	"context"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// What each group of handlers needs from the core (*gateway.Service). The
// core owns the rules (validation, visibility, paging); a handler parses,
// calls one of these, and renders.

// sender is what sending and reading single messages need.
type sender interface {
	Send(ctx context.Context, req gateway.SendRequest) (*gateway.SendResult, error)
	Message(ctx context.Context, viewer, id model.ID) (gateway.MessageDetail, error)
	Messages(ctx context.Context, viewer model.ID, q gateway.MessageQuery) (gateway.Paged[model.Message], error)
	Retry(ctx context.Context, viewer, id model.ID) (model.Message, error)
	Cancel(ctx context.Context, viewer, id model.ID) (model.Message, error)
	Failures(ctx context.Context, viewer model.ID, p gateway.Page) (gateway.Paged[model.Message], error)
	CountText(text string) model.TextCount
	UserByName(ctx context.Context, name string) (model.User, error)
}

// inbox is what conversations and notifications need.
type inbox interface {
	Conversations(ctx context.Context, viewer model.ID, q gateway.ConversationQuery) (gateway.Paged[model.Conversation], error)
	Thread(ctx context.Context, viewer model.ID, number string, p gateway.Page) (gateway.ThreadPage, error)
	ConversationNumber(raw string) string
	MarkRead(ctx context.Context, viewer model.ID, number string) (int, error)
	Notifications(ctx context.Context, user model.ID, p gateway.Page) (gateway.NotificationPage, error)
	ClearNotifications(ctx context.Context, user model.ID) (int, error)
}

// contacts is what the contact routes need.
type contacts interface {
	UpsertContact(ctx context.Context, in gateway.ContactInput) (model.Contact, error)
	Contact(ctx context.Context, number string) (model.Contact, error)
	DeleteContact(ctx context.Context, number string) error
	NormalizeNumber(raw string) (string, error)
}

// health is what /readyz, /metrics and the modem routes need.
type health interface {
	Modems(ctx context.Context) []model.ModemStatus
	Ready(ctx context.Context) error
	QueueDepth() int
}

// events is the core's event stream, filtered for one viewer.
type events interface {
	Subscribe(viewer model.ID) *gateway.Subscription
}

// Webhooks is what the API needs from the webhook sender's registry.
type Webhooks interface {
	Create(ctx context.Context, h model.Webhook) (model.Webhook, error)
	List(ctx context.Context, userID model.ID) ([]model.Webhook, error)
	Get(ctx context.Context, id model.ID) (model.Webhook, error)
	Delete(ctx context.Context, id model.ID) error
	// Deliveries lists a webhook's latest deliveries, newest first.
	Deliveries(ctx context.Context, id model.ID, limit int) ([]model.WebhookDelivery, error)
	// Redeliver queues one of a webhook's deliveries again.
	Redeliver(ctx context.Context, webhookID, deliveryID model.ID) (model.WebhookDelivery, error)
	// Backlog is the number of pending deliveries.
	Backlog() int
	// ExportReceived queues sms:received deliveries of these messages again
	// (SMSGate's inbox export).
	ExportReceived(ctx context.Context, ms []model.Message) error
}
