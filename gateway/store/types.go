package store

import (
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// Storage records that are not domain types: the conversation index, the
// per-user sort keys, received parts awaiting their siblings, idempotency.

// Conversation is the index record of everything exchanged with one
// number (the other party as the network gave it): how many messages, the
// newest, and who is in it. What a user sees of it is model.Conversation,
// built by the core.
type Conversation struct {
	Number        string   `json:"number"`
	Count         int      `json:"count"`
	LastMessageID model.ID `json:"last_message_id"`
	// Users have sent to or been associated with messages from this number.
	Users []model.ID `json:"users,omitempty"`
	// Modem is the modem (SIM) the number last wrote to or was last sent
	// a part from: a reply goes out from it while it is up.
	Modem string `json:"modem,omitempty"`
}

// UserConv is one user's sort keys for one conversation.
type UserConv struct {
	LastAll   model.ID `json:"last_all"`
	LastPlain model.ID `json:"last_plain,omitempty"`
}

// InboundPart is one received part of a multipart message, kept (with its
// raw PDU) until the message is complete or times out.
type InboundPart struct {
	// Key groups the parts of one message (originator, reference, total).
	Key        string    `json:"key"`
	Seq        int       `json:"seq"`
	Total      int       `json:"total"`
	Originator string    `json:"originator"`
	Modem      string    `json:"modem,omitempty"`
	PDU        []byte    `json:"pdu"`
	SCTS       time.Time `json:"scts,omitzero"`
	ReceivedAt time.Time `json:"received_at"`
}

// Idempotency remembers the batch a keyed Send created.
type Idempotency struct {
	BatchID     model.ID  `json:"batch_id"`
	Fingerprint []byte    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
}
