package store

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// --- users ---

// User reads a user.
func (tx *Tx) User(id model.ID) (model.User, error) {
	var u model.User
	if err := getJSON(tx.b(bUsers), u64(uint64(id)), &u); err != nil {
		return model.User{}, fmt.Errorf("store: user %s: %w", id, err)
	}
	return u, nil
}

// UserByName reads a user by name (case-insensitive).
func (tx *Tx) UserByName(name string) (model.User, error) {
	v := tx.b(bUsersByName).Get([]byte(strings.ToLower(name)))
	if v == nil {
		return model.User{}, fmt.Errorf("store: user %q: %w", name, ErrNotFound)
	}
	return tx.User(model.ID(getU64(v)))
}

// PutUser creates or updates a user; names are unique (ErrExists).
func (tx *Tx) PutUser(u *model.User) error {
	if u.ID == 0 {
		return fmt.Errorf("store: put user: zero id")
	}
	lname := []byte(strings.ToLower(u.Name))
	if v := tx.b(bUsersByName).Get(lname); v != nil && model.ID(getU64(v)) != u.ID {
		return fmt.Errorf("store: user %q: %w", u.Name, ErrExists)
	}
	if old, err := tx.User(u.ID); err == nil && !strings.EqualFold(old.Name, u.Name) {
		if err := tx.b(bUsersByName).Delete([]byte(strings.ToLower(old.Name))); err != nil {
			return err
		}
	}
	if err := tx.b(bUsersByName).Put(lname, u64(uint64(u.ID))); err != nil {
		return err
	}
	return putJSON(tx.b(bUsers), u64(uint64(u.ID)), u)
}

// Users lists all users by ID.
func (tx *Tx) Users() ([]model.User, error) {
	var out []model.User
	err := tx.b(bUsers).ForEach(func(_, v []byte) error {
		var u model.User
		if err := unmarshal(v, &u); err != nil {
			return err
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// --- tokens ---

// PutToken stores a token.
func (tx *Tx) PutToken(t *model.Token) error {
	if err := tx.b(bTokensByHash).Put(t.Hash, u64(uint64(t.ID))); err != nil {
		return err
	}
	return putJSON(tx.b(bTokens), u64(uint64(t.ID)), t)
}

// Token reads a token.
func (tx *Tx) Token(id model.ID) (model.Token, error) {
	var t model.Token
	if err := getJSON(tx.b(bTokens), u64(uint64(id)), &t); err != nil {
		return model.Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	return t, nil
}

// TokenByHash finds a token by the SHA-256 of its secret.
func (tx *Tx) TokenByHash(hash []byte) (model.Token, error) {
	v := tx.b(bTokensByHash).Get(hash)
	if v == nil {
		return model.Token{}, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	return tx.Token(model.ID(getU64(v)))
}

// DeleteToken removes a token.
func (tx *Tx) DeleteToken(id model.ID) error {
	t, err := tx.Token(id)
	if err != nil {
		return err
	}
	if err := tx.b(bTokensByHash).Delete(t.Hash); err != nil {
		return err
	}
	return tx.b(bTokens).Delete(u64(uint64(id)))
}

// Tokens lists the tokens of user u (all users when u is 0).
func (tx *Tx) Tokens(u model.ID) ([]model.Token, error) {
	var out []model.Token
	err := tx.b(bTokens).ForEach(func(_, v []byte) error {
		var t model.Token
		if err := unmarshal(v, &t); err != nil {
			return err
		}
		if u == 0 || t.UserID == u {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// --- notifications ---

// AddNotification stores n (n.ID and n.UserID set by the caller).
func (tx *Tx) AddNotification(n *model.Notification) error {
	if err := tx.bumpUnread(n.UserID, n.Number, 1); err != nil {
		return err
	}
	return putJSON(tx.b(bNotifications), k(u64(uint64(n.UserID)), u64(uint64(n.ID))), n)
}

// bumpUnread adds d to user u's unread count for number, dropping the entry
// at zero.
func (tx *Tx) bumpUnread(u model.ID, number string, d int) error {
	if number == "" {
		return nil
	}
	key := k(u64(uint64(u)), []byte(number))
	n := int64(0)
	if v := tx.b(bUnread).Get(key); len(v) == 8 {
		n = int64(getU64(v))
	}
	if n += int64(d); n <= 0 {
		return tx.b(bUnread).Delete(key)
	}
	return tx.b(bUnread).Put(key, u64(uint64(n)))
}

// deleteNotification removes one notification by key, keeping the unread
// count in step.
func (tx *Tx) deleteNotification(key []byte) error {
	var n model.Notification
	if err := getJSON(tx.b(bNotifications), key, &n); err != nil {
		return err
	}
	if err := tx.bumpUnread(n.UserID, n.Number, -1); err != nil {
		return err
	}
	return tx.b(bNotifications).Delete(key)
}

// Unread is how many of user u's notifications are about number.
func (tx *Tx) Unread(u model.ID, number string) int {
	if v := tx.b(bUnread).Get(k(u64(uint64(u)), []byte(number))); len(v) == 8 {
		return int(getU64(v))
	}
	return 0
}

// UnreadTotal is how many notifications user u has (a range scan over the
// user's conversations with unread messages, not over the notifications).
func (tx *Tx) UnreadTotal(u model.ID) int {
	total := 0
	fwdScan(tx.b(bUnread), u64(uint64(u)), nil, func(_, v []byte) bool {
		total += int(getU64(v))
		return true
	})
	return total
}

// Notifications lists user u's notifications, newest first.
func (tx *Tx) Notifications(u model.ID, p Page) ([]model.Notification, error) {
	prefix := u64(uint64(u))
	var before []byte
	if p.Before != 0 {
		before = k(prefix, u64(uint64(p.Before)))
	}
	var out []model.Notification
	var err error
	revScan(tx.b(bNotifications), prefix, before, func(_, v []byte) bool {
		var n model.Notification
		if err = unmarshal(v, &n); err != nil {
			return false
		}
		out = append(out, n)
		return len(out) < p.limit()
	})
	return out, err
}

// ClearNotification removes one of user u's notifications (ErrNotFound
// when it is not theirs).
func (tx *Tx) ClearNotification(u, id model.ID) error {
	key := k(u64(uint64(u)), u64(uint64(id)))
	if tx.b(bNotifications).Get(key) == nil {
		return fmt.Errorf("store: notification %s: %w", id, ErrNotFound)
	}
	return tx.deleteNotification(key)
}

// ClearNotifications removes all of user u's notifications and says how
// many there were.
func (tx *Tx) ClearNotifications(u model.ID) (int, error) {
	prefix := u64(uint64(u))
	n, err := tx.deletePrefix(bNotifications, prefix)
	if err != nil {
		return 0, err
	}
	if _, err := tx.deletePrefix(bUnread, prefix); err != nil {
		return 0, err
	}
	return n, nil
}

// deletePrefix deletes every key of bucket b that starts with prefix
// (collected first: deleting under a cursor skips keys).
func (tx *Tx) deletePrefix(b, prefix []byte) (int, error) {
	var keys [][]byte
	fwdScan(tx.b(b), prefix, nil, func(key, _ []byte) bool {
		keys = append(keys, clone(key))
		return true
	})
	for _, key := range keys {
		if err := tx.b(b).Delete(key); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// ClearNotificationsAbout removes user u's notifications about number (the
// user has read that conversation) and says how many there were.
func (tx *Tx) ClearNotificationsAbout(u model.ID, number string) (int, error) {
	var keys [][]byte
	var err error
	fwdScan(tx.b(bNotifications), u64(uint64(u)), nil, func(key, v []byte) bool {
		var n model.Notification
		if err = unmarshal(v, &n); err != nil {
			return false
		}
		if n.Number == number {
			keys = append(keys, clone(key))
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	for _, key := range keys {
		if err := tx.b(bNotifications).Delete(key); err != nil {
			return 0, err
		}
	}
	if err := tx.b(bUnread).Delete(k(u64(uint64(u)), []byte(number))); err != nil {
		return 0, err
	}
	return len(keys), nil
}

// --- contacts ---

// Contact reads the contact that has number among its phones.
func (tx *Tx) Contact(number string) (model.Contact, error) {
	key := []byte(number)
	if v := tx.b(bContactPhones).Get(key); v != nil {
		key = clone(v)
	}
	var c model.Contact
	if err := getJSON(tx.b(bContacts), key, &c); err != nil {
		return model.Contact{}, fmt.Errorf("store: contact %s: %w", number, err)
	}
	return c, nil
}

// PutContact creates or replaces the contact keyed by c.Number (its default
// SMS number), re-pointing the phone index at it. A phone that belonged to
// another contact moves to this one.
func (tx *Tx) PutContact(c *model.Contact) error {
	key := []byte(c.Number)
	var old model.Contact
	if err := getJSON(tx.b(bContacts), key, &old); err == nil {
		for _, ph := range old.Phones {
			if v := tx.b(bContactPhones).Get([]byte(ph.Number)); v != nil && bytes.Equal(v, key) {
				if err := tx.b(bContactPhones).Delete([]byte(ph.Number)); err != nil {
					return err
				}
			}
		}
	}
	if err := tx.b(bContactPhones).Put(key, key); err != nil {
		return err
	}
	for _, ph := range c.Phones {
		if err := tx.b(bContactPhones).Put([]byte(ph.Number), key); err != nil {
			return err
		}
	}
	return putJSON(tx.b(bContacts), key, c)
}

// DeleteContact removes the contact keyed by number.
func (tx *Tx) DeleteContact(number string) error {
	c, err := tx.Contact(number)
	if err != nil {
		return err
	}
	key := []byte(c.Number)
	for _, ph := range append(c.Phones, model.Phone{Number: c.Number}) {
		if v := tx.b(bContactPhones).Get([]byte(ph.Number)); v != nil && bytes.Equal(v, key) {
			if err := tx.b(bContactPhones).Delete([]byte(ph.Number)); err != nil {
				return err
			}
		}
	}
	return tx.b(bContacts).Delete(key)
}

// Contacts calls fn for every contact in number order until fn returns
// false (a full scan: contacts are few next to messages).
func (tx *Tx) Contacts(fn func(model.Contact) bool) error {
	c := tx.b(bContacts).Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		var ct model.Contact
		if err := unmarshal(v, &ct); err != nil {
			return err
		}
		if !fn(ct) {
			break
		}
	}
	return nil
}

// --- idempotency ---

// Idempotency reads the record of user u's key (ErrNotFound when unused).
func (tx *Tx) Idempotency(u model.ID, key string) (Idempotency, error) {
	var r Idempotency
	err := getJSON(tx.b(bIdem), k(u64(uint64(u)), []byte(key)), &r)
	return r, err
}

// PutIdempotency remembers that user u's key created r.BatchID.
func (tx *Tx) PutIdempotency(u model.ID, key string, r *Idempotency) error {
	// A reused (expired) key: drop its old purge entry, which would
	// otherwise delete the new record early.
	if old, err := tx.Idempotency(u, key); err == nil {
		if err := tx.b(bIdxIdemTime).Delete(k(tns(old.CreatedAt), u64(uint64(u)), []byte(key))); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxIdemTime).Put(k(tns(r.CreatedAt), u64(uint64(u)), []byte(key)), nil); err != nil {
		return err
	}
	return putJSON(tx.b(bIdem), k(u64(uint64(u)), []byte(key)), r)
}

// --- webhooks ---

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

// --- inbound ---

// SeenInbound reports whether dedupKey was stored before.
func (tx *Tx) SeenInbound(dedupKey string) bool {
	return tx.b(bInboundDedup).Get([]byte(dedupKey)) != nil
}

// MarkInbound remembers dedupKey (a part that was stored) so that reading it
// again is recognised.
func (tx *Tx) MarkInbound(dedupKey string) error {
	now := tns(tx.Now())
	if old := tx.b(bInboundDedup).Get([]byte(dedupKey)); old != nil {
		if err := tx.b(bIdxDedupTime).Delete(k(clone(old), []byte(dedupKey))); err != nil {
			return err
		}
	}
	if err := tx.b(bIdxDedupTime).Put(k(now, []byte(dedupKey)), nil); err != nil {
		return err
	}
	return tx.b(bInboundDedup).Put([]byte(dedupKey), now)
}

// PutPendingPart keeps a part of an unfinished multipart message.
func (tx *Tx) PutPendingPart(p *InboundPart) error {
	return putJSON(tx.b(bInboundPending), k(str(p.Key), []byte{byte(p.Seq)}), p)
}

// PendingParts lists the parts kept under key, in sequence order.
func (tx *Tx) PendingParts(key string) ([]InboundPart, error) {
	var out []InboundPart
	var err error
	fwdScan(tx.b(bInboundPending), str(key), nil, func(_, v []byte) bool {
		var p InboundPart
		if err = unmarshal(v, &p); err != nil {
			return false
		}
		out = append(out, p)
		return true
	})
	return out, err
}

// PendingKeys lists every key with pending parts and the time its first
// part arrived (reassembly after a restart, and the incomplete timeout).
func (tx *Tx) PendingKeys() (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := tx.b(bInboundPending).ForEach(func(_, v []byte) error {
		var p InboundPart
		if err := unmarshal(v, &p); err != nil {
			return err
		}
		if t, ok := out[p.Key]; !ok || p.ReceivedAt.Before(t) {
			out[p.Key] = p.ReceivedAt
		}
		return nil
	})
	return out, err
}

// DeletePending removes every part kept under key (the message was
// assembled, in the same transaction).
func (tx *Tx) DeletePending(key string) error {
	var keys [][]byte
	fwdScan(tx.b(bInboundPending), str(key), nil, func(kk, _ []byte) bool {
		keys = append(keys, clone(kk))
		return true
	})
	for _, kk := range keys {
		if err := tx.b(bInboundPending).Delete(kk); err != nil {
			return err
		}
	}
	return nil
}

// StoreInboundPart commits a received part of a multipart message with its
// dedup key, so that the modem may delete it afterwards. dup is true (and
// nothing is written) when dedupKey was stored before: the part was read
// again after a crash. parts are all the parts now kept under p.Key.
func (db *DB) StoreInboundPart(p InboundPart, dedupKey string) (dup bool, parts []InboundPart, err error) {
	err = db.Batch(func(tx *Tx) error {
		dup, parts = false, nil
		if dedupKey != "" && tx.SeenInbound(dedupKey) {
			dup = true
			return nil
		}
		if err := tx.PutPendingPart(&p); err != nil {
			return err
		}
		if dedupKey != "" {
			if err := tx.MarkInbound(dedupKey); err != nil {
				return err
			}
		}
		var err error
		parts, err = tx.PendingParts(p.Key)
		return err
	})
	return dup, parts, err
}
