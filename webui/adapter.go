package webui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/gsmgate/gsmgate/webhook"
)

// ModemSource reports the modems; serve wires the modem pool's status to it.
type ModemSource interface {
	Modems(ctx context.Context) []ModemStatus
}

// ModemsFunc adapts a function to ModemSource.
type ModemsFunc func(ctx context.Context) []ModemStatus

// Modems implements ModemSource.
func (f ModemsFunc) Modems(ctx context.Context) []ModemStatus { return f(ctx) }

// Service adapts *gateway.Service (and a ModemSource) to the Gateway and
// Authenticator interfaces of this package.
type Service struct {
	svc    *gateway.Service
	modems ModemSource
}

// NewService wraps the gateway; modems may be nil (no modems known).
func NewService(svc *gateway.Service, modems ModemSource) *Service {
	return &Service{svc: svc, modems: modems}
}

var (
	_ Gateway       = (*Service)(nil)
	_ Authenticator = (*Service)(nil)
)

// Authenticate implements Authenticator.
func (a *Service) Authenticate(ctx context.Context, secret string) (Principal, error) {
	u, t, err := a.svc.Authenticate(ctx, secret)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{TokenID: t.ID.String(), TokenName: t.Name, UserID: u.ID, User: u.Name, Admin: u.Role == store.RoleAdmin}
	for _, s := range t.Scopes {
		p.Scopes = append(p.Scopes, string(s))
	}
	return p, nil
}

// Bulk is the core's bulk-sending API (groups, templates, campaigns,
// opt-outs), used as is.
func (a *Service) Bulk() Bulk { return a.svc }

// Send implements Gateway.
func (a *Service) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	r, err := a.svc.Send(ctx, gateway.SendRequest{
		UserID: req.UserID, To: req.To, Text: req.Text, CRM: req.CRM, StatusReport: req.StatusReport,
		SendAt: req.SendAt, ExpiresAt: req.ExpiresAt, IdempotencyKey: req.IdempotencyKey,
		Priority: req.Priority, Campaign: req.Campaign,
	})
	if err != nil {
		// A send where every recipient is bad comes back as a validation
		// error listing them; the API answers it as no_valid_recipients.
		var ve *gateway.ValidationError
		if errors.As(err, &ve) && allRecipients(ve) {
			return SendResult{Errors: recipientErrors(ve.Fields, req.To)}, nil
		}
		return SendResult{}, err
	}
	return SendResult{BatchID: r.BatchID, Messages: r.Messages, Errors: recipientErrors(r.Rejected, req.To), Replayed: r.Duplicate}, nil
}

func allRecipients(ve *gateway.ValidationError) bool {
	for _, f := range ve.Fields {
		if f.Field != "to" || f.Index < 0 {
			return false
		}
	}
	return len(ve.Fields) > 0
}

func recipientErrors(fs []gateway.FieldError, to []string) []RecipientError {
	out := make([]RecipientError, 0, len(fs))
	for _, f := range fs {
		v := f.Value
		if v == "" && f.Index >= 0 && f.Index < len(to) {
			v = to[f.Index]
		}
		code := ErrInvalidNumber.Code
		if f.Reason == gateway.ReasonOptedOut {
			code = "opted_out"
		}
		out = append(out, RecipientError{Index: f.Index, To: v, Code: code, Reason: f.Reason})
	}
	return out
}

// Message implements Gateway.
func (a *Service) Message(ctx context.Context, v Viewer, id store.ID) (store.Message, []store.Part, error) {
	d, err := a.svc.Message(ctx, v.UserID, id)
	if err != nil {
		return store.Message{}, nil, err
	}
	return d.Message, d.Parts, nil
}

func parseCursor(c string) (store.ID, error) {
	if c == "" {
		return 0, nil
	}
	id, err := store.ParseID(c)
	if err != nil {
		return 0, ErrInvalidField.With(map[string]string{"field": "cursor"}, "cursor %q is not one this server gave", c)
	}
	return id, nil
}

// Messages implements Gateway. A number filter reads that conversation;
// since stops the listing (newest first) at messages older than it.
func (a *Service) Messages(ctx context.Context, v Viewer, q MessageQuery) ([]store.Message, string, error) {
	before, err := parseCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	var ms []store.Message
	next := ""
	if q.Number != "" {
		tp, err := a.svc.Thread(ctx, v.UserID, q.Number, gateway.ThreadQuery{Before: before, Limit: q.Limit})
		if errors.Is(err, gateway.ErrNotFound) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", err
		}
		for i := len(tp.Messages) - 1; i >= 0; i-- {
			if q.State == "" || tp.Messages[i].State == q.State {
				ms = append(ms, tp.Messages[i].Message)
			}
		}
		if tp.Older != 0 {
			next = tp.Older.String()
		}
	} else {
		ms, err = a.svc.Messages(ctx, v.UserID, gateway.MessageQuery{State: q.State, Before: before, Limit: q.Limit})
		if err != nil {
			return nil, "", err
		}
		if len(ms) == q.Limit && len(ms) > 0 {
			next = ms[len(ms)-1].ID.String()
		}
	}
	if !q.Since.IsZero() {
		for i, m := range ms {
			if m.CreatedAt.Before(q.Since) {
				ms, next = ms[:i], ""
				break
			}
		}
	}
	return ms, next, nil
}

// Batch implements Gateway.
func (a *Service) Batch(ctx context.Context, v Viewer, batch store.ID) ([]store.Message, error) {
	return a.svc.Messages(ctx, v.UserID, gateway.MessageQuery{Batch: batch})
}

// Retry implements Gateway.
func (a *Service) Retry(ctx context.Context, v Viewer, id store.ID) (store.Message, error) {
	return a.svc.Retry(ctx, v.UserID, id)
}

// Cancel implements Gateway.
func (a *Service) Cancel(ctx context.Context, v Viewer, id store.ID) (store.Message, error) {
	return a.svc.Cancel(ctx, v.UserID, id)
}

// Conversations implements Gateway.
func (a *Service) Conversations(ctx context.Context, v Viewer, q ConversationQuery) ([]Conversation, string, error) {
	p, err := a.svc.Conversations(ctx, v.UserID, gateway.ConversationQuery{Unassigned: q.Unassigned, All: q.All, IncludeMarketing: q.IncludeMarketing, Cursor: q.Cursor, Limit: q.Limit})
	if err != nil {
		return nil, "", err
	}
	out := make([]Conversation, 0, len(p.Items))
	for _, it := range p.Items {
		c := Conversation{Conversation: store.Conversation{
			Number: it.Number, Count: it.Count, LastMessageID: it.Last.ID, LastAt: it.SortAt,
			LastText: it.Last.Text, LastDirection: it.Last.Direction,
		}, Unread: it.Unread, Contact: it.Contact}
		out = append(out, c)
	}
	return out, p.Next, nil
}

// Thread implements Gateway.
func (a *Service) Thread(ctx context.Context, v Viewer, number string, p Page) ([]store.Message, string, error) {
	before, err := parseCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	tp, err := a.svc.Thread(ctx, v.UserID, number, gateway.ThreadQuery{Before: before, Limit: p.Limit})
	if err != nil {
		return nil, "", err
	}
	out := make([]store.Message, 0, len(tp.Messages))
	for _, m := range tp.Messages {
		out = append(out, m.Message)
	}
	next := ""
	if tp.Older != 0 {
		next = tp.Older.String()
	}
	return out, next, nil
}

// Failures implements Gateway.
func (a *Service) Failures(ctx context.Context, v Viewer, p Page) ([]store.Message, string, error) {
	fp, err := a.svc.Failures(ctx, v.UserID, p.Cursor, p.Limit)
	if err != nil {
		return nil, "", err
	}
	return fp.Items, fp.Next, nil
}

// PutContact implements Gateway.
func (a *Service) PutContact(ctx context.Context, c store.Contact) (store.Contact, error) {
	return a.svc.UpsertContact(ctx, gateway.ContactInput{
		Number: c.Number, Name: c.Name, JobTitle: c.JobTitle, Company: c.Company, Email: c.Email,
		Phones: c.Phones, CRMURL: c.CRMURL, CRM: c.CRM,
	})
}

// Contact implements Gateway.
func (a *Service) Contact(ctx context.Context, number string) (store.Contact, error) {
	return a.svc.Contact(ctx, number)
}

// DeleteContact implements Gateway.
func (a *Service) DeleteContact(ctx context.Context, number string) error {
	return a.svc.DeleteContact(ctx, number)
}

// CountText implements Gateway.
func (a *Service) CountText(text string) pdu.Count { return a.svc.CountText(text) }

// UserByName implements Gateway.
func (a *Service) UserByName(ctx context.Context, name string) (store.User, error) {
	us, err := a.svc.Users(ctx)
	if err != nil {
		return store.User{}, err
	}
	for _, u := range us {
		if strings.EqualFold(u.Name, name) {
			return u, nil
		}
	}
	return store.User{}, gateway.ErrNotFound
}

// Normalize implements Gateway.
func (a *Service) Normalize(number string) (string, error) { return a.svc.NormalizeNumber(number) }

// Modems implements Gateway.
func (a *Service) Modems(ctx context.Context) []ModemStatus {
	if a.modems == nil {
		return nil
	}
	return a.modems.Modems(ctx)
}

// Ready implements Gateway: the database answers a read and a modem is
// registered.
func (a *Service) Ready(ctx context.Context) error {
	if err := a.svc.Store().View(func(*store.Tx) error { return nil }); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	ms := a.Modems(ctx)
	if len(ms) == 0 {
		return errors.New("no modem configured or found")
	}
	var states []string
	for _, m := range ms {
		if m.Registered {
			return nil
		}
		states = append(states, m.Name+": "+m.State+" ("+m.Registration+")")
	}
	return errors.New("no modem is registered on a network: " + strings.Join(states, "; "))
}

// QueueDepth implements Gateway.
func (a *Service) QueueDepth() int {
	n := 0
	_ = a.svc.Store().View(func(tx *store.Tx) error { n = tx.Stats().Queued; return nil })
	return n
}

// MarkRead implements Gateway.
func (a *Service) MarkRead(ctx context.Context, v Viewer, number string) (int, error) {
	return a.svc.MarkRead(ctx, v.UserID, number)
}

// Notifications implements Gateway.
func (a *Service) Notifications(ctx context.Context, v Viewer, p Page) ([]store.Notification, int, string, error) {
	before, err := parseCursor(p.Cursor)
	if err != nil {
		return nil, 0, "", err
	}
	count, err := a.svc.NotificationCount(ctx, v.UserID)
	if err != nil {
		return nil, 0, "", err
	}
	ns, err := a.svc.Notifications(ctx, v.UserID, store.Page{Before: before, Limit: p.Limit})
	if err != nil {
		return nil, 0, "", err
	}
	next := ""
	if len(ns) == p.Limit && len(ns) > 0 {
		next = ns[len(ns)-1].ID.String()
	}
	return ns, count, next, nil
}

// ClearNotifications implements Gateway.
func (a *Service) ClearNotifications(ctx context.Context, v Viewer) (int, error) {
	return a.svc.ClearNotifications(ctx, v.UserID)
}

// Subscribe implements Gateway: the gateway's typed events become API
// events. A status change to sent, delivered or cancelled is named after its
// new state; failures come as message.failed (from SendFailed).
func (a *Service) Subscribe() (<-chan Event, func()) {
	sub := a.svc.Bus().Subscribe(256, nil)
	out := make(chan Event, 256)
	go func() {
		defer close(out)
		for ge := range sub.C {
			e, ok := convertEvent(ge)
			if !ok {
				continue
			}
			select {
			case out <- e:
			default:
				// The reader is behind: drop rather than block the bus's
				// buffer draining (the bus drops for us otherwise).
			}
		}
	}()
	return out, sub.Close
}

func convertEvent(ge gateway.Event) (Event, bool) {
	switch e := ge.(type) {
	case *gateway.MessageReceived:
		m := e.Message
		return Event{Type: "message.received", At: e.At, Message: &m, UserIDs: m.Users}, true
	case *gateway.StatusChanged:
		m := e.Message
		ev := Event{At: e.At, Message: &m, UserIDs: owners(m)}
		switch m.State {
		case store.StateSent:
			ev.Type = "message.sent"
			if !m.SentAt.IsZero() {
				ev.Latency = m.SentAt.Sub(m.CreatedAt)
			}
		case store.StateDelivered:
			ev.Type = "message.delivered"
		case store.StateCancelled:
			ev.Type = "message.cancelled"
		default:
			ev.Type = "message.status"
		}
		return ev, true
	case *gateway.SendFailed:
		m := e.Message
		return Event{Type: "message.failed", At: e.At, Message: &m, UserIDs: owners(m)}, true
	case *gateway.ModemStateChanged:
		return Event{Type: "modem.state", At: e.At, Modem: &ModemStatus{Name: e.Modem, State: e.State, LastError: e.Detail, UpdatedAt: e.At}}, true
	}
	return Event{}, false
}

func owners(m store.Message) []store.ID {
	if m.UserID != 0 {
		return append([]store.ID{m.UserID}, m.Users...)
	}
	return m.Users
}

// mapGatewayError maps the gateway's errors to the catalogue.
func mapGatewayError(err error) *APIError {
	var ve *gateway.ValidationError
	switch {
	case errors.As(err, &ve):
		if len(ve.Fields) == 1 {
			f := ve.Fields[0]
			code := ErrInvalidField
			if f.Field == "to" || f.Field == "number" || f.Field == "phones" {
				code = ErrInvalidNumber
			}
			return code.With(ve.Fields, "%s: %s", f.Field, f.Reason)
		}
		return ErrInvalidField.With(ve.Fields, "%s", strings.TrimPrefix(ve.Error(), "gateway: invalid request: "))
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

// ModemStatuses converts a modem pool's snapshot for the API.
func ModemStatuses(ss []modem.Status) []ModemStatus {
	out := make([]ModemStatus, 0, len(ss))
	for _, s := range ss {
		h := s.Health
		m := ModemStatus{
			Name: s.ID, Device: s.Port, IMEI: s.Info.IMEI, Model: strings.TrimSpace(s.Info.Manufacturer + " " + s.Info.Model),
			IMSI: s.Info.IMSI, ICCID: s.Info.ICCID, Number: s.Info.OwnNumber, Operator: h.Operator,
			SignalDBm: h.Signal.DBm, SignalBars: max(h.Signal.Bars, 0), Registration: h.Registration.String(),
			Registered: h.Registration.Registered(), State: string(s.State), Leased: s.Leased, LastError: s.Reason, UpdatedAt: h.At,
		}
		if m.Name == "" {
			m.Name = s.Port
		}
		out = append(out, m)
	}
	return out
}
