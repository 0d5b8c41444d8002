package store

// Reads the webhook sender and the API need beyond records.go (added by the
// webui/webhook owner; no new bucket or key layout).

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
// newest first, looking at no more than scan deliveries (all webhooks') so
// that a busy file does not make the listing a full scan.
func (tx *Tx) WebhookDeliveries(webhook ID, limit, scan int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	var err error
	seen := 0
	revScan(tx.b(bWebhookDeliveries), nil, nil, func(_, v []byte) bool {
		seen++
		var d WebhookDelivery
		if err = unmarshal(v, &d); err != nil {
			return false
		}
		if d.WebhookID == webhook {
			out = append(out, d)
		}
		return len(out) < limit && seen < scan
	})
	return out, err
}
