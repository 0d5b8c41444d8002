package store

import (
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Notifications and the per-conversation unread counts they make.

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
