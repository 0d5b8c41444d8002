package webui

import (
	"context"
	"errors"
	"strings"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/webhook"
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

// authenticator checks a presented token secret.
type authenticator interface {
	Authenticate(ctx context.Context, secret string) (model.User, model.Token, error)
}

// Webhooks is what the API needs from the webhook sender's registry.
type Webhooks interface {
	Create(ctx context.Context, h model.Webhook) (model.Webhook, error)
	List(ctx context.Context, userID model.ID) ([]model.Webhook, error)
	Get(ctx context.Context, id model.ID) (model.Webhook, error)
	Delete(ctx context.Context, id model.ID) error
	// Deliveries lists a webhook's latest deliveries, newest first.
	Deliveries(ctx context.Context, id model.ID, limit int) ([]model.WebhookDelivery, error)
	// Backlog is the number of pending deliveries.
	Backlog() int
	// ExportReceived queues sms:received deliveries of these messages again
	// (SMSGate's inbox export).
	ExportReceived(ctx context.Context, ms []model.Message) error
}

// principalOf builds the Principal of an authenticated token.
func principalOf(u model.User, t model.Token) Principal {
	p := Principal{TokenID: t.ID.String(), TokenName: t.Name, UserID: u.ID, User: u.Name, Admin: u.Role == model.RoleAdmin}
	for _, s := range t.Scopes {
		p.Scopes = append(p.Scopes, string(s))
	}
	return p
}

// fieldCodes maps the core's field error codes to the catalogue.
func fieldCode(f gateway.FieldError) *APIError {
	switch f.Code {
	case gateway.CodeTooManyRecipients:
		return ErrTooManyRecipient
	case gateway.CodeTextTooLong:
		return ErrTextTooLong
	case gateway.CodeDuplicateRecipient:
		return ErrDuplicateRecipient
	case gateway.CodeInvalidNumber:
		return ErrInvalidNumber
	case gateway.CodeInvalid:
		return ErrInvalidField
	case "":
		if f.Field == "to" || f.Field == "number" || f.Field == "phones" {
			return ErrInvalidNumber
		}
	}
	return ErrInvalidField
}

// recipientError is a recipient that could not be used, or one sent with a
// warning.
type recipientError struct {
	Index  int    `json:"index"`
	To     string `json:"to"`
	Code   string `json:"code"`
	Reason string `json:"message"`
}

func recipientErrors(fs []gateway.FieldError) []recipientError {
	out := make([]recipientError, 0, len(fs))
	for _, f := range fs {
		code := f.Code
		if code == "" {
			code = ErrInvalidNumber.Code
		}
		out = append(out, recipientError{Index: f.Index, To: f.Value, Code: code, Reason: f.Reason})
	}
	return out
}

// mapGatewayError maps the gateway's errors to the catalogue.
func mapGatewayError(err error) *APIError {
	var ve *gateway.ValidationError
	var re *gateway.RecipientsError
	switch {
	case errors.As(err, &re):
		return ErrNoRecipients.With(recipientErrors(re.Rejected), "none of the %d recipients can be used", len(re.Rejected))
	case errors.As(err, &ve):
		f := ve.Fields[0]
		if len(ve.Fields) == 1 {
			return fieldCode(f).With(ve.Fields, "%s: %s", f.Field, f.Reason)
		}
		return fieldCode(f).With(ve.Fields, "%s", strings.TrimPrefix(ve.Error(), "gateway: invalid request: "))
	case errors.Is(err, gateway.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, gateway.ErrIdempotencyConflict):
		return ErrIdempotencyReuse
	case errors.Is(err, gateway.ErrConflict):
		return ErrConflict.With(nil, "%s", strings.TrimPrefix(err.Error(), "gateway: conflict: "))
	case errors.Is(err, gateway.ErrForbidden):
		return ErrForbidden
	case errors.Is(err, gateway.ErrUnauthorized):
		return ErrUnauthorized
	case errors.Is(err, gateway.ErrExists):
		return ErrConflict.With(nil, "already exists")
	}
	var ie *webhook.InvalidError
	if errors.As(err, &ie) {
		return ErrInvalidField.With(map[string]string{"field": ie.Field}, "%s: %s", ie.Field, ie.Msg)
	}
	return nil
}
