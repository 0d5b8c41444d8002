package store

import "github.com/gsmgate/gsmgate/gateway/model"

// Reads the webhook sender and the API need beyond records.go (added by the
// webui/webhook owner).

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
