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
	// Marketed (format 7) names, per user who sent this number a bulk
	// send, that user's last marketing message here. It is how a listing
	// knows, without a per-user entry per recipient, where a bulk message
	// places the conversation (see idx_user_batch).
	Marketed []Marketed `json:"marketed,omitempty"`
}

// Marketed is one sender's last marketing message in a conversation.
type Marketed struct {
	User model.ID `json:"user"`
	Last model.ID `json:"last"`
}

// marketedBy is u's last marketing message in c (0: none).
func (c *Conversation) marketedBy(u model.ID) model.ID {
	for _, mk := range c.Marketed {
		if mk.User == u {
			return mk.Last
		}
	}
	return 0
}

// setMarketed records last as u's last marketing message in c (0: none
// left).
func (c *Conversation) setMarketed(u, last model.ID) {
	for i := range c.Marketed {
		if c.Marketed[i].User == u {
			if last == 0 {
				c.Marketed = append(c.Marketed[:i:i], c.Marketed[i+1:]...)
			} else {
				c.Marketed[i].Last = last
			}
			return
		}
	}
	if last != 0 {
		c.Marketed = append(c.Marketed, Marketed{User: u, Last: last})
	}
}

// UserConv is one user's sort key for one conversation: the user's last
// message there that is not marketing (format 7 dropped last_all, the last
// message of all, which bulk sends moved for every recipient; a record of
// format 6 still carries it, ignored).
type UserConv struct {
	LastPlain model.ID `json:"last_plain"`
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
