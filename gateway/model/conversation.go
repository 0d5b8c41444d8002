package model

import "time"

// Conversation is one row of a conversation list, as one user sees it.
type Conversation struct {
	// Number is the other party as the network gave it: E.164 for a phone
	// number, the digits of a short code, the text of an alphanumeric
	// sender.
	Number string
	// SortAt is the time of the message that places the row: the user's
	// last message with the number (marketing ignored unless the user's
	// include_marketed_when_sorting says otherwise).
	SortAt time.Time
	// Last is the newest message of the conversation the user may see.
	Last Message
	// Count is the number of messages in the conversation (0 for an
	// outgoing_only user, who sees only their own).
	Count int
	// Unread is how many of the user's notifications (incoming messages
	// not yet seen) are about this number.
	Unread     int
	Contact    *Contact
	Unassigned bool
}
