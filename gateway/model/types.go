// Package model holds gsmgate's domain types: messages and their parts and
// states, users, tokens, contacts, notifications, webhooks. It is a leaf: it
// imports nothing of gsmgate, so the store, the core, the webhook sender and
// the web packages can all speak of the same Message without importing each
// other. The JSON tags are the storage encoding (gateway/store writes these
// records as JSON); the HTTP APIs build their own shapes from these types.
package model

import (
	"fmt"
	"strconv"
	"time"
)

// ID identifies a record. IDs sort by the time they were made: the high bits
// are Unix milliseconds, the low 20 bits a counter (see DB.NewID). The zero
// ID means "none".
type ID uint64

// idCounterBits is the width of the per-millisecond counter in an ID.
const idCounterBits = 20

// Time is the moment the ID was made (to the millisecond).
func (id ID) Time() time.Time { return time.UnixMilli(int64(id >> idCounterBits)).UTC() }

// String is 16 lower-case hex digits, so the text sorts like the number.
func (id ID) String() string {
	var b [16]byte
	return string(id.appendHex(b[:0]))
}

// MarshalText writes String.
// (One allocation: every stored record carries IDs, and fmt's formatting
// took three per ID, a tenth of a 10,000-recipient send's allocations.)
func (id ID) MarshalText() ([]byte, error) { return id.appendHex(make([]byte, 0, 16)), nil }

// appendHex appends the 16 lower-case hex digits of id to b.
func (id ID) appendHex(b []byte) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[(uint64(id)>>uint(shift))&0xf])
	}
	return b
}

// UnmarshalText reads what MarshalText writes.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID reads an ID as String writes it.
func ParseID(s string) (ID, error) {
	if len(s) == 0 || len(s) > 16 {
		return 0, fmt.Errorf("bad id %q", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("bad id %q", s)
	}
	return ID(v), nil
}

// State is the state of a message or of one of its parts. The same names are
// used in the store, the API, the UI and webhooks.
type State string

// The states. A message moves queued → submitting → sent → delivered, or ends
// failed, unknown (the process died during AT+CMGS), cancelled or expired.
const (
	StateQueued     State = "queued"
	StateSubmitting State = "submitting"
	StateSent       State = "sent"
	StateDelivered  State = "delivered"
	StateFailed     State = "failed"
	StateUnknown    State = "unknown"
	StateCancelled  State = "cancelled"
	StateExpired    State = "expired"
)

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	switch s {
	case StateQueued, StateSubmitting, StateSent, StateDelivered, StateFailed, StateUnknown, StateCancelled, StateExpired:
		return true
	}
	return false
}

// Final reports whether nothing more will happen to a message in this state
// on its own (sent is not final: a status report may still come).
func (s State) Final() bool {
	switch s {
	case StateDelivered, StateFailed, StateUnknown, StateCancelled, StateExpired:
		return true
	}
	return false
}

// IsFailure reports whether the state is listed among send failures.
func (s State) IsFailure() bool { return s == StateFailed || s == StateUnknown || s == StateExpired }

// Direction says who sent a message.
type Direction string

// Directions.
const (
	Outgoing Direction = "out"
	Incoming Direction = "in"
)

// CRMRef points at the record in a CRM a message was sent from.
type CRMRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Message is one message with one other party: for a send to several
// recipients there is one Message per recipient, sharing BatchID.
type Message struct {
	ID        ID        `json:"id"`
	BatchID   ID        `json:"batch_id,omitempty"`
	Direction Direction `json:"direction"`
	// Number is the other party in E.164 (recipient or originator).
	Number string `json:"number"`
	Text   string `json:"text,omitempty"`
	// Data holds 8-bit user data (WAP push and the like), kept as octets
	// rather than decoded as text.
	Data     []byte `json:"data,omitempty"`
	Encoding string `json:"encoding,omitempty"`
	// Parts is the number of SMS parts, as counted once at Send.
	Parts int   `json:"parts"`
	State State `json:"state"`
	// Reason says in plain words why a message failed.
	Reason string `json:"reason,omitempty"`
	// UserID is the sending user of an outgoing message.
	UserID ID `json:"user_id,omitempty"`
	// Users are the users an incoming message is associated with; empty
	// means the unassigned inbox.
	Users []ID `json:"users,omitempty"`
	// Marketing is set on every message of a send to several recipients.
	Marketing bool `json:"marketing,omitempty"`
	// Priority is the sender's explicit priority (-128..127, 0 when none
	// was given): above 0 the message goes before everything else, below
	// 0 after the bulk sends (see store.Lane). 100 and more also pass the
	// sending policy's quiet hours and daily cap (SMSGate's meaning).
	Priority int `json:"priority,omitempty"`
	// Campaign names the bulk send the message belongs to.
	Campaign     string    `json:"campaign,omitempty"`
	StatusReport bool      `json:"status_report,omitempty"`
	CRM          *CRMRef   `json:"crm,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	SendAt       time.Time `json:"send_at,omitzero"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	SentAt       time.Time `json:"sent_at,omitzero"`
	DeliveredAt  time.Time `json:"delivered_at,omitzero"`
	FailedAt     time.Time `json:"failed_at,omitzero"`
	// Dismissed hides a failure from the failures listing.
	Dismissed bool `json:"dismissed,omitempty"`
	// Incomplete marks an incoming multipart message delivered without all
	// its parts (the rest never came within the timeout).
	Incomplete bool `json:"incomplete,omitempty"`
	// Modem is the modem that sent (last tried) or received the message.
	Modem string `json:"modem,omitempty"`
	// Attempts counts send attempts over all parts.
	Attempts int `json:"attempts,omitempty"`
	// Ref is the concatenation reference of a multipart message.
	Ref uint16 `json:"ref,omitempty"`
	// RawPDUs keeps the PDUs an incoming message was received as.
	RawPDUs [][]byte `json:"raw_pdus,omitempty"`
}

// Part is one SMS of an outgoing message.
type Part struct {
	MessageID ID    `json:"message_id"`
	Seq       int   `json:"seq"`
	State     State `json:"state"`
	// TPDU is the SMS-SUBMIT to send (MR 0; the modem assigns one).
	TPDU []byte `json:"tpdu,omitempty"`
	// Modem is the modem the part was last handed to, MR the reference it
	// answered with (-1 before +CMGS answered).
	Modem       string    `json:"modem,omitempty"`
	MR          int       `json:"mr"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	Error       string    `json:"error,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// StoreSend (store format 5) is set in the claim's commit when the part
	// goes through a modem that stores before sending (+CMGW, then +CMSS),
	// and cleared (committed) before a fallback to +CMGS. SlotStorage and
	// SlotIndex (format 5) are where the modem stored it, committed before
	// +CMSS and cleared once the outcome is recorded. Together they let a
	// restart resolve a part left "submitting": StoreSend without a slot
	// never reached +CMSS (send it again); with a slot, the stored copy's
	// status says whether it went.
	StoreSend   bool   `json:"store_send,omitempty"`
	SlotStorage string `json:"slot_storage,omitempty"`
	SlotIndex   int    `json:"slot_index,omitempty"`
}

// Stored reports whether the part has a stored copy on its modem.
func (p *Part) Stored() bool { return p.SlotStorage != "" }

// RollUp derives a message's state from its parts' states: a failure of any
// part decides (failed, then unknown, then expired), then cancelled; while
// any part is in flight the message is submitting, while any waits it is
// queued; it is delivered when every part is, sent otherwise.
func RollUp(parts []Part) State {
	if len(parts) == 0 {
		return StateQueued
	}
	has := map[State]int{}
	for _, p := range parts {
		has[p.State]++
	}
	for _, s := range []State{StateFailed, StateUnknown, StateExpired, StateCancelled, StateSubmitting, StateQueued} {
		if has[s] > 0 {
			return s
		}
	}
	if has[StateDelivered] == len(parts) {
		return StateDelivered
	}
	return StateSent
}

// Role is a user's role.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// Visibility is what of a conversation a user sees.
type Visibility string

// Visibility modes.
const (
	// VisibilityAll: the whole conversation, colleagues' messages too.
	VisibilityAll Visibility = "incoming_and_outgoing"
	// VisibilityOwn: only the messages the user sent.
	VisibilityOwn Visibility = "outgoing_only"
)

// User is a person (or the owner of machine tokens).
type User struct {
	ID                         ID         `json:"id"`
	Name                       string     `json:"name"`
	Role                       Role       `json:"role"`
	Visibility                 Visibility `json:"visibility"`
	IncludeMarketedWhenSorting bool       `json:"include_marketed_when_sorting,omitempty"`
	// PasswordHash is a bcrypt hash; never shown.
	PasswordHash []byte    `json:"password_hash,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Scope is what an API token may do.
type Scope string

// Scopes.
const (
	ScopeSend  Scope = "send"
	ScopeRead  Scope = "read"
	ScopeAdmin Scope = "admin"
)

// Token is an API token. Only the SHA-256 of its secret is kept.
type Token struct {
	ID         ID        `json:"id"`
	UserID     ID        `json:"user_id"`
	Name       string    `json:"name"`
	Scopes     []Scope   `json:"scopes"`
	Hash       []byte    `json:"hash"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// HasScope reports whether the token carries s (admin implies all).
func (t Token) HasScope(s Scope) bool {
	for _, x := range t.Scopes {
		if x == s || x == ScopeAdmin {
			return true
		}
	}
	return false
}

// Notification tells a user something happened (an SMS for them arrived).
// It is kept until the user clears it.
type Notification struct {
	ID        ID     `json:"id"`
	UserID    ID     `json:"user_id"`
	Kind      string `json:"kind"`
	MessageID ID     `json:"message_id,omitempty"`
	// BatchID names the bulk send a notice about a bulk send is about
	// (added without a format change: notifications are stored as JSON).
	BatchID   ID        `json:"batch_id,omitempty"`
	Number    string    `json:"number,omitempty"`
	Text      string    `json:"text,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Phone is one number on a contact card.
type Phone struct {
	Number string `json:"number"`
	Label  string `json:"label,omitempty"`
}

// Contact is the record card a CRM pushes. Number (E.164) is the default SMS
// number and the key; Phones lists all numbers including it.
type Contact struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	// FirstName is for templates' {first_name}; when empty the first word
	// of Name stands in.
	FirstName string  `json:"first_name,omitempty"`
	JobTitle  string  `json:"job_title,omitempty"`
	Company   string  `json:"company,omitempty"`
	Email     string  `json:"email,omitempty"`
	Phones    []Phone `json:"phones,omitempty"`
	CRMURL    string  `json:"crm_url,omitempty"`
	CRM       *CRMRef `json:"crm,omitempty"`
	// Tags label the contact for saved searches.
	Tags []string `json:"tags,omitempty"`
	// Fields are custom fields, usable in templates as {field}.
	Fields    map[string]string `json:"fields,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Webhook is a subscription of a URL to events.
type Webhook struct {
	ID        ID        `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events,omitempty"`
	Secret    string    `json:"secret,omitempty"`
	UserID    ID        `json:"user_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery states of a webhook delivery.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
)

// WebhookDelivery is one event to POST to one webhook, persisted so that it
// survives restarts and is retried.
type WebhookDelivery struct {
	ID          ID        `json:"id"`
	WebhookID   ID        `json:"webhook_id"`
	Event       string    `json:"event"`
	Payload     []byte    `json:"payload"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// IDAt is the smallest ID made at t (IDs sort by time).
func IDAt(t time.Time) ID { return ID(uint64(t.UnixMilli()) << idCounterBits) }

// TextCount is how a text is segmented into SMS parts (the compose box's
// counter): the encoding ("gsm7", "ucs2"), its length in characters and in
// encoding units, the parts it needs, the units per part and what is left
// in the last one, and the characters that force UCS-2 with their index in
// code points.
type TextCount struct {
	Encoding       string
	Characters     int
	Units          int
	Parts          int
	PerPart        int
	Remaining      int
	UnicodeForcing []ForcingChar
}

// ForcingChar is one character that forces UCS-2, at Index (code points).
type ForcingChar struct {
	Char  string
	Index int
}
