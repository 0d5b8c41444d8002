package store

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// PutSession stores (or updates) a session.
func (tx *Tx) PutSession(s *model.Session) error {
	if len(s.Hash) == 0 {
		return fmt.Errorf("store: session without hash")
	}
	if err := tx.b(bIdxSessionUser).Put(k(u64(uint64(s.UserID)), s.Hash), nil); err != nil {
		return err
	}
	return putJSON(tx.b(bSessions), s.Hash, s)
}

// Session reads the session whose secret hashes to hash.
func (tx *Tx) Session(hash []byte) (model.Session, error) {
	var s model.Session
	if err := getJSON(tx.b(bSessions), hash, &s); err != nil {
		return model.Session{}, fmt.Errorf("store: session: %w", err)
	}
	return s, nil
}

// DeleteSession removes a session (nil when it is already gone).
func (tx *Tx) DeleteSession(hash []byte) error {
	s, err := tx.Session(hash)
	if err != nil {
		return nil
	}
	if err := tx.b(bIdxSessionUser).Delete(k(u64(uint64(s.UserID)), hash)); err != nil {
		return err
	}
	return tx.b(bSessions).Delete(hash)
}

// DeleteUserSessions removes every session of user u except keep (nil:
// none kept) and says how many went.
func (tx *Tx) DeleteUserSessions(u model.ID, keep []byte) (int, error) {
	prefix := u64(uint64(u))
	var hashes [][]byte
	c := tx.b(bIdxSessionUser).Cursor()
	for key, _ := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, _ = c.Next() {
		h := bytes.Clone(key[len(prefix):])
		if keep == nil || !bytes.Equal(h, keep) {
			hashes = append(hashes, h) // deleting while iterating would skip keys
		}
	}
	for _, h := range hashes {
		if err := tx.DeleteSession(h); err != nil {
			return 0, err
		}
	}
	return len(hashes), nil
}

// DeleteExpiredSessions removes sessions whose absolute expiry or idle
// limit has passed at now.
func (tx *Tx) DeleteExpiredSessions(now time.Time, idle time.Duration) (int, error) {
	var gone [][]byte
	err := tx.b(bSessions).ForEach(func(key, v []byte) error {
		var s model.Session
		if err := getJSON(tx.b(bSessions), key, &s); err != nil {
			return err
		}
		if !now.Before(s.ExpiresAt) || (idle > 0 && now.Sub(s.LastSeenAt) >= idle) {
			gone = append(gone, bytes.Clone(key))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, h := range gone {
		if err := tx.DeleteSession(h); err != nil {
			return 0, err
		}
	}
	return len(gone), nil
}
