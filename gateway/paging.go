package gateway

import (
	"encoding/base64"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Page asks for one page of a listing. Cursor is the Next of the page before
// ("" for the first page); it is opaque to callers, and one this server did
// not give is a *ValidationError on field "cursor". Limit is how many items
// (0 or out of range: the listing's default).
type Page struct {
	Cursor string
	Limit  int
}

// Paged is one page of a listing; Next is the cursor of the following page,
// "" at the end.
type Paged[T any] struct {
	Items []T
	Next  string
}

// limit is p.Limit within 1..max, def otherwise.
func (p Page) limit(def, max int) int {
	if p.Limit <= 0 || p.Limit > max {
		return def
	}
	return p.Limit
}

// idCursor reads a cursor that is a message or notification ID.
func (p Page) idCursor() (model.ID, error) {
	if p.Cursor == "" {
		return 0, nil
	}
	id, err := model.ParseID(p.Cursor)
	if err != nil {
		return 0, errBadCursor
	}
	return id, nil
}

// keyCursor reads a cursor that is a store index key.
func (p Page) keyCursor() ([]byte, error) {
	if p.Cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || len(b) == 0 {
		return nil, errBadCursor
	}
	return b, nil
}

func keyNext(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

var errBadCursor = invalid("cursor", "not a cursor this server gave")
