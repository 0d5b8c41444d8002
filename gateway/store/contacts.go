package store

import (
	"bytes"
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Contact cards, keyed by each of their numbers.

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
