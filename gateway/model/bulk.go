package model

import "time"

// Records of bulk sending: opt-outs, groups, saved searches, templates and
// campaigns.

// OptOut records that a number asked not to get bulk sends.
type OptOut struct {
	Number string    `json:"number"`
	At     time.Time `json:"at"`
	// Source is how: "sms" (the number texted a stop word), "admin" or
	// "import".
	Source string `json:"source"`
	// Keyword is the word texted (source "sms").
	Keyword string `json:"keyword,omitempty"`
}

// Group is a static group of contacts (a CRM's record group), by id.
type Group struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   []string  `json:"members"` // E.164 numbers
	UpdatedAt time.Time `json:"updated_at"`
}

// ContactQuery selects contacts: every non-empty field must match (text
// fields case-insensitively as substrings; Tag exactly; RefType the CRM
// record type).
type ContactQuery struct {
	Name     string `json:"name,omitempty"`
	Company  string `json:"company,omitempty"`
	JobTitle string `json:"job_title,omitempty"`
	Tag      string `json:"tag,omitempty"`
	RefType  string `json:"ref_type,omitempty"`
}

// SavedSearch is a named ContactQuery.
type SavedSearch struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Query     ContactQuery `json:"query"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// Template is a saved text with placeholders ({first_name}, {name},
// {company}, {job_title}, custom contact fields).
type Template struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Text string `json:"text"`
	// Fallbacks give a value for a placeholder a recipient lacks; without
	// one that recipient is not sent to.
	Fallbacks map[string]string `json:"fallbacks,omitempty"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Campaign is a bulk send with a name: what it asked for and what was
// skipped when it was accepted (its messages are the batch's).
type Campaign struct {
	BatchID   ID        `json:"batch_id"`
	Name      string    `json:"name"`
	UserID    ID        `json:"user_id"`
	Text      string    `json:"text"`
	Accepted  int       `json:"accepted"`
	Skipped   []Skipped `json:"skipped,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Cancelled is when "cancel the rest" was asked (zero: not).
	Cancelled time.Time `json:"cancelled,omitzero"`
}

// Skipped is a recipient a bulk send left out, and why.
type Skipped struct {
	Number string `json:"number"`
	Reason string `json:"reason"`
}
