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
// SetStoreSend, SetSlot, ResolveStored, PutPendingPart, SeenInbound) and the
// hooks here (OutboxWake, PublishStatus, AcceptIncoming, RecoverAtStartup).
// Where a modem can, parts are sent by store-and-send (storesend.go): a part
// whose send was cut short is settled from the modem's stored copy, not
// left unknown. A full disk (StorageFull, ErrStorageFull) loses nothing:
// writes are refused until space returns, and everything then resumes.
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
// before returning (a bulk send's messages unfiled: gateway/store/unfiled.go).
// SendResult.Messages names each accepted message (Accepted: ID, batch,
// number, state, parts), not its record: a 10,000-recipient send would
// otherwise return megabytes of records nobody reads. Invalid recipients
// come back in SendResult.Rejected by index; the valid ones go ahead. An expiry also becomes the SUBMIT's
// validity period. Cancel, Retry, Dismiss and Failures act on sent
// messages; Message reads one, Messages lists (admins: all or by state via
// the state index; others: the messages associated with them, see
// Visibility).
//
// Users and tokens: CreateUser, UpdateUser, User, Users, RequireAdmin,
// Login (bcrypt), CreateToken (secret shown once, SHA-256 kept), ListTokens,
// RevokeToken, Authenticate.
//
// Web UI sessions: CreateSession (after Login; the secret goes in a cookie,
// its SHA-256 is kept with a CSRF token), SessionByToken (idle and absolute
// expiry, Options.SessionIdle and SessionMax), Logout, EndSessions,
// ChangePassword (ends the user's other sessions), SetIncludeMarketing. A
// failed message leaves its sender a NoticeSendFailed notification. For the
// UI's live events CanView is the visibility gate of one message; Count and
// CheckNumber give the counter and the recipient check in plain values.
//
// Conversations: Conversations (a user's list, sorted by their last
// message, marketing ignored unless the user's preference includes it;
// Unassigned for the admins' unassigned inbox, All for every conversation;
// each row has the contact, the last message the user may see and the
// user's Unread count), Thread (oldest first, as the user may see it,
// colleagues' messages with their author), MarkRead (clears the user's
// notifications about a number when its thread is opened), Search (number,
// contact name, text over the newest SearchScanLimit messages).
//
// # Visibility
//
// The rules, enforced here for every listing and lookup, not only in the UI:
//
//   - Association. An outgoing message belongs to its sender. An incoming
//     one belongs to every enabled user in incoming_and_outgoing mode who
//     has sent to that number or been associated with a message from it
//     before, each of whom gets a notification (kept until cleared, or until
//     retention). Users in outgoing_only mode are never associated with
//     incoming messages: they would not be allowed to read them. An
//     incoming message with nobody to belong to (never contacted, or only
//     by outgoing_only users) goes to the unassigned inbox and every admin
//     is notified, so no reply goes unseen; the conversation leaves the
//     inbox when someone writes to the number.
//   - incoming_and_outgoing: the user sees the whole conversation with every
//     number they are associated with, colleagues' messages included
//     (labelled with their author) and messages from before they joined.
//   - outgoing_only: the user sees only the messages they sent, in their
//     list, threads, search and lookups; a conversation where they sent
//     nothing (still there, e.g. their message was purged) is not listed.
//   - The conversation list is ordered by the last message associated with
//     the user (sent by them or associated with them), not a colleague's;
//     marketing messages (one send to several recipients) do not move a
//     conversation up unless the user sets include_marketed_when_sorting.
//     Conversations holding only marketing then sort after the others.
//   - Admins see every message, thread, failure and the unassigned inbox
//     whatever their own mode: they answer the inbox and fix everyone's
//     failures, and could lift their own restriction anyway. For an admin
//     the mode only decides association (their own list and
//     notifications).
//   - Messages (the API's message feed) lists, for non-admins, the messages
//     associated with the user: what they sent and the incoming messages
//     that were theirs on arrival. A colleague's messages in a shared
//     conversation are read through Thread (or Message by id), which apply
//     the mode. Failures, Cancel, Retry and Dismiss act on the user's own
//     sends (any for an admin).
//   - What a user may not see is ErrNotFound, never ErrForbidden, so its
//     existence does not leak; a disabled user reads nothing
//     (ErrUnauthorized).
//
// # Driving the UI
//
// The compose box's character and part counter is CountText (the count Send
// will store and send). Live updates and toasts come from Subscribe(viewer),
// which delivers only what that user may see: *NotificationAdded is
// addressed to one user (incoming SMS); a *StatusChanged named
// message.failed carries the message and its Reason. The Send Failures view is
// Failures (each row has Reason in plain words, FailedAt, Modem, Attempts)
// with Retry and Dismiss; the unread badge is NotificationCount.
//
// Incoming: the inbox commits each part with store.DB.StoreInboundPart
// (dedup key checked and kept in the same transaction) before the modem may
// delete it; AcceptIncoming stores the assembled message, drops its pending
// parts, associates it and notifies, in one transaction (ErrDuplicate when
// all its parts were stored before). Notifications, NotificationCount,
// ClearNotification, ClearNotifications, MarkRead.
//
// Contacts: UpsertContact, Contact, DeleteContact, Contacts.
//
// Retention: PurgeOnce, RunRetention. Settings: Setting, PutSetting,
// Settings.
//
// Events: Subscribe(viewer) receives the *MessageReceived, *StatusChanged,
// *ModemStateChanged and *NotificationAdded the viewer may see (Everyone:
// all), each change once, named by the Event* constants; a slow subscriber
// loses events (counted), it never blocks the gateway.
//
// Listings take a Page (opaque Cursor, Limit) and return Paged[T] (Items,
// Next).
//
// # States
//
// A message moves queued → submitting → sent → delivered, or ends failed
// (with a reason), unknown (the process died during AT+CMGS, or a stored
// send's copy could not be read back), cancelled or
// expired. Its state is derived from its parts' states (model.RollUp). The
// names are the same in the store, the API, the UI and webhooks.
//
// # Errors
//
// ErrNotFound (also for what the user may not see), ErrForbidden,
// ErrConflict (the state does not allow the action), ErrUnauthorized,
// ErrIdempotencyConflict, ErrExists, ErrDuplicate, *ValidationError listing
// FieldErrors (field, index in a list such as "to", code, reason), and
// *RecipientsError (ErrNoRecipients) when no recipient of a send is usable.
// Anything else is an internal error.
package gateway
