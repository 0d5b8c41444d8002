package store

import (
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// AppendAudit adds an entry to the administration log (its ID is set when
// zero). There is no call that changes or deletes one.
func (tx *Tx) AppendAudit(e *model.AuditEntry) error {
	if e.ID == 0 {
		e.ID = tx.NewID()
	}
	if err := putJSON(tx.b(bAudit), u64(uint64(e.ID)), e); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// Audit lists up to limit entries older than before (0: the newest),
// newest first.
func (tx *Tx) Audit(before model.ID, limit int) ([]model.AuditEntry, error) {
	var b []byte
	if before != 0 {
		b = u64(uint64(before))
	}
	var out []model.AuditEntry
	var err error
	revScan(tx.b(bAudit), nil, b, func(_, v []byte) bool {
		var e model.AuditEntry
		if err = unmarshal(v, &e); err != nil {
			return false
		}
		out = append(out, e)
		return len(out) < limit
	})
	return out, err
}
