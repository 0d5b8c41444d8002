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
	raw := tx.b(bContacts).Get(key)
	if raw == nil {
		return model.Contact{}, fmt.Errorf("store: contact %s: %w", number, ErrNotFound)
	}
	var c model.Contact
	if err := readContact(raw, &c); err != nil {
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
		if err := readContact(v, &ct); err != nil {
			return err
		}
		if !fn(ct) {
			break
		}
	}
	return nil
}

// readContact decodes a contact record: by hand when it is as
// json.Marshal writes it (decodeContact), else with json.Unmarshal.
func readContact(raw []byte, c *model.Contact) error {
	if decodeContact(raw, c) {
		return nil
	}
	return unmarshal(raw, c)
}

// decodeContact reads a contact record as json.Marshal writes it: fields in
// their order, strings without escapes, tags and phones not empty, custom
// fields in key order; anything else is declined (false) for
// json.Unmarshal (FuzzDecodeContact holds it to json.Unmarshal's answer).
// Its strings share one copy of the record: a saved search over 10,000
// contacts, read for a bulk send, decoded each with reflection and a string
// per field.
func decodeContact(b []byte, c *model.Contact) bool {
	whole := string(b)
	d := convDecoder{b: b}
	*c = model.Contact{}
	str := func() (string, bool) {
		off := len(b) - len(d.b) + 1 // (past the quote)
		s, ok := d.str()
		if !ok {
			return "", false
		}
		return whole[off : off+len(s)], true
	}
	opt := func(key string, dst *string) bool {
		if !d.lit(key) {
			return true
		}
		var ok bool
		*dst, ok = str()
		return ok
	}
	var ok bool
	if !d.lit(`{"number":`) {
		return false
	}
	if c.Number, ok = str(); !ok {
		return false
	}
	if !opt(`,"name":`, &c.Name) || !opt(`,"first_name":`, &c.FirstName) || !opt(`,"job_title":`, &c.JobTitle) ||
		!opt(`,"company":`, &c.Company) || !opt(`,"email":`, &c.Email) {
		return false
	}
	if d.lit(`,"phones":[`) && !d.seq(`]`, func() bool {
		var p model.Phone
		if !d.lit(`{"number":`) {
			return false
		}
		if p.Number, ok = str(); !ok || !opt(`,"label":`, &p.Label) || !d.lit(`}`) {
			return false
		}
		c.Phones = append(c.Phones, p)
		return true
	}) {
		return false
	}
	if !opt(`,"crm_url":`, &c.CRMURL) {
		return false
	}
	if d.lit(`,"crm":{"type":`) {
		var r model.CRMRef
		if r.Type, ok = str(); !ok || !d.lit(`,"id":`) {
			return false
		}
		if r.ID, ok = str(); !ok || !d.lit(`}`) {
			return false
		}
		c.CRM = &r
	}
	if d.lit(`,"tags":[`) && !d.seq(`]`, func() bool {
		tag, ok := str()
		c.Tags = append(c.Tags, tag)
		return ok
	}) {
		return false
	}
	if d.lit(`,"fields":{`) {
		c.Fields = map[string]string{}
		prev := ""
		if !d.seq(`}`, func() bool {
			key, ok := str()
			if !ok || (len(c.Fields) > 0 && key <= prev) || !d.lit(`:`) {
				return false // (json.Marshal sorts the keys: no repeats)
			}
			val, ok := str()
			c.Fields[key], prev = val, key
			return ok
		}) {
			return false
		}
	}
	if !d.lit(`,"updated_at":`) || len(d.b) == 0 || d.b[0] != '"' {
		return false
	}
	end := bytes.IndexByte(d.b[1:], '"')
	if end < 0 {
		return false
	}
	// (time's own decoder: what json.Unmarshal calls)
	if err := c.UpdatedAt.UnmarshalJSON(d.b[:end+2]); err != nil {
		return false
	}
	d.b = d.b[end+2:]
	return d.lit(`}`) && len(d.b) == 0
}
