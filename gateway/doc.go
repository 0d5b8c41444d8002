// Package gateway is gsmgate's service core, without HTTP: it accepts
// messages to send, keeps users, tokens, contacts and notifications,
// associates incoming messages with users, lists conversations and threads
// under the visibility rules, purges old data and publishes typed events.
// Its durable state lives in the subpackage store (bbolt); the web UI and
// the JSON API call the methods below with plain Go values.
//
// It never speaks HTTP, renders anything or opens a modem port. The modem
// side (the dispatcher that drains the outbox, the inbox that reads parts,
// status report matching) uses the store's outbox methods (ClaimDue,
// MarkSent, MarkRetry, MarkFailed, FindByMR, MarkStatus, RecoverSubmitting,
// PutPendingPart, SeenInbound) and the hooks here (OutboxWake,
// PublishStatus, AcceptIncoming, RecoverAtStartup).
//
// # API
//
//	s, err := gateway.New(db, clock, log, gateway.Options{DefaultCountry: "GB"})
//
// Sending: Send(ctx, SendRequest) (*SendResult, error) validates, normalises
// each number to E.164 (NormalizeNumber), segments the text once with
// modem/pdu (CountText gives the same count), and commits every message
// (one per recipient, sharing a batch id; several recipients make a
// marketing send), its parts and its index entries in one transaction
// before returning. Invalid recipients come back in SendResult.Rejected by
// index; the valid ones go ahead. An expiry also becomes the SUBMIT's
// validity period. Cancel, Retry, Dismiss and Failures act on sent
// messages; Message reads one, Messages lists (admins: all or by state via
// the state index; others: the messages associated with them).
//
// Users and tokens: CreateUser, UpdateUser, User, Users, RequireAdmin,
// Login (bcrypt), CreateToken (secret shown once, SHA-256 kept), ListTokens,
// RevokeToken, Authenticate.
//
// Conversations: Conversations (a user's list, sorted by their last
// message, marketing ignored unless the user's preference includes it;
// Unassigned for the admins' unassigned inbox, All for every conversation),
// Thread (oldest first, as the user may see it, colleagues' messages with
// their author), Search (number, contact name, text over the newest
// SearchScanLimit messages).
//
// Incoming: the inbox commits each part with store.DB.StoreInboundPart
// (dedup key checked and kept in the same transaction) before the modem may
// delete it; AcceptIncoming stores the assembled message, drops its pending
// parts, associates it and notifies, in one transaction (ErrDuplicate when
// all its parts were stored before). Notifications, ClearNotification,
// ClearNotifications.
//
// Contacts: UpsertContact, Contact, DeleteContact, Contacts.
//
// Retention: PurgeOnce, RunRetention. Settings: Setting, PutSetting,
// Settings.
//
// Events: Bus().Subscribe(size, filter) receives *MessageReceived,
// *StatusChanged, *SendFailed, *ModemStateChanged and *NotificationAdded; a
// slow subscriber loses events (counted), it never blocks the gateway.
//
// # States
//
// A message moves queued → submitting → sent → delivered, or ends failed
// (with a reason), unknown (the process died during AT+CMGS), cancelled or
// expired. Its state is derived from its parts' states (store.RollUp). The
// names are the same in the store, the API, the UI and webhooks.
//
// # Errors
//
// ErrNotFound (also for what the user may not see), ErrForbidden,
// ErrConflict (the state does not allow the action), ErrUnauthorized,
// ErrIdempotencyConflict, ErrExists, ErrDuplicate, and *ValidationError listing
// FieldErrors (field, index in a list such as "to", reason). Anything else
// is an internal error.
package gateway
