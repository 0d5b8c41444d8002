package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"golang.org/x/crypto/bcrypt"
)

// Staff log in to the web UI with their password and get a session: a
// random secret in a cookie, of which the store keeps only the SHA-256.
// A session ends at logout, after Options.SessionIdle without use, at
// Options.SessionMax after login, when the user is disabled, or when the
// password changes (every other session of the user ends).

// SessionTouchInterval: a session's LastSeenAt is written at most this
// often, so that each page view is not a write.
const SessionTouchInterval = time.Minute

func randomSecret() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("gateway: session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// CreateSession starts a session for user userID (after Login) and returns
// its secret, to be put in the cookie and never shown again.
func (s *Service) CreateSession(ctx context.Context, userID model.ID, address, userAgent string) (string, model.Session, error) {
	if err := ctxErr(ctx); err != nil {
		return "", model.Session{}, err
	}
	secret, err := randomSecret()
	if err != nil {
		return "", model.Session{}, err
	}
	csrf, err := randomSecret()
	if err != nil {
		return "", model.Session{}, err
	}
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	now := s.clock.Now()
	sess := model.Session{Hash: hashSecret(secret), UserID: userID, CSRF: csrf, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.opt.SessionMax), Address: address, UserAgent: userAgent}
	err = s.st.Update(func(tx *store.Tx) error {
		u, err := tx.User(userID)
		if err != nil || u.Disabled {
			return ErrUnauthorized
		}
		// Opportunistic clean-up: logins are rare, sessions few.
		if _, err := tx.DeleteExpiredSessions(now, s.opt.SessionIdle); err != nil {
			return err
		}
		return tx.PutSession(&sess)
	})
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return "", model.Session{}, err
		}
		return "", model.Session{}, fmt.Errorf("gateway: create session: %w", err)
	}
	return secret, sess, nil
}

// SessionByToken finds the live session with this secret and its user;
// ErrUnauthorized for an unknown, ended or expired session or a disabled
// user. It counts as use (idle expiry restarts).
func (s *Service) SessionByToken(ctx context.Context, secret string) (model.User, model.Session, error) {
	if secret == "" {
		return model.User{}, model.Session{}, ErrUnauthorized
	}
	hash := hashSecret(secret)
	var u model.User
	var sess model.Session
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		if sess, err = tx.Session(hash); err != nil {
			return err
		}
		u, err = tx.User(sess.UserID)
		return err
	})
	now := s.clock.Now()
	if err != nil || u.Disabled || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.opt.SessionIdle {
		return model.User{}, model.Session{}, ErrUnauthorized
	}
	if now.Sub(sess.LastSeenAt) >= SessionTouchInterval {
		_ = s.st.Update(func(tx *store.Tx) error {
			cur, err := tx.Session(hash)
			if err != nil {
				return err
			}
			cur.LastSeenAt = now
			return tx.PutSession(&cur)
		})
		sess.LastSeenAt = now
	}
	return public(u), sess, nil
}

// Logout ends the session with this secret (nil when it was already gone).
func (s *Service) Logout(ctx context.Context, secret string) error {
	if err := s.st.Update(func(tx *store.Tx) error { return tx.DeleteSession(hashSecret(secret)) }); err != nil {
		return fmt.Errorf("gateway: logout: %w", err)
	}
	return nil
}

// EndSessions ends every session of user userID (an admin revoking a
// login, a disabled account).
func (s *Service) EndSessions(ctx context.Context, userID model.ID) (int, error) {
	var n int
	err := s.st.Update(func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteUserSessions(userID, nil)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("gateway: end sessions: %w", err)
	}
	return n, nil
}

// ChangePassword sets a user's own password after checking the current
// one (ErrUnauthorized when wrong). Every session of the user ends except
// the one with secret keep (the one the change was made from).
func (s *Service) ChangePassword(ctx context.Context, userID model.ID, current, next, keep string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	hash, err := s.hashPassword(next)
	if err != nil {
		return err
	}
	var keepHash []byte
	if keep != "" {
		keepHash = hashSecret(keep)
	}
	err = s.st.Update(func(tx *store.Tx) error {
		u, err := tx.User(userID)
		if err != nil || u.Disabled {
			return ErrUnauthorized
		}
		if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(current)) != nil {
			return ErrUnauthorized
		}
		u.PasswordHash = hash
		u.UpdatedAt = s.clock.Now()
		if err := tx.PutUser(&u); err != nil {
			return err
		}
		_, err = tx.DeleteUserSessions(userID, keepHash)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return err
		}
		return fmt.Errorf("gateway: change password: %w", err)
	}
	return nil
}

// SetIncludeMarketing sets the user's own "include marketed when sorting";
// the next conversation listing uses it.
func (s *Service) SetIncludeMarketing(ctx context.Context, userID model.ID, on bool) (model.User, error) {
	return s.UpdateUser(ctx, userID, UserUpdate{IncludeMarketedWhenSorting: &on})
}
