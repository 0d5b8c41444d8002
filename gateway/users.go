package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"golang.org/x/crypto/bcrypt"
)

// NewUser describes a user to create.
type NewUser struct {
	Name     string
	Password string
	// Role defaults to staff, Visibility to incoming_and_outgoing.
	Role                       model.Role
	Visibility                 model.Visibility
	IncludeMarketedWhenSorting bool
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	Name                       *string
	Role                       *model.Role
	Visibility                 *model.Visibility
	IncludeMarketedWhenSorting *bool
	Disabled                   *bool
	Password                   *string
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

func validateUserFields(name string, role model.Role, vis model.Visibility) error {
	v := &ValidationError{}
	if n := strings.TrimSpace(name); n == "" || n != name || utf8.RuneCountInString(name) > 64 {
		v.add("name", -1, name, "1 to 64 characters without surrounding spaces")
	}
	if role != model.RoleAdmin && role != model.RoleStaff {
		v.add("role", -1, string(role), "must be admin or staff")
	}
	if vis != model.VisibilityAll && vis != model.VisibilityOwn {
		v.add("visibility", -1, string(vis), "must be incoming_and_outgoing or outgoing_only")
	}
	return v.errOrNil()
}

func (s *Service) hashPassword(pw string) ([]byte, error) {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return nil, invalid("password", fmt.Sprintf("at least %d characters", MinPasswordLen))
	}
	if len(pw) > 72 {
		// bcrypt reads only 72 bytes; refuse rather than silently ignore the rest.
		return nil, invalid("password", "at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.opt.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("gateway: hash password: %w", err)
	}
	return h, nil
}

// public strips secrets from a user before it leaves the package.
func public(u model.User) model.User {
	u.PasswordHash = nil
	return u
}

// CreateUser adds a user (ErrExists when the name is taken). The caller
// checks that the acting user may (RequireAdmin).
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (model.User, error) {
	if err := ctxErr(ctx); err != nil {
		return model.User{}, err
	}
	if nu.Role == "" {
		nu.Role = model.RoleStaff
	}
	if nu.Visibility == "" {
		nu.Visibility = model.VisibilityAll
	}
	if err := validateUserFields(nu.Name, nu.Role, nu.Visibility); err != nil {
		return model.User{}, err
	}
	hash, err := s.hashPassword(nu.Password)
	if err != nil {
		return model.User{}, err
	}
	now := s.clock.Now()
	u := model.User{ID: s.st.NewID(), Name: nu.Name, Role: nu.Role, Visibility: nu.Visibility,
		IncludeMarketedWhenSorting: nu.IncludeMarketedWhenSorting, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.st.Update(func(tx *store.Tx) error { return tx.PutUser(&u) }); err != nil {
		return model.User{}, fmt.Errorf("gateway: create user: %w", err)
	}
	return public(u), nil
}

// UpdateUser changes a user.
func (s *Service) UpdateUser(ctx context.Context, id model.ID, up UserUpdate) (model.User, error) {
	if err := ctxErr(ctx); err != nil {
		return model.User{}, err
	}
	var hash []byte
	if up.Password != nil {
		var err error
		if hash, err = s.hashPassword(*up.Password); err != nil {
			return model.User{}, err
		}
	}
	var u model.User
	err := s.st.Update(func(tx *store.Tx) error {
		var err error
		if u, err = tx.User(id); err != nil {
			return err
		}
		if up.Name != nil {
			u.Name = *up.Name
		}
		if up.Role != nil {
			u.Role = *up.Role
		}
		if up.Visibility != nil {
			u.Visibility = *up.Visibility
		}
		if up.IncludeMarketedWhenSorting != nil {
			u.IncludeMarketedWhenSorting = *up.IncludeMarketedWhenSorting
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if hash != nil {
			u.PasswordHash = hash
		}
		if err := validateUserFields(u.Name, u.Role, u.Visibility); err != nil {
			return err
		}
		u.UpdatedAt = s.clock.Now()
		return tx.PutUser(&u)
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return model.User{}, err
		}
		return model.User{}, fmt.Errorf("gateway: update user %s: %w", id, err)
	}
	return public(u), nil
}

// User reads a user (without the password hash).
func (s *Service) User(ctx context.Context, id model.ID) (model.User, error) {
	var u model.User
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		u, err = tx.User(id)
		return err
	})
	return public(u), err
}

// Users lists all users.
func (s *Service) Users(ctx context.Context) ([]model.User, error) {
	var us []model.User
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		us, err = tx.Users()
		return err
	})
	for i := range us {
		us[i] = public(us[i])
	}
	return us, err
}

// RequireAdmin returns nil when user id is an enabled admin, ErrForbidden
// otherwise.
func (s *Service) RequireAdmin(ctx context.Context, id model.ID) error {
	u, err := s.User(ctx, id)
	if err != nil || u.Disabled || u.Role != model.RoleAdmin {
		return ErrForbidden
	}
	return nil
}

// Login checks a name and password; ErrUnauthorized for an unknown name,
// a wrong password or a disabled user (not told apart).
func (s *Service) Login(ctx context.Context, name, password string) (model.User, error) {
	var u model.User
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		u, err = tx.UserByName(name)
		return err
	})
	if err != nil {
		// Spend the time a check would, so timing does not reveal names.
		s.dummyOnce.Do(func() {
			s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("gsmgate dummy password"), s.opt.PasswordCost)
		})
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return model.User{}, ErrUnauthorized
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil || u.Disabled {
		return model.User{}, ErrUnauthorized
	}
	return public(u), nil
}

// TokenPrefix starts every API token secret, so a leaked one is
// recognisable (secret scanners, logs).
const TokenPrefix = "gsm_"

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func publicToken(t model.Token) model.Token {
	t.Hash = nil
	return t
}

// CreateToken makes an API token for user userID and returns it with its
// secret, shown this once (only its SHA-256 is kept: the secret has 256
// random bits, so a slow hash adds nothing). A zero expiresAt never
// expires.
func (s *Service) CreateToken(ctx context.Context, userID model.ID, name string, scopes []model.Scope, expiresAt time.Time) (model.Token, string, error) {
	if err := ctxErr(ctx); err != nil {
		return model.Token{}, "", err
	}
	v := &ValidationError{}
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 64 {
		v.add("name", -1, name, "1 to 64 characters")
	}
	if len(scopes) == 0 {
		v.add("scopes", -1, "", "at least one of send, read, admin")
	}
	for i, sc := range scopes {
		if sc != model.ScopeSend && sc != model.ScopeRead && sc != model.ScopeAdmin {
			v.add("scopes", i, string(sc), "must be send, read or admin")
		}
	}
	if err := v.errOrNil(); err != nil {
		return model.Token{}, "", err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return model.Token{}, "", fmt.Errorf("gateway: token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := model.Token{ID: s.st.NewID(), UserID: userID, Name: name, Scopes: slices.Clone(scopes),
		Hash: hashSecret(secret), Prefix: secret[:len(TokenPrefix)+6], CreatedAt: s.clock.Now(), ExpiresAt: expiresAt}
	err := s.st.Update(func(tx *store.Tx) error {
		u, err := tx.User(userID)
		if err != nil {
			return err
		}
		if slices.Contains(scopes, model.ScopeAdmin) && u.Role != model.RoleAdmin {
			return invalid("scopes", "only an admin's token may have the admin scope")
		}
		return tx.PutToken(&t)
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return model.Token{}, "", err
		}
		return model.Token{}, "", fmt.Errorf("gateway: create token: %w", err)
	}
	return publicToken(t), secret, nil
}

// ListTokens lists user userID's tokens (every user's when userID is 0),
// without hashes.
func (s *Service) ListTokens(ctx context.Context, userID model.ID) ([]model.Token, error) {
	var ts []model.Token
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		ts, err = tx.Tokens(userID)
		return err
	})
	for i := range ts {
		ts[i] = publicToken(ts[i])
	}
	return ts, err
}

// RevokeToken deletes a token. actor must own it or be an admin
// (ErrNotFound otherwise, so token IDs do not leak).
func (s *Service) RevokeToken(ctx context.Context, actor, tokenID model.ID) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := tx.Token(tokenID)
		if err != nil {
			return ErrNotFound
		}
		if t.UserID != actor {
			u, err := tx.User(actor)
			if err != nil || u.Role != model.RoleAdmin {
				return ErrNotFound
			}
		}
		return tx.DeleteToken(tokenID)
	})
}

// Authenticate finds the token with this secret and its user; ErrUnauthorized
// for an unknown or expired token or a disabled user.
func (s *Service) Authenticate(ctx context.Context, secret string) (model.User, model.Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return model.User{}, model.Token{}, ErrUnauthorized
	}
	var u model.User
	var t model.Token
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		if t, err = tx.TokenByHash(hashSecret(secret)); err != nil {
			return err
		}
		u, err = tx.User(t.UserID)
		return err
	})
	now := s.clock.Now()
	if err != nil || u.Disabled || (!t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)) {
		return model.User{}, model.Token{}, ErrUnauthorized
	}
	if now.Sub(t.LastUsedAt) >= s.opt.TokenTouchInterval {
		_ = s.st.Update(func(tx *store.Tx) error {
			cur, err := tx.Token(t.ID)
			if err != nil {
				return err
			}
			cur.LastUsedAt = now
			return tx.PutToken(&cur)
		})
		t.LastUsedAt = now
	}
	return public(u), publicToken(t), nil
}

// UserByName finds a user by name, case-insensitively (ErrNotFound when
// there is none).
func (s *Service) UserByName(ctx context.Context, name string) (model.User, error) {
	us, err := s.Users(ctx)
	if err != nil {
		return model.User{}, err
	}
	for _, u := range us {
		if strings.EqualFold(u.Name, name) {
			return u, nil
		}
	}
	return model.User{}, ErrNotFound
}
