package store

import (
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Webhook subscriptions and their persisted deliveries.

// PutWebhook creates or replaces a webhook subscription.
func (tx *Tx) PutWebhook(w *model.Webhook) error {
	return putJSON(tx.b(bWebhooks), u64(uint64(w.ID)), w)
}

// Webhook reads one subscription.
func (tx *Tx) Webhook(id model.ID) (model.Webhook, error) {
	var w model.Webhook
	if err := getJSON(tx.b(bWebhooks), u64(uint64(id)), &w); err != nil {
		return model.Webhook{}, fmt.Errorf("store: webhook %s: %w", id, err)
	}
	return w, nil
}

// DeleteWebhook removes a subscription with its deliveries (pending ones
// are not sent).
func (tx *Tx) DeleteWebhook(id model.ID) error {
	if tx.b(bWebhooks).Get(u64(uint64(id))) == nil {
		return fmt.Errorf("store: webhook %s: %w", id, ErrNotFound)
	}
	var keys [][]byte
	fwdScan(tx.b(bIdxWebhookDeliveries), u64(uint64(id)), nil, func(key, _ []byte) bool {
		keys = append(keys, clone(key))
		return true
	})
	for _, key := range keys {
		if err := tx.deleteDelivery(model.ID(getU64(key[8:]))); err != nil {
			return err
		}
	}
	return tx.b(bWebhooks).Delete(u64(uint64(id)))
}

func (tx *Tx) deleteDelivery(id model.ID) error {
	d, err := tx.Delivery(id)
	if err != nil {
		return err
	}
	if d.State == model.DeliveryPending {
		if err := tx.b(bIdxWebhookDue).Delete(k(tns(d.NextAttempt), u64(uint64(id)))); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxWebhookDeliveries).Delete(k(u64(uint64(d.WebhookID)), u64(uint64(id)))); err != nil {
		return err
	}
	return tx.b(bWebhookDeliveries).Delete(u64(uint64(id)))
}

// Webhooks lists all subscriptions.
func (tx *Tx) Webhooks() ([]model.Webhook, error) {
	var out []model.Webhook
	err := tx.b(bWebhooks).ForEach(func(_, v []byte) error {
		var w model.Webhook
		if err := unmarshal(v, &w); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// EnqueueDelivery stores a new pending delivery due at d.NextAttempt (now
// when zero). d.ID is assigned when zero.
func (tx *Tx) EnqueueDelivery(d *model.WebhookDelivery) error {
	if d.ID == 0 {
		d.ID = tx.NewID()
	}
	now := tx.Now()
	if d.NextAttempt.IsZero() {
		d.NextAttempt = now
	}
	d.State, d.CreatedAt, d.UpdatedAt = model.DeliveryPending, now, now
	if err := tx.b(bIdxWebhookDue).Put(k(tns(d.NextAttempt), u64(uint64(d.ID))), nil); err != nil {
		return err
	}
	if err := tx.b(bIdxWebhookDeliveries).Put(k(u64(uint64(d.WebhookID)), u64(uint64(d.ID))), nil); err != nil {
		return err
	}
	return putJSON(tx.b(bWebhookDeliveries), u64(uint64(d.ID)), d)
}

// Delivery reads one delivery.
func (tx *Tx) Delivery(id model.ID) (model.WebhookDelivery, error) {
	var d model.WebhookDelivery
	if err := getJSON(tx.b(bWebhookDeliveries), u64(uint64(id)), &d); err != nil {
		return model.WebhookDelivery{}, fmt.Errorf("store: delivery %s: %w", id, err)
	}
	return d, nil
}

// DueDeliveries lists pending deliveries due at or before now, oldest due
// first.
func (tx *Tx) DueDeliveries(now time.Time, limit int) ([]model.WebhookDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []model.WebhookDelivery
	var err error
	lim := string(tns(now))
	fwdScan(tx.b(bIdxWebhookDue), nil, nil, func(key, _ []byte) bool {
		if string(key[:8]) > lim {
			return false
		}
		var d model.WebhookDelivery
		if d, err = tx.Delivery(model.ID(getU64(key[8:]))); err != nil {
			return false
		}
		out = append(out, d)
		return len(out) < limit
	})
	return out, err
}

// NextDelivery is when the earliest pending delivery is due.
func (tx *Tx) NextDelivery() (time.Time, bool) {
	key, _ := tx.b(bIdxWebhookDue).Cursor().First()
	if key == nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(getU64(key[:8]))).UTC(), true
}

// MarkDeliveryAttempt records one attempt: done (ok), retried at next, or,
// with a zero next, failed for good.
func (tx *Tx) MarkDeliveryAttempt(id model.ID, ok bool, errText string, next time.Time) (model.WebhookDelivery, error) {
	d, err := tx.Delivery(id)
	if err != nil {
		return d, err
	}
	if d.State == model.DeliveryPending {
		if err := tx.b(bIdxWebhookDue).Delete(k(tns(d.NextAttempt), u64(uint64(id)))); err != nil {
			return d, err
		}
	}
	d.Attempts++
	d.UpdatedAt = tx.Now()
	d.LastError = errText
	switch {
	case ok:
		d.State, d.LastError = model.DeliveryDone, ""
	case next.IsZero():
		d.State = model.DeliveryFailed
	default:
		d.State, d.NextAttempt = model.DeliveryPending, next
		if err := tx.b(bIdxWebhookDue).Put(k(tns(next), u64(uint64(id))), nil); err != nil {
			return d, err
		}
	}
	return d, putJSON(tx.b(bWebhookDeliveries), u64(uint64(id)), &d)
}

// PendingDeliveries counts the webhook deliveries still to be made (the
// webhook backlog on /metrics). It counts the due index, which holds exactly
// the pending deliveries.
func (tx *Tx) PendingDeliveries() int {
	n := 0
	c := tx.b(bIdxWebhookDue).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

// WebhookDeliveries lists up to limit of a webhook's latest deliveries,
// newest first. It is a range scan of idx_webhook_deliveries; scan, from
// before that index existed, is ignored.
func (tx *Tx) WebhookDeliveries(webhook model.ID, limit, scan int) ([]model.WebhookDelivery, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []model.WebhookDelivery
	var err error
	revScan(tx.b(bIdxWebhookDeliveries), u64(uint64(webhook)), nil, func(key, _ []byte) bool {
		var d model.WebhookDelivery
		if d, err = tx.Delivery(model.ID(getU64(key[8:]))); err != nil {
			return false
		}
		out = append(out, d)
		return len(out) < limit
	})
	return out, err
}
