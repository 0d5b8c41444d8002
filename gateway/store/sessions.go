package store

import (
	"bytes"
	"fmt"
	"time"
)

// Session is a staff member's login to the web UI. The cookie holds a
// random secret; only its SHA-256 (Hash) is stored.
type Session struct {
	Hash   []byte `json:"hash"`
	UserID ID     `json:"user_id"`
	// CSRF is the token the UI's forms carry (a second, independent
	// secret: it is in the page, the session secret is not).
	CSRF       string    `json:"csrf"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end, whatever the activity.
	ExpiresAt time.Time `json:"expires_at"`
	Address   string    `json:"address,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// PutSession stores (or updates) a session.
func (tx *Tx) PutSession(s *Session) error {
	if len(s.Hash) == 0 {
		return fmt.Errorf("store: session without hash")
	}
	if err := tx.b(bIdxSessionUser).Put(k(u64(uint64(s.UserID)), s.Hash), nil); err != nil {
		return err
	}
	return putJSON(tx.b(bSessions), s.Hash, s)
}

// Session reads the session whose secret hashes to hash.
func (tx *Tx) Session(hash []byte) (Session, error) {
	var s Session
	if err := getJSON(tx.b(bSessions), hash, &s); err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
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
func (tx *Tx) DeleteUserSessions(u ID, keep []byte) (int, error) {
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
		var s Session
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
