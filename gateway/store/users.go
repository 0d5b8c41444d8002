package store

import (
	"fmt"
	"strings"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Users and their API tokens.

// User reads a user.
func (tx *Tx) User(id model.ID) (model.User, error) {
	var u model.User
	if err := getJSON(tx.b(bUsers), u64(uint64(id)), &u); err != nil {
		return model.User{}, fmt.Errorf("store: user %s: %w", id, err)
	}
	return u, nil
}

// UserByName reads a user by name (case-insensitive).
func (tx *Tx) UserByName(name string) (model.User, error) {
	v := tx.b(bUsersByName).Get([]byte(strings.ToLower(name)))
	if v == nil {
		return model.User{}, fmt.Errorf("store: user %q: %w", name, ErrNotFound)
	}
	return tx.User(model.ID(getU64(v)))
}

// PutUser creates or updates a user; names are unique (ErrExists).
func (tx *Tx) PutUser(u *model.User) error {
	if u.ID == 0 {
		return fmt.Errorf("store: put user: zero id")
	}
	lname := []byte(strings.ToLower(u.Name))
	if v := tx.b(bUsersByName).Get(lname); v != nil && model.ID(getU64(v)) != u.ID {
		return fmt.Errorf("store: user %q: %w", u.Name, ErrExists)
	}
	if old, err := tx.User(u.ID); err == nil && !strings.EqualFold(old.Name, u.Name) {
		if err := tx.b(bUsersByName).Delete([]byte(strings.ToLower(old.Name))); err != nil {
			return err
		}
	}
	if err := tx.b(bUsersByName).Put(lname, u64(uint64(u.ID))); err != nil {
		return err
	}
	return putJSON(tx.b(bUsers), u64(uint64(u.ID)), u)
}

// Users lists all users by ID.
func (tx *Tx) Users() ([]model.User, error) {
	var out []model.User
	err := tx.b(bUsers).ForEach(func(_, v []byte) error {
		var u model.User
		if err := unmarshal(v, &u); err != nil {
			return err
		}
		out = append(out, u)
		return nil
	})
	return out, err
}

// PutToken stores a token.
func (tx *Tx) PutToken(t *model.Token) error {
	if err := tx.b(bTokensByHash).Put(t.Hash, u64(uint64(t.ID))); err != nil {
		return err
	}
	return putJSON(tx.b(bTokens), u64(uint64(t.ID)), t)
}

// Token reads a token.
func (tx *Tx) Token(id model.ID) (model.Token, error) {
	var t model.Token
	if err := getJSON(tx.b(bTokens), u64(uint64(id)), &t); err != nil {
		return model.Token{}, fmt.Errorf("store: token %s: %w", id, err)
	}
	return t, nil
}

// TokenByHash finds a token by the SHA-256 of its secret.
func (tx *Tx) TokenByHash(hash []byte) (model.Token, error) {
	v := tx.b(bTokensByHash).Get(hash)
	if v == nil {
		return model.Token{}, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	return tx.Token(model.ID(getU64(v)))
}

// DeleteToken removes a token.
func (tx *Tx) DeleteToken(id model.ID) error {
	t, err := tx.Token(id)
	if err != nil {
		return err
	}
	if err := tx.b(bTokensByHash).Delete(t.Hash); err != nil {
		return err
	}
	return tx.b(bTokens).Delete(u64(uint64(id)))
}

// Tokens lists the tokens of user u (all users when u is 0).
func (tx *Tx) Tokens(u model.ID) ([]model.Token, error) {
	var out []model.Token
	err := tx.b(bTokens).ForEach(func(_, v []byte) error {
		var t model.Token
		if err := unmarshal(v, &t); err != nil {
			return err
		}
		if u == 0 || t.UserID == u {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}
