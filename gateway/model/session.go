package model

import "time"

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
