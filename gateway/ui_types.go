package gateway

import (
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// Aliases of the storage records the web packages see through the core,
// so that they need not import gateway/store. (Issue 10 moves these types
// to a model package; these aliases then go.)
type (
	ID           = store.ID
	User         = store.User
	Message      = store.Message
	Contact      = store.Contact
	Phone        = store.Phone
	Notification = store.Notification
	Session      = store.Session
	Page         = store.Page
	State        = store.State
	CRMRef       = store.CRMRef
	Role         = store.Role
	Visibility   = store.Visibility
	Direction    = store.Direction
)

// ParseID reads an ID as the UI and API print it (16 hex digits).
func ParseID(s string) (ID, error) { return store.ParseID(s) }

// IDAt is the smallest ID made at t: IDs after it were made later.
func IDAt(t time.Time) ID { return store.IDAt(t) }
