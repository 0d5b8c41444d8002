package store

import (
	"time"
)

// Received parts: the dedup keys of parts already stored, and the parts of
// multipart messages waiting for their siblings.

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
