package store

import (
	"github.com/gsmgate/gsmgate/gateway/model"
)

// Idempotency keys: the batch a keyed Send created.

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
