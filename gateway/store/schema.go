package store

import (
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// The storage layout: every bucket, its key format and the format version it
// arrived in. Nothing outside this file invents a bucket or a key layout.
//
// Conventions
//   - Integers in keys are big-endian so that byte order is numeric order.
//   - u64(x) is 8 octets; str(s) is one length octet followed by s (at most
//     255 octets), used wherever a string is followed by more key material so
//     that one number is never a prefix of another's range.
//   - IDs (type ID) are u64 values that sort by creation time (see NewID).
//   - Values are JSON documents of the record types in types.go. JSON keeps
//     the format readable with `bbolt` tools and lets a field be added without
//     a migration (unknown fields are ignored, missing ones are zero).
//   - An index value is empty unless stated.
//
// Format history
//   - 1 (first release): everything below not marked otherwise.
//   - 2: message_events (the durable log of message outcomes that webhooks
//     are made from).
//   - 3: idx_lane (the outbox by lane, for priority and fair sharing),
//     modem_sends (per-SIM daily counts for the daily cap), optouts,
//     groups, saved_searches, templates, campaigns.
//   - 4: sessions and idx_session_user (staff web UI logins).
//   - 5: parts carry store_send, slot_storage and slot_index (store-and-send:
//     where the modem holds a copy of a part being sent). An older binary
//     would ignore them and call such a part's outcome unknown, or resend
//     one the copy says went; the version keeps it from opening the file.
//   - 6: audit (the administration log), modem_signal and modem_daily (the
//     modems dashboard's rings of samples).
//
// Migration path: Open reads meta/"version". A file with no version is new and
// is stamped with FormatVersion. A file with an older version runs, in one
// write transaction each, the migrations[v] that bring it from v to v+1, in
// order; a newer version than this binary knows is refused (ErrNewerFormat)
// rather than risk corrupting it.

// FormatVersion is the layout version this code writes.
const FormatVersion = 6

// Bucket names (version 1 unless stated).
var (
	// meta: "version" -> u64 format version; "ref" -> u64 last
	// concatenation reference handed out.
	bMeta = []byte("meta")

	// messages: u64(messageID) -> Message. One row per recipient; the ID
	// sorts by time so a cursor over this bucket is the time order (the
	// retention purge walks it from the start).
	bMessages = []byte("messages")
	// parts: u64(messageID) | u8(seq) -> Part (seq is 1-based).
	bParts = []byte("parts")
	// batches: u64(batchID) | u64(messageID): the messages of one Send.
	bBatches = []byte("batches")
	// conversations: E.164 number -> Conversation.
	bConversations = []byte("conversations")

	// idx_conv_last: u64(lastMessageID) | number: every conversation by its
	// last message (the admins' "all conversations" listing).
	bIdxConvLast = []byte("idx_conv_last")
	// idx_conv: str(number) | u64(messageID): a conversation's messages in
	// time order (thread loading).
	bIdxConv = []byte("idx_conv")
	// idx_user: u64(userID) | u64(messageID): messages associated with a
	// user (sent by them, or incoming and associated), newest last.
	bIdxUser = []byte("idx_user")
	// idx_user_nomkt: the same without marketing messages.
	bIdxUserNoMkt = []byte("idx_user_nomkt")
	// idx_user_sent: u64(userID) | str(number) | u64(messageID): the
	// messages a user sent to one number (threads of outgoing_only users).
	bIdxUserSent = []byte("idx_user_sent")
	// uconv: u64(userID) | number -> UserConv (the user's sort keys for that
	// conversation).
	bUConv = []byte("uconv")
	// uconv_all: u64(userID) | u64(lastMessageID) | number: a user's
	// conversations by their last message, marketing included.
	bUConvAll = []byte("uconv_all")
	// uconv_nomkt: u64(userID) | u8(hasPlain) | u64(lastID) | number: the
	// same with marketing ignored; hasPlain is 1 when lastID is the last
	// non-marketing message, 0 when the conversation holds only marketing
	// (then lastID is its last marketing message and it sorts after all
	// others).
	bUConvNoMkt = []byte("uconv_nomkt")
	// unassigned: number -> u64(lastMessageID): conversations whose incoming
	// messages nobody is associated with (the admins' unassigned inbox).
	bUnassigned = []byte("unassigned")
	// unassigned_time: u64(lastMessageID) | number.
	bUnassignedTime = []byte("unassigned_time")

	// idx_msg_state: u8(state) | u64(messageID): messages by state.
	bIdxMsgState = []byte("idx_msg_state")
	// idx_part_state: u8(state) | u64(messageID) | u8(seq): parts by state
	// (startup recovery finds "submitting" parts with it).
	bIdxPartState = []byte("idx_part_state")
	// idx_due: u64(nextAttempt unix ns) | u64(messageID) | u8(seq): the
	// outbox, queued parts by when they may be sent.
	bIdxDue = []byte("idx_due")
	// idx_mr: str(modem) | u16(MR) | u64(messageID) | u8(seq): sent parts by
	// the reference their modem gave them (status report matching); newest
	// last within one (modem, MR).
	bIdxMR = []byte("idx_mr")
	// idx_failures: u64(failedAt unix ns) | u64(messageID): failed and
	// unknown messages not yet dismissed, by time.
	bIdxFailures = []byte("idx_failures")
	// idempotency: u64(userID) | key -> Idempotency.
	bIdem = []byte("idempotency")
	// idx_idem_time: u64(created unix ns) | u64(userID) | key (purge).
	bIdxIdemTime = []byte("idx_idem_time")

	// contacts: E.164 default number -> Contact.
	bContacts = []byte("contacts")
	// contact_phones: E.164 number -> E.164 default number of its contact.
	bContactPhones = []byte("contact_phones")

	// users: u64(userID) -> User.
	bUsers = []byte("users")
	// users_by_name: lower-cased name -> u64(userID).
	bUsersByName = []byte("users_by_name")
	// tokens: u64(tokenID) -> Token.
	bTokens = []byte("tokens")
	// tokens_by_hash: sha256(secret) -> u64(tokenID).
	bTokensByHash = []byte("tokens_by_hash")
	// notifications: u64(userID) | u64(notificationID) -> Notification.
	bNotifications = []byte("notifications")
	// unread: u64(userID) | number -> u64(count): how many of the user's
	// notifications are about that number (the unread badge of a
	// conversation row, read with one Get). Kept in step by every write to
	// notifications.
	bUnread = []byte("unread")
	// settings: name -> raw JSON value.
	bSettings = []byte("settings")

	// webhooks: u64(webhookID) -> Webhook.
	bWebhooks = []byte("webhooks")
	// webhook_deliveries: u64(deliveryID) -> WebhookDelivery.
	bWebhookDeliveries = []byte("webhook_deliveries")
	// idx_webhook_deliveries: u64(webhookID) | u64(deliveryID): one
	// webhook's deliveries in time order.
	bIdxWebhookDeliveries = []byte("idx_webhook_deliveries")
	// idx_webhook_due: u64(nextAttempt unix ns) | u64(deliveryID): pending
	// deliveries by when they are due.
	bIdxWebhookDue = []byte("idx_webhook_due")

	// inbound_pending: str(key) | u8(seq) -> InboundPart: received parts of
	// multipart messages not yet complete (key: originator, reference,
	// total; chosen by the caller).
	bInboundPending = []byte("inbound_pending")
	// inbound_dedup: dedup key -> u64(stored unix ns): parts already stored,
	// so a part read again after a crash is recognised.
	bInboundDedup = []byte("inbound_dedup")
	// idx_dedup_time: u64(stored unix ns) | dedup key (purge).
	bIdxDedupTime = []byte("idx_dedup_time")

	// message_events (version 2): u64(eventID) -> MessageEvent. What
	// happened to a message that subscribers must hear of (an incoming
	// message stored; an outgoing one reaching sent, delivered or an end
	// state), written in the same transaction as the change itself, while
	// at least one webhook is registered. The IDs come from NewID inside
	// the write transaction, and writers are serialised, so key order is
	// commit order: an entry never appears before one already read. The
	// consumer (package webhook) deletes entries in the transaction that
	// turns them into deliveries, so the bucket holds only what is not
	// consumed yet; PurgeBatch drops entries older than the retention
	// cutoff that nobody consumed.
	bMessageEvents = []byte("message_events")

	// idx_lane (version 3): u8(lane) | u64(group) | u64(nextAttempt unix
	// ns) | u64(messageID) | u8(seq): the outbox again, by lane (see
	// Lane) and, within a lane, by group: 0 in the urgent and
	// conversation lanes (one queue by due time), the batch ID in the bulk
	// and low lanes (one queue per bulk send, so that the dispatcher can
	// take them in turn with one Seek per batch). Kept with idx_due by
	// putPart.
	bIdxLane = []byte("idx_lane")
	// modem_sends (version 3): str(modem) | "YYYY-MM-DD" (the appliance's
	// local date) -> u64: parts a modem sent that day (daily cap).
	bModemSends = []byte("modem_sends")
	// optouts (version 3): E.164 number -> OptOut: numbers that asked not
	// to get bulk sends.
	bOptOuts = []byte("optouts")
	// groups (version 3): group id (chosen by the caller, a CRM's id) ->
	// Group, members included.
	bGroups = []byte("groups")
	// saved_searches (version 3): id -> SavedSearch.
	bSavedSearches = []byte("saved_searches")
	// templates (version 3): id -> Template.
	bTemplates = []byte("templates")
	// campaigns (version 3): u64(batchID) -> Campaign: a bulk send's name
	// and what was skipped at its start.
	bCampaigns = []byte("campaigns")

	// sessions (version 4): sha256(session secret) -> Session. A staff
	// member's web UI login; only the hash of the cookie's secret is kept,
	// so a copy of the database does not hold live cookies.
	bSessions = []byte("sessions")
	// idx_session_user (version 4): u64(userID) | sha256(secret): a user's
	// sessions (ended together on a password change or by an admin).
	bIdxSessionUser = []byte("idx_session_user")

	// audit (version 5): u64(entryID) -> model.AuditEntry. Who changed
	// users, tokens, settings and assignments, and when. Appended, never
	// changed; nothing deletes it (a few entries a day).
	bAudit = []byte("audit")
	// modem_signal (version 5): str(modem) | u64(unix seconds) ->
	// model.SignalSample. The last 24 hours of each modem's signal, one
	// sample every few minutes; older samples are dropped as new ones come.
	bModemSignal = []byte("modem_signal")
	// modem_daily (version 5): str(modem) | "YYYY-MM-DD" (UTC) ->
	// model.DailyCounts. Messages sent, delivered, failed and received per
	// modem and day, the last 30 days.
	bModemDaily = []byte("modem_daily")
)

// allBuckets is created by Open (and by migrations for the version that
// introduced them).
var allBuckets = [][]byte{
	bMeta, bMessages, bParts, bBatches, bConversations,
	bIdxConv, bIdxConvLast, bIdxUser, bIdxUserNoMkt, bIdxUserSent, bUConv, bUConvAll, bUConvNoMkt,
	bUnassigned, bUnassignedTime, bIdxMsgState, bIdxPartState, bIdxDue, bIdxMR,
	bIdxFailures, bIdem, bIdxIdemTime, bContacts, bContactPhones, bUsers,
	bUsersByName, bTokens, bTokensByHash, bNotifications, bUnread, bSettings, bWebhooks,
	bWebhookDeliveries, bIdxWebhookDeliveries, bIdxWebhookDue, bInboundPending, bInboundDedup, bIdxDedupTime,
	bMessageEvents, bIdxLane, bModemSends, bOptOuts, bGroups, bSavedSearches, bTemplates, bCampaigns,
	bSessions, bIdxSessionUser, bAudit, bModemSignal, bModemDaily,
}

// migration brings a file from version v to v+1 inside one transaction.
type migration func(tx *Tx) error

// migrations[v] upgrades version v to v+1. A new version appends its
// function here and bumps FormatVersion.
var migrations = map[uint64]migration{
	// 1 → 2: the message event log starts empty; the events committed
	// before the upgrade went to webhooks through the bus.
	1: func(tx *Tx) error {
		_, err := tx.tx.CreateBucketIfNotExists(bMessageEvents)
		return err
	},
	2: indexQueuedPartsByLane,
	// 3 → 4: sessions start empty (nobody was logged in to a web UI).
	3: addSessionBuckets,
	// 4 → 5: parts gain the store-and-send fields; every part written
	// before has none (it was sent with +CMGS), which is what their zero
	// values say.
	4: partsGainStoreAndSendFields,
	// 5 → 6: the audit log and the modem rings start empty.
	5: addAuditAndModemStats,
}

// addAuditAndModemStats (5 → 6) creates the audit log and the modems
// dashboard's sample buckets.
func addAuditAndModemStats(tx *Tx) error {
	for _, b := range [][]byte{bAudit, bModemSignal, bModemDaily} {
		if _, err := tx.tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// addSessionBuckets (3 → 4) creates the buckets of the web UI's sessions.
func addSessionBuckets(tx *Tx) error {
	for _, b := range [][]byte{bSessions, bIdxSessionUser} {
		if _, err := tx.tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// indexQueuedPartsByLane (2 → 3) creates the version 3 buckets and files
// every queued part of the outbox (idx_due) in idx_lane.
func indexQueuedPartsByLane(tx *Tx) error {
	for _, b := range [][]byte{bIdxLane, bModemSends, bOptOuts, bGroups, bSavedSearches, bTemplates, bCampaigns} {
		if _, err := tx.tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	type pk struct {
		id  model.ID
		seq int
	}
	var queued []pk
	fwdScan(tx.b(bIdxDue), nil, nil, func(key, _ []byte) bool {
		queued = append(queued, pk{model.ID(getU64(key[8:16])), int(key[16])})
		return true
	})
	for _, q := range queued {
		m, err := tx.Message(q.id)
		if err != nil {
			return err
		}
		p, err := tx.Part(q.id, q.seq)
		if err != nil {
			return err
		}
		if err := tx.b(bIdxLane).Put(laneKey(&m, &p), nil); err != nil {
			return err
		}
	}
	return nil
}

// state codes used in index keys. The names are the API's; the codes are
// only the on-disk order and must never be renumbered.
var stateCode = map[model.State]byte{
	model.StateQueued: 1, model.StateSubmitting: 2, model.StateSent: 3, model.StateDelivered: 4,
	model.StateFailed: 5, model.StateUnknown: 6, model.StateCancelled: 7, model.StateExpired: 8,
}

// key helpers

func u64(v uint64) []byte {
	var b [8]byte
	putU64(b[:], v)
	return b[:]
}

func putU64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
	b[4], b[5], b[6], b[7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func getU64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// k concatenates key pieces.
func k(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func str(s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	return append([]byte{byte(len(s))}, s...)
}

func tns(t time.Time) []byte {
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	return u64(uint64(n))
}

func partKey(id model.ID, seq int) []byte {
	b := make([]byte, 9) // one allocation, not two (u64's array, then append's copy)
	putU64(b, uint64(id))
	b[8] = byte(seq)
	return b
}

// partsGainStoreAndSendFields is the 4 → 5 migration. A part record is JSON
// and the new fields' zero values mean "sent directly", which is true of
// every part written by formats 2 to 4: there is nothing to rewrite.
func partsGainStoreAndSendFields(*Tx) error { return nil }
