package store

import (
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Records of bulk sending: opt-outs, groups, saved searches, templates,
// campaigns (buckets of format version 3).

// OptedOut reports whether number (E.164) opted out of bulk sends.
func (tx *Tx) OptedOut(number string) bool { return tx.get(bOptOuts, []byte(number)) != nil }

// PutOptOut records o (replacing an earlier record of the number).
func (tx *Tx) PutOptOut(o *model.OptOut) error {
	if o.Number == "" {
		return fmt.Errorf("store: opt-out: empty number")
	}
	return putJSON(tx.b(bOptOuts), []byte(o.Number), o)
}

// DeleteOptOut forgets number's opt-out (ErrNotFound when there was none).
func (tx *Tx) DeleteOptOut(number string) error {
	if !tx.OptedOut(number) {
		return ErrNotFound
	}
	return tx.b(bOptOuts).Delete([]byte(number))
}

// OptOuts calls fn for every opt-out in number order until fn returns
// false.
func (tx *Tx) OptOuts(fn func(model.OptOut) bool) error {
	return eachJSON(tx, bOptOuts, fn)
}

// Group reads the group with id.
func (tx *Tx) Group(id string) (model.Group, error) {
	var g model.Group
	err := getJSON(tx.b(bGroups), []byte(id), &g)
	return g, err
}

// PutGroup creates or replaces g.
func (tx *Tx) PutGroup(g *model.Group) error { return putNamed(tx, bGroups, g.ID, g) }

// DeleteGroup removes the group with id (ErrNotFound when there is none).
func (tx *Tx) DeleteGroup(id string) error { return deleteNamed(tx, bGroups, id) }

// Groups calls fn for every group in id order.
func (tx *Tx) Groups(fn func(model.Group) bool) error { return eachJSON(tx, bGroups, fn) }

// SavedSearch reads the saved search with id.
func (tx *Tx) SavedSearch(id string) (model.SavedSearch, error) {
	var s model.SavedSearch
	err := getJSON(tx.b(bSavedSearches), []byte(id), &s)
	return s, err
}

// PutSavedSearch creates or replaces s.
func (tx *Tx) PutSavedSearch(s *model.SavedSearch) error {
	return putNamed(tx, bSavedSearches, s.ID, s)
}

// DeleteSavedSearch removes the saved search with id.
func (tx *Tx) DeleteSavedSearch(id string) error { return deleteNamed(tx, bSavedSearches, id) }

// SavedSearches calls fn for every saved search in id order.
func (tx *Tx) SavedSearches(fn func(model.SavedSearch) bool) error {
	return eachJSON(tx, bSavedSearches, fn)
}

// Template reads the template with id.
func (tx *Tx) Template(id string) (model.Template, error) {
	var t model.Template
	err := getJSON(tx.b(bTemplates), []byte(id), &t)
	return t, err
}

// PutTemplate creates or replaces t.
func (tx *Tx) PutTemplate(t *model.Template) error { return putNamed(tx, bTemplates, t.ID, t) }

// DeleteTemplate removes the template with id.
func (tx *Tx) DeleteTemplate(id string) error { return deleteNamed(tx, bTemplates, id) }

// Templates calls fn for every template in id order.
func (tx *Tx) Templates(fn func(model.Template) bool) error { return eachJSON(tx, bTemplates, fn) }

// Campaign reads the campaign of batch id.
func (tx *Tx) Campaign(id model.ID) (model.Campaign, error) {
	var c model.Campaign
	err := getJSON(tx.b(bCampaigns), u64(uint64(id)), &c)
	return c, err
}

// PutCampaign creates or replaces c.
func (tx *Tx) PutCampaign(c *model.Campaign) error {
	return putJSON(tx.b(bCampaigns), u64(uint64(c.BatchID)), c)
}

// Campaigns calls fn for every campaign, newest first.
func (tx *Tx) Campaigns(fn func(model.Campaign) bool) error {
	cur := tx.b(bCampaigns).Cursor()
	for key, v := cur.Last(); key != nil; key, v = cur.Prev() {
		var c model.Campaign
		if err := unmarshal(v, &c); err != nil {
			return err
		}
		if !fn(c) {
			break
		}
	}
	return nil
}

func putNamed(tx *Tx, bucket []byte, id string, v any) error {
	if id == "" || len(id) > 200 {
		return fmt.Errorf("store: %s: id must be 1 to 200 octets", bucket)
	}
	return putJSON(tx.b(bucket), []byte(id), v)
}

func deleteNamed(tx *Tx, bucket []byte, id string) error {
	if tx.b(bucket).Get([]byte(id)) == nil {
		return ErrNotFound
	}
	return tx.b(bucket).Delete([]byte(id))
}

func eachJSON[T any](tx *Tx, bucket []byte, fn func(T) bool) error {
	cur := tx.b(bucket).Cursor()
	for key, v := cur.First(); key != nil; key, v = cur.Next() {
		var x T
		if err := unmarshal(v, &x); err != nil {
			return err
		}
		if !fn(x) {
			break
		}
	}
	return nil
}
