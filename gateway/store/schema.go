package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	berrors "go.etcd.io/bbolt/errors"
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
//   - 7: fewer keys per recipient of a bulk send (BENCHMARKS.md lists them
//     and why each exists). Gone: batches (a batch's messages are a run of
//     consecutive message keys), idx_due (idx_lane holds the same parts),
//     idx_user_nomkt (idx_user no longer holds marketing messages, so it
//     is the same), uconv_nomkt (uconv_all no longer holds marketing, so it
//     is the same order), queued entries of idx_part_state and
//     idx_msg_state (idx_lane has them); a one-part message's part is in
//     its message record (one written before moves there when the message
//     is next written). New: idx_user_batch (a user's bulk sends, one entry per send,
//     standing for the per-recipient entries of idx_user, idx_user_sent,
//     uconv and uconv_all a marketing message no longer writes; readers
//     merge it in), Conversation.marketed (each sender's last marketing
//     message there). See leanBulkRecords.
//   - 8: bulk_unfiled, bulk_unfiled_table. A bulk send's messages waiting in a grouped lane are
//     filed (idx_conv, conversations, idx_conv_last, idx_lane) when first
//     taken, not when accepted; until then the send's unfiled record and
//     one idx_lane key (its tail key) stand for them. See unfiled.go.
//
// Migration path: Open reads meta/"version". A file with no version is new and
// is stamped with FormatVersion. A file with an older version runs, in one
// write transaction each, the migrations[v] that bring it from v to v+1, in
// order; a newer version than this binary knows is refused (ErrNewerFormat)
// rather than risk corrupting it.

// FormatVersion is the layout version this code writes.
const FormatVersion = 8

// Bucket names (version 1 unless stated).
var (
	// meta: "version" -> u64 format version; "ref" -> u64 last
	// concatenation reference handed out.
	bMeta = []byte("meta")

	// messages: u64(messageID) -> Message. One row per recipient; the ID
	// sorts by time so a cursor over this bucket is the time order (the
	// retention purge walks it from the start). Since version 7 the record
	// of a one-part outgoing message also holds its part, as its last
	// field "part" (the Part without message_id and seq); the messages of
	// one batch are consecutive keys, following the batch's ID.
	bMessages = []byte("messages")
	// parts: u64(messageID) | u8(seq) -> Part (seq is 1-based). Since
	// version 7 only the parts of multipart messages, and those of
	// one-part messages written before (each moves into its message's
	// record when the message is next written).
	bParts = []byte("parts")
	// batches (versions 1-6): u64(batchID) | u64(messageID): the messages
	// of one Send. Since version 7 a batch's messages are the run of
	// messages keys that starts after its ID (see InsertMessage) and the
	// bucket is gone.
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
	// user (sent by them, or incoming and associated), newest last; since
	// version 7 without the messages of bulk sends (idx_user_batch).
	bIdxUser = []byte("idx_user")
	// idx_user_nomkt (versions 1-6): idx_user without marketing messages;
	// since version 7 that is idx_user, and the bucket is gone.
	bIdxUserNoMkt = []byte("idx_user_nomkt")
	// idx_user_sent: u64(userID) | str(number) | u64(messageID): the
	// messages a user sent to one number (threads of outgoing_only users);
	// since version 7 without bulk sends (idx_user_batch).
	bIdxUserSent = []byte("idx_user_sent")
	// uconv: u64(userID) | number -> UserConv (the user's sort key for that
	// conversation: its last message that is not marketing). Since version
	// 7 a conversation in which the user has only bulk messages has none.
	bUConv = []byte("uconv")
	// uconv_all: u64(userID) | u64(lastPlainID) | number: a user's
	// conversations by their last message that is not marketing (version
	// 7; before, by their last message). The listings merge the user's
	// bulk sends (idx_user_batch) into it.
	bUConvAll = []byte("uconv_all")
	// uconv_nomkt (versions 1-6): u64(userID) | u8(hasPlain) | u64(lastID)
	// | number. Gone in version 7: uconv_all is that order now.
	bUConvNoMkt = []byte("uconv_nomkt")
	// idx_user_batch (version 7): u64(userID) | u64(batchID) ->
	// u64(firstMessageID) | u64(lastMessageID): the user's bulk sends
	// (marketing messages), one entry per send, written when its
	// transaction ends (Tx.finish). It stands for the entries each
	// recipient's message used to write in idx_user, idx_user_sent, uconv
	// and uconv_all: the listings read a send's messages from the span.
	// PurgeBatch drops the entry once retention left none of them.
	bIdxUserBatch = []byte("idx_user_batch")
	// bulk_unfiled (version 8): u64(batchID) -> the head of a bulk send's
	// messages not yet filed (next, last, sender, lane, due, parts left).
	// bulk_unfiled_table (version 8): u64(batchID) -> their (number,
	// message ID) table, sorted. See unfiled.go.
	bBulkUnfiled      = []byte("bulk_unfiled")
	bBulkUnfiledTable = []byte("bulk_unfiled_table")
	// unassigned: number -> u64(lastMessageID): conversations whose incoming
	// messages nobody is associated with (the admins' unassigned inbox).
	bUnassigned = []byte("unassigned")
	// unassigned_time: u64(lastMessageID) | number.
	bUnassignedTime = []byte("unassigned_time")

	// idx_msg_state: u8(state) | u64(messageID): messages by state; since
	// version 7 without queued messages (MessagesByState finds them
	// through idx_lane).
	bIdxMsgState = []byte("idx_msg_state")
	// idx_part_state: u8(state) | u64(messageID) | u8(seq): parts by state
	// (startup recovery finds "submitting" parts with it); since version 7
	// without queued parts (idx_lane holds them).
	bIdxPartState = []byte("idx_part_state")
	// idx_due (versions 1-6): u64(nextAttempt unix ns) | u64(messageID) |
	// u8(seq): the outbox by due time. Gone in version 7: idx_lane holds
	// the same parts, by lane, group, then due time.
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
	bMeta, bMessages, bParts, bConversations,
	bIdxConv, bIdxConvLast, bIdxUser, bIdxUserSent, bUConv, bUConvAll, bIdxUserBatch, bBulkUnfiled, bBulkUnfiledTable,
	bUnassigned, bUnassignedTime, bIdxMsgState, bIdxPartState, bIdxMR,
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
	// 6 → 7: fewer keys per recipient of a bulk send.
	6: leanBulkRecords,
	// 7 → 8: every bulk message written before is filed; the unfiled
	// records start empty.
	7: func(tx *Tx) error {
		for _, name := range [][]byte{bBulkUnfiled, bBulkUnfiledTable} {
			if _, err := tx.tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	},
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
	if tx.b(bIdxDue) == nil {
		return nil // (a test's file made by a later format)
	}
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

func tns(t time.Time) []byte { return u64(unixNano(t)) }

// unixNano is t as tns keys hold it (a time before 1970 as 0).
func unixNano(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	return uint64(n)
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

// leanBulkRecords (6 → 7) drops the per-recipient keys format 7 derives:
// idx_due (idx_lane holds the same parts), the queued entries of
// idx_part_state and idx_msg_state (idx_lane finds them), batches (a batch's messages are a run of message keys:
// checked here for every batch), idx_user_nomkt and uconv_nomkt; it takes
// the bulk sends' messages out of idx_user and idx_user_sent, files each
// send once in idx_user_batch, names each sender's last bulk message in its
// conversations (Conversation.Marketed) and rebuilds uconv and uconv_all
// from the messages that are not marketing. The part of a one-part message
// written before stays in parts until the message is next written (readers
// look in both places): moving them all here would rewrite every outgoing
// message in one transaction.
func leanBulkRecords(tx *Tx) error {
	for _, name := range [][]byte{bIdxDue, bBatches, bIdxUserNoMkt, bUConvNoMkt, bUConv, bUConvAll} {
		if err := tx.tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
	}
	for _, name := range [][]byte{bUConv, bUConvAll, bIdxUserBatch} {
		if _, err := tx.tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	for _, idx := range [][]byte{bIdxPartState, bIdxMsgState} {
		var queued [][]byte
		fwdScan(tx.b(idx), []byte{stateCode[model.StateQueued]}, nil, func(key, _ []byte) bool {
			queued = append(queued, clone(key))
			return true
		})
		for _, key := range queued {
			if err := tx.b(idx).Delete(key); err != nil {
				return err
			}
		}
	}
	type userNumber struct {
		u      model.ID
		number string
	}
	type userBatch struct{ u, batch model.ID }
	plain := map[userNumber]model.ID{}             // uconv: last message that is not marketing
	marketed := map[string]map[model.ID]model.ID{} // number → sender → last bulk message
	spans := map[userBatch]*bulkSpan{}             // idx_user_batch
	var bulkKeys [][]byte                          // idx_user and idx_user_sent entries to drop
	var run model.ID                               // the batch of the previous message
	ended := map[model.ID]bool{}                   // batches whose run ended
	c := tx.b(bMessages).Cursor()
	for key, v := c.First(); key != nil; key, v = c.Next() {
		var m model.Message
		if err := unmarshal(v, &m); err != nil {
			return err
		}
		if m.BatchID != run {
			if run != 0 {
				ended[run] = true
			}
			if ended[m.BatchID] || (m.BatchID != 0 && m.BatchID >= m.ID) {
				return fmt.Errorf("batch %s's messages are not one run after its ID (message %s)", m.BatchID, m.ID)
			}
			run = m.BatchID
		}
		switch {
		case m.Direction == model.Outgoing && m.UserID != 0 && m.Marketing && m.BatchID != 0:
			if marketed[m.Number] == nil {
				marketed[m.Number] = map[model.ID]model.ID{}
			}
			marketed[m.Number][m.UserID] = m.ID
			ub := userBatch{m.UserID, m.BatchID}
			if sp := spans[ub]; sp == nil {
				spans[ub] = &bulkSpan{batch: m.BatchID, first: m.ID, last: m.ID}
			} else {
				sp.last = m.ID
			}
			uid := u64(uint64(m.UserID))
			bulkKeys = append(bulkKeys, k(uid, key), k(uid, str(m.Number), key))
		case m.Marketing:
			// (no sender or no batch: only ever written by tests; it stays
			// in idx_user and does not place its conversation)
		case m.Direction == model.Outgoing && m.UserID != 0:
			plain[userNumber{m.UserID, m.Number}] = m.ID
		case m.Direction == model.Incoming:
			for _, u := range m.Users {
				plain[userNumber{u, m.Number}] = m.ID
			}
		}
	}
	for i, key := range bulkKeys {
		b := bIdxUser
		if i%2 == 1 {
			b = bIdxUserSent
		}
		if err := tx.b(b).Delete(key); err != nil {
			return err
		}
	}
	for ub, sp := range spans {
		if err := tx.b(bIdxUserBatch).Put(k(u64(uint64(ub.u)), u64(uint64(ub.batch))), k(u64(uint64(sp.first)), u64(uint64(sp.last)))); err != nil {
			return err
		}
	}
	for un, last := range plain {
		uc := UserConv{LastPlain: last}
		if err := putJSON(tx.b(bUConv), k(u64(uint64(un.u)), []byte(un.number)), &uc); err != nil {
			return err
		}
		if err := tx.b(bUConvAll).Put(uconvAllKey(un.u, last, un.number), nil); err != nil {
			return err
		}
	}
	for number, by := range marketed {
		conv, err := tx.Conversation(number)
		if err != nil {
			return fmt.Errorf("conversation %s: %w", number, err)
		}
		conv.Marketed = nil
		for u, last := range by {
			conv.setMarketed(u, last)
		}
		slices.SortFunc(conv.Marketed, func(a, b Marketed) int { return cmp.Compare(a.User, b.User) })
		if err := putJSON(tx.b(bConversations), []byte(number), &conv); err != nil {
			return err
		}
	}
	return nil
}
