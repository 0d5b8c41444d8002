package model

import "time"

// AuditEntry is one line of the administration log: who did what to which
// user, token, setting or conversation, and when. Entries are appended by
// the core in the transaction that made the change and never changed.
type AuditEntry struct {
	ID ID        `json:"id"`
	At time.Time `json:"at"`
	// ActorID is the admin who acted; zero for the appliance's local
	// operator (the CLI, authenticated by file permissions).
	ActorID ID `json:"actor_id,omitempty"`
	// Actor is the actor's name as it was then ("local operator" for the
	// CLI).
	Actor string `json:"actor"`
	// Action is one of the Audit* names.
	Action string `json:"action"`
	// Target names what was changed (a user's or token's name, a setting,
	// a number).
	Target string `json:"target"`
	// Detail says how, in words ("staff → admin").
	Detail string `json:"detail,omitempty"`
}

// The audit actions.
const (
	AuditUserCreated          = "user.created"
	AuditUserRole             = "user.role"
	AuditUserVisibility       = "user.visibility"
	AuditUserMarketing        = "user.include_marketed"
	AuditUserDisabled         = "user.disabled"
	AuditUserEnabled          = "user.enabled"
	AuditUserPassword         = "user.password_reset"
	AuditTokenCreated         = "token.created"
	AuditTokenRevoked         = "token.revoked"
	AuditSettingChanged       = "setting.changed"
	AuditConversationAssigned = "conversation.assigned"
	AuditSetupCompleted       = "setup.completed"
)

// Settings are the appliance-wide settings an admin changes at run time.
type Settings struct {
	// DefaultCountry is the ISO 3166-1 region national numbers are read in
	// ("" accepts only international numbers).
	DefaultCountry string `json:"default_country"`
	// RetentionDays: messages older than this are deleted; 0 keeps them
	// forever.
	RetentionDays int `json:"retention_days"`
	// DefaultVisibility and DefaultIncludeMarketed are what a new user gets
	// when the admin does not say.
	DefaultVisibility      Visibility `json:"default_visibility"`
	DefaultIncludeMarketed bool       `json:"default_include_marketed"`
}
