package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// Errors a caller (the JSON API, the UI) maps to a response.
var (
	// ErrNotFound: no such thing, or the user may not see it (the two are
	// not told apart, so existence does not leak). Same value as
	// store.ErrNotFound so errors.Is works for both.
	ErrNotFound = store.ErrNotFound
	// ErrForbidden: the user is known but lacks the role or scope.
	ErrForbidden = errors.New("gateway: forbidden")
	// ErrConflict: the thing is in a state that does not allow the action
	// (cancel a sent message, retry a delivered one).
	ErrConflict = errors.New("gateway: conflict")
	// ErrIdempotencyConflict: the idempotency key was used before with a
	// different request.
	ErrIdempotencyConflict = errors.New("gateway: idempotency key reused with a different request")
	// ErrUnauthorized: unknown, revoked or expired token, wrong password or
	// disabled user.
	ErrUnauthorized = errors.New("gateway: unauthorized")
	// ErrDuplicate: an incoming message whose parts were all stored before
	// (read again from a modem after a crash); nothing new was stored.
	ErrDuplicate = errors.New("gateway: incoming message already stored")
	// ErrExists: a unique name is taken.
	ErrExists = store.ErrExists
	// ErrStorageFull: the disk holding the database is full; the write was
	// not made and nothing stored before is affected (StorageFull says
	// since when). Same value as store.ErrStorageFull.
	ErrStorageFull = store.ErrStorageFull
)

// FieldError is one problem with one field of a request. Index is the
// position in a list field (recipients), -1 otherwise.
type FieldError struct {
	Field string `json:"field"`
	Index int    `json:"index"`
	Value string `json:"value,omitempty"`
	// Code says what kind of problem it is (a Code* constant; "" is
	// CodeInvalid, or CodeInvalidNumber for a number field).
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
}

// ValidationError lists what is wrong with a request.
type ValidationError struct {
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("gateway: invalid request: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Index >= 0 {
			fmt.Fprintf(&b, "%s[%d]: %s", f.Field, f.Index, f.Reason)
		} else {
			fmt.Fprintf(&b, "%s: %s", f.Field, f.Reason)
		}
	}
	return b.String()
}

func (e *ValidationError) add(field string, index int, value, reason string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Index: index, Value: value, Reason: reason})
}

func (e *ValidationError) errOrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func invalid(field, reason string) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Index: -1, Reason: reason}}}
}
