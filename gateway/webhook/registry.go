package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// InvalidError says which field of a webhook registration is wrong.
type InvalidError struct {
	Field, Msg string
}

func (e *InvalidError) Error() string { return "webhook: " + e.Field + ": " + e.Msg }

// ErrNotFound: no such webhook.
var ErrNotFound = store.ErrNotFound

// Validate checks a registration: an absolute http(s) URL and at least one
// known event (native or SMSGate names).
func Validate(h model.Webhook) error {
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &InvalidError{"url", fmt.Sprintf("want an absolute http:// or https:// URL, not %q", h.URL)}
	}
	if len(h.Events) == 0 {
		return &InvalidError{"events", "name at least one event"}
	}
	for _, e := range h.Events {
		if _, ok := NativeName(e); !ok {
			return &InvalidError{"events", fmt.Sprintf("unknown event %q; known: %v and sms:received, sms:sent, sms:delivered, sms:failed", e, Events())}
		}
	}
	if len(h.Secret) > 256 {
		return &InvalidError{"secret", "at most 256 characters"}
	}
	return nil
}

// Create validates and stores a webhook, assigning its id.
func (s *Sender) Create(_ context.Context, h model.Webhook) (model.Webhook, error) {
	if err := Validate(h); err != nil {
		return model.Webhook{}, err
	}
	h.Events = slices.Compact(slices.Sorted(slices.Values(h.Events)))
	err := s.db.Update(func(tx *store.Tx) error {
		if h.ID == 0 {
			h.ID = tx.NewID()
		}
		h.CreatedAt = tx.Now().UTC()
		return tx.PutWebhook(&h)
	})
	if err != nil {
		return model.Webhook{}, fmt.Errorf("webhook: create: %w", err)
	}
	return h, nil
}

// List returns the webhooks owned by userID, or all of them when userID is
// zero.
func (s *Sender) List(_ context.Context, userID model.ID) ([]model.Webhook, error) {
	hs, err := s.webhooks()
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	if userID == 0 {
		return hs, nil
	}
	out := hs[:0]
	for _, h := range hs {
		if h.UserID == userID {
			out = append(out, h)
		}
	}
	return out, nil
}

// Get reads one webhook.
func (s *Sender) Get(_ context.Context, id model.ID) (model.Webhook, error) {
	var h model.Webhook
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		h, err = tx.Webhook(id)
		return err
	})
	return h, err
}

// Delete removes a webhook; its pending deliveries fail at their next
// attempt ("the webhook was deleted").
func (s *Sender) Delete(_ context.Context, id model.ID) error {
	return s.db.Update(func(tx *store.Tx) error { return tx.DeleteWebhook(id) })
}

// Deliveries lists a webhook's latest deliveries, newest first: their state,
// attempts, last error and next attempt are what "visible last attempts"
// means for an operator.
func (s *Sender) Deliveries(_ context.Context, id model.ID, limit int) ([]model.WebhookDelivery, error) {
	var ds []model.WebhookDelivery
	err := s.db.View(func(tx *store.Tx) error {
		if _, err := tx.Webhook(id); err != nil {
			return err
		}
		var err error
		ds, err = tx.WebhookDeliveries(id, limit, 10000)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("webhook: deliveries of %s: %w", id, err)
	}
	return ds, err
}

// Backlog counts pending deliveries.
func (s *Sender) Backlog() int {
	n := 0
	_ = s.db.View(func(tx *store.Tx) error { n = tx.PendingDeliveries(); return nil })
	return n
}

// Redeliver queues delivery deliveryID of webhook webhookID again, as a
// new delivery with the same event and body, due now (an operator's
// "redeliver" after fixing the receiving end). The original stays as it
// was, so the list shows both attempts.
func (s *Sender) Redeliver(_ context.Context, webhookID, deliveryID model.ID) (model.WebhookDelivery, error) {
	var nd model.WebhookDelivery
	err := s.db.Update(func(tx *store.Tx) error {
		if _, err := tx.Webhook(webhookID); err != nil {
			return err
		}
		d, err := tx.Delivery(deliveryID)
		if err != nil || d.WebhookID != webhookID {
			return store.ErrNotFound
		}
		nd = model.WebhookDelivery{WebhookID: d.WebhookID, Event: d.Event, Payload: d.Payload}
		return tx.EnqueueDelivery(&nd)
	})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return model.WebhookDelivery{}, store.ErrNotFound
		}
		return model.WebhookDelivery{}, fmt.Errorf("webhook: redeliver %s: %w", deliveryID, err)
	}
	s.Wake()
	return nd, nil
}
