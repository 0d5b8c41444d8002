package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
	bolt "go.etcd.io/bbolt"
)

// The records written for every recipient of a send (message, part,
// conversation, per-user sort keys) are encoded here by hand, into a buffer
// the transaction keeps, instead of by json.Marshal: reflection, a copy of
// every ID and time to the heap for its MarshalText/MarshalJSON and a fresh
// result were about 40 allocations per recipient of a 10,000-recipient send
// (BENCHMARKS.md). The bytes are exactly json.Marshal's (same field order,
// omitempty/omitzero, escaping, base64, RFC 3339 times), so every reader,
// old and new, decodes them as before: TestEncodersMatchJSON compares them
// over varied records and TestEncodersKnowEveryField fails when a field is
// added to one of these types without being added here. A record the
// encoder does not handle (a time json.Marshal refuses) is left to
// json.Marshal.

// arenaChunk is the most value space a transaction takes at a time: bbolt
// keeps each Put's value (not a copy) until the commit, so values are
// carved from chunks that live as long as the transaction. The first chunk
// is arenaFirst and each next one twice the last: most transactions (a
// claim, a modem's answer, one send) write a few records, and a 64 KB
// chunk each was most of what they allocated.
const (
	arenaChunk = 64 << 10
	arenaFirst = 2 << 10
)

// keep copies b into the transaction's value arena and returns the copy
// (capacity capped, so nothing appended to it can reach its neighbour).
func (tx *Tx) keep(b []byte) []byte {
	if len(b) > arenaChunk/4 {
		return clone(b)
	}
	if cap(tx.arena)-len(tx.arena) < len(b) {
		size := min(max(2*cap(tx.arena), arenaFirst), arenaChunk)
		for size < len(b) {
			size *= 2
		}
		tx.arena = make([]byte, 0, size)
	}
	n := len(tx.arena)
	tx.arena = append(tx.arena, b...)
	return tx.arena[n:len(tx.arena):len(tx.arena)]
}

// key concatenates key pieces into the transaction's key buffer, for a
// key handed straight to bbolt's Put, Delete or Get (Put copies its key;
// Delete and Get do not keep it). Not for a key kept past the next call.
func (tx *Tx) key(parts ...[]byte) []byte {
	b := tx.keyBuf[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	tx.keyBuf = b
	return b
}

// keyS is key for str(s) followed by tail.
func (tx *Tx) keyS(s string, tail []byte) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	b := append(tx.keyBuf[:0], byte(len(s)))
	b = append(b, s...)
	b = append(b, tail...)
	tx.keyBuf = b
	return b
}

// laneKey is the package's laneKey built in the key buffer (see key).
func (tx *Tx) laneKey(m *model.Message, p *model.Part) []byte {
	var g, due, id [8]byte
	putU64(g[:], uint64(laneGroup(m)))
	putU64(due[:], unixNano(p.NextAttempt))
	putU64(id[:], uint64(m.ID))
	return tx.key([]byte{byte(LaneOf(m))}, g[:], due[:], id[:], []byte{byte(p.Seq)})
}

// appendFill is the fill percent of the buckets a new message appends to
// in key order (ID-, time- or batch-ordered keys): bbolt splits a page at
// FillPercent (default 0.5) when it writes it, so appended keys left every
// page half empty, twice the pages to allocate, write and fsync. Keys that
// land in the middle (by number) keep the default, which leaves room for
// later inserts.
const appendFill = 0.95

// fillForAppends sets appendFill on the append-ordered buckets of a new
// message, once per transaction (FillPercent lives on the transaction's
// bucket handle, not in the file).
func (tx *Tx) fillForAppends() {
	if tx.filled {
		return
	}
	tx.filled = true
	for _, name := range [][]byte{bMessages, bParts, bIdxMsgState, bIdxPartState, bIdxLane,
		bIdxConvLast, bIdxUser, bUConvAll} {
		tx.b(name).FillPercent = appendFill
	}
}

// get is Bucket.Get through a cursor the transaction keeps per bucket:
// Bucket.Get makes a new cursor and grows its stack on every call (about
// two allocations), which a send paid several times per recipient. Seek
// starts again from the bucket's root each time, so writes in between do
// not matter; like Get it gives nil for a nested bucket's key.
func (tx *Tx) get(name, key []byte) []byte {
	k, v := tx.cursor(name).Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// cursor is the transaction's cursor over bucket name (see get): use it
// only for Seek, which starts afresh.
func (tx *Tx) cursor(name []byte) *bolt.Cursor {
	c := tx.cursors[string(name)]
	if c == nil {
		if tx.cursors == nil {
			tx.cursors = map[string]*bolt.Cursor{}
		}
		c = tx.b(name).Cursor()
		tx.cursors[string(name)] = c
	}
	return c
}

// getRecord is getJSON through tx.get.
func (tx *Tx) getRecord(name, key []byte, v any) error {
	raw := tx.get(name, key)
	if raw == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: decode %s: %w", key, err)
	}
	return nil
}

// put stores buf, an encoded record, copied to the value arena; the
// buffer is kept for the next record.
func (tx *Tx) put(b *bolt.Bucket, key, buf []byte) error {
	tx.scratch = buf[:0]
	return b.Put(key, tx.keep(buf))
}

// putMessageRecord writes m's record, holding the part of a one-part
// message (fold; or raw, that part already encoded) as its last field,
// "part", without the message_id and seq it implies.
func (tx *Tx) putMessageRecord(b *bolt.Bucket, key []byte, m *model.Message, fold *model.Part, raw []byte) error {
	buf, ok := appendMessageJSON(tx.scratch[:0], m)
	switch {
	case ok && fold != nil:
		buf = append(buf[:len(buf)-1], `,"part":`...)
		buf, ok = appendFoldedPartJSON(buf, fold)
		buf = append(buf, '}')
	case ok && raw != nil:
		buf = append(buf[:len(buf)-1], `,"part":`...)
		buf = append(buf, raw...)
		buf = append(buf, '}')
	}
	if !ok {
		// (its error: a time JSON cannot hold). A copy, so that m
		// does not escape to the heap on every call for this rare path.
		mc := *m
		return putJSON(b, key, &mc)
	}
	return tx.put(b, key, buf)
}

func (tx *Tx) putPartRecord(b *bolt.Bucket, key []byte, p *model.Part) error {
	buf, ok := appendPartJSON(tx.scratch[:0], p, false)
	if !ok {
		pc := *p // (see putMessageRecord)
		return putJSON(b, key, &pc)
	}
	return tx.put(b, key, buf)
}

func (tx *Tx) putConversationRecord(b *bolt.Bucket, key []byte, c *Conversation) error {
	return tx.put(b, key, appendConversationJSON(tx.scratch[:0], c))
}

func (tx *Tx) putUserConvRecord(b *bolt.Bucket, key []byte, uc *UserConv) error {
	return tx.put(b, key, appendUserConvJSON(tx.scratch[:0], uc))
}

// jsonFields lists, per type, the JSON names the encoders below write, in
// order; TestEncodersKnowEveryField compares them with the struct tags.
var jsonFields = map[string][]string{
	"Message": {"id", "batch_id", "direction", "number", "text", "data", "encoding", "parts", "state", "reason", "user_id",
		"users", "marketing", "priority", "campaign", "status_report", "crm", "created_at", "updated_at", "send_at",
		"expires_at", "sent_at", "delivered_at", "failed_at", "dismissed", "incomplete", "modem", "attempts", "ref", "raw_pdus"},
	"Part":         {"message_id", "seq", "state", "tpdu", "modem", "mr", "attempts", "next_attempt", "error", "updated_at", "sent_at", "delivered_at", "store_send", "slot_storage", "slot_index"},
	"Conversation": {"number", "count", "last_message_id", "users", "modem", "marketed"},
	"Marketed":     {"user", "last"},
	"UserConv":     {"last_plain"},
	"CRMRef":       {"type", "id"},
}

func appendMessageJSON(b []byte, m *model.Message) ([]byte, bool) {
	ok := true
	b = append(b, `{"id":`...)
	b = appendID(b, m.ID)
	if m.BatchID != 0 {
		b = append(b, `,"batch_id":`...)
		b = appendID(b, m.BatchID)
	}
	b = append(b, `,"direction":`...)
	b = appendString(b, string(m.Direction))
	b = append(b, `,"number":`...)
	b = appendString(b, m.Number)
	if m.Text != "" {
		b = append(b, `,"text":`...)
		b = appendString(b, m.Text)
	}
	if len(m.Data) > 0 {
		b = append(b, `,"data":`...)
		b = appendBytes(b, m.Data)
	}
	if m.Encoding != "" {
		b = append(b, `,"encoding":`...)
		b = appendString(b, m.Encoding)
	}
	b = append(b, `,"parts":`...)
	b = strconv.AppendInt(b, int64(m.Parts), 10)
	b = append(b, `,"state":`...)
	b = appendString(b, string(m.State))
	if m.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, m.Reason)
	}
	if m.UserID != 0 {
		b = append(b, `,"user_id":`...)
		b = appendID(b, m.UserID)
	}
	if len(m.Users) > 0 {
		b = append(b, `,"users":`...)
		b = appendIDs(b, m.Users)
	}
	if m.Marketing {
		b = append(b, `,"marketing":true`...)
	}
	if m.Priority != 0 {
		b = append(b, `,"priority":`...)
		b = strconv.AppendInt(b, int64(m.Priority), 10)
	}
	if m.Campaign != "" {
		b = append(b, `,"campaign":`...)
		b = appendString(b, m.Campaign)
	}
	if m.StatusReport {
		b = append(b, `,"status_report":true`...)
	}
	if m.CRM != nil {
		b = append(b, `,"crm":{"type":`...)
		b = appendString(b, m.CRM.Type)
		b = append(b, `,"id":`...)
		b = appendString(b, m.CRM.ID)
		b = append(b, '}')
	}
	b = append(b, `,"created_at":`...)
	b, ok = appendTime(b, m.CreatedAt, ok)
	b = append(b, `,"updated_at":`...)
	b, ok = appendTime(b, m.UpdatedAt, ok)
	b, ok = appendTimeOmitZero(b, `,"send_at":`, m.SendAt, ok)
	b, ok = appendTimeOmitZero(b, `,"expires_at":`, m.ExpiresAt, ok)
	b, ok = appendTimeOmitZero(b, `,"sent_at":`, m.SentAt, ok)
	b, ok = appendTimeOmitZero(b, `,"delivered_at":`, m.DeliveredAt, ok)
	b, ok = appendTimeOmitZero(b, `,"failed_at":`, m.FailedAt, ok)
	if m.Dismissed {
		b = append(b, `,"dismissed":true`...)
	}
	if m.Incomplete {
		b = append(b, `,"incomplete":true`...)
	}
	if m.Modem != "" {
		b = append(b, `,"modem":`...)
		b = appendString(b, m.Modem)
	}
	if m.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(m.Attempts), 10)
	}
	if m.Ref != 0 {
		b = append(b, `,"ref":`...)
		b = strconv.AppendUint(b, uint64(m.Ref), 10)
	}
	if len(m.RawPDUs) > 0 {
		b = append(b, `,"raw_pdus":[`...)
		for i, p := range m.RawPDUs {
			if i > 0 {
				b = append(b, ',')
			}
			if p == nil {
				b = append(b, "null"...)
			} else {
				b = appendBytes(b, p)
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), ok
}

// appendFoldedPartJSON is a part as its message's record holds it: without
// message_id and seq.
func appendFoldedPartJSON(b []byte, p *model.Part) ([]byte, bool) {
	return appendPartJSON(b, p, true)
}

func appendPartJSON(b []byte, p *model.Part, folded bool) ([]byte, bool) {
	ok := true
	if folded {
		b = append(b, `{"state":`...)
	} else {
		b = append(b, `{"message_id":`...)
		b = appendID(b, p.MessageID)
		b = append(b, `,"seq":`...)
		b = strconv.AppendInt(b, int64(p.Seq), 10)
		b = append(b, `,"state":`...)
	}
	b = appendString(b, string(p.State))
	if len(p.TPDU) > 0 {
		b = append(b, `,"tpdu":`...)
		b = appendBytes(b, p.TPDU)
	}
	if p.Modem != "" {
		b = append(b, `,"modem":`...)
		b = appendString(b, p.Modem)
	}
	b = append(b, `,"mr":`...)
	b = strconv.AppendInt(b, int64(p.MR), 10)
	if p.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(p.Attempts), 10)
	}
	b, ok = appendTimeOmitZero(b, `,"next_attempt":`, p.NextAttempt, ok)
	if p.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, p.Error)
	}
	b = append(b, `,"updated_at":`...)
	b, ok = appendTime(b, p.UpdatedAt, ok)
	b, ok = appendTimeOmitZero(b, `,"sent_at":`, p.SentAt, ok)
	b, ok = appendTimeOmitZero(b, `,"delivered_at":`, p.DeliveredAt, ok)
	if p.StoreSend {
		b = append(b, `,"store_send":true`...)
	}
	if p.SlotStorage != "" {
		b = append(b, `,"slot_storage":`...)
		b = appendString(b, p.SlotStorage)
	}
	if p.SlotIndex != 0 {
		b = append(b, `,"slot_index":`...)
		b = strconv.AppendInt(b, int64(p.SlotIndex), 10)
	}
	return append(b, '}'), ok
}

func appendConversationJSON(b []byte, c *Conversation) []byte {
	b = append(b, `{"number":`...)
	b = appendString(b, c.Number)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(c.Count), 10)
	b = append(b, `,"last_message_id":`...)
	b = appendID(b, c.LastMessageID)
	if len(c.Users) > 0 {
		b = append(b, `,"users":`...)
		b = appendIDs(b, c.Users)
	}
	if c.Modem != "" {
		b = append(b, `,"modem":`...)
		b = appendString(b, c.Modem)
	}
	if len(c.Marketed) > 0 {
		b = append(b, `,"marketed":[`...)
		for i, mk := range c.Marketed {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"user":`...)
			b = appendID(b, mk.User)
			b = append(b, `,"last":`...)
			b = appendID(b, mk.Last)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendUserConvJSON(b []byte, uc *UserConv) []byte {
	b = append(b, `{"last_plain":`...)
	b = appendID(b, uc.LastPlain)
	return append(b, '}')
}

// appendID is model.ID's MarshalText, quoted.
func appendID(b []byte, id model.ID) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '"')
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, digits[(uint64(id)>>uint(shift))&0xf])
	}
	return append(b, '"')
}

func appendIDs(b []byte, ids []model.ID) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendID(b, id)
	}
	return append(b, ']')
}

func appendBytes(b []byte, p []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

func appendTimeOmitZero(b []byte, name string, t time.Time, ok bool) ([]byte, bool) {
	if t.IsZero() {
		return b, ok
	}
	b = append(b, name...)
	return appendTime(b, t, ok)
}

// appendTime is time.Time's MarshalJSON; ok turns false where MarshalJSON
// would fail (a year outside 0-9999, an offset of 24 hours or more), so
// that the caller leaves the record to json.Marshal and its error.
func appendTime(b []byte, t time.Time, ok bool) ([]byte, bool) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	switch {
	case len(b)-n0 < 5 || b[n0+4] != '-':
		ok = false
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		if ('0' <= c && c <= '9') || 10*(b[len(b)-5]-'0')+(b[len(b)-4]-'0') >= 24 {
			ok = false
		}
	}
	return append(b, '"'), ok
}

// appendString is encoding/json's string encoding with its HTML escaping
// (json.Marshal's default): <, > and & as \u003c, \u003e, \u0026, U+2028
// and U+2029 escaped, invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeConversation reads a conversation record as the encoder above (and
// json.Marshal) writes it, into c, reusing users and marketed for its
// lists and number for its number when they are equal: a bulk send to
// known numbers read every record with json.Unmarshal, about nine
// allocations each. It answers false, leaving c to json.Unmarshal, for
// anything else (another field order, an escape in a string, invalid
// UTF-8); TestConversationDecoderAgrees and FuzzDecodeConversation hold it
// to json.Unmarshal.
func decodeConversation(b []byte, c *Conversation, number string, users []model.ID, marketed []Marketed) bool {
	d := convDecoder{b: b}
	*c = Conversation{Users: users[:0], Marketed: marketed[:0]}
	if !d.lit(`{"number":`) {
		return false
	}
	s, ok := d.str()
	if !ok {
		return false
	}
	if string(s) == number {
		c.Number = number
	} else {
		c.Number = string(s)
	}
	if !d.lit(`,"count":`) {
		return false
	}
	if c.Count, ok = d.int(); !ok {
		return false
	}
	if !d.lit(`,"last_message_id":`) {
		return false
	}
	if c.LastMessageID, ok = d.id(); !ok {
		return false
	}
	if d.lit(`,"users":[`) && !d.seq(`]`, func() bool {
		id, ok := d.id()
		c.Users = append(c.Users, id)
		return ok
	}) {
		return false
	}
	if d.lit(`,"modem":`) {
		s, ok := d.str()
		if !ok || len(s) == 0 {
			return false
		}
		c.Modem = string(s) // (a handful of modems: small, and only on known numbers)
	}
	if d.lit(`,"marketed":[`) && !d.seq(`]`, func() bool {
		var mk Marketed
		if !d.lit(`{"user":`) {
			return false
		}
		if mk.User, ok = d.id(); !ok || !d.lit(`,"last":`) {
			return false
		}
		if mk.Last, ok = d.id(); !ok || !d.lit(`}`) {
			return false
		}
		c.Marketed = append(c.Marketed, mk)
		return true
	}) {
		return false
	}
	if len(c.Users) == 0 {
		c.Users = nil
	}
	if len(c.Marketed) == 0 {
		c.Marketed = nil
	}
	return d.lit(`}`) && len(d.b) == 0
}

// convDecoder walks a record for decodeConversation.
type convDecoder struct{ b []byte }

func (d *convDecoder) lit(s string) bool {
	if len(d.b) < len(s) || string(d.b[:len(s)]) != s {
		return false
	}
	d.b = d.b[len(s):]
	return true
}

// seq reads one or more items separated by commas, then end (the opening
// bracket is read already).
func (d *convDecoder) seq(end string, item func() bool) bool {
	for {
		if !item() {
			return false
		}
		if d.lit(end) {
			return true
		}
		if !d.lit(`,`) {
			return false
		}
	}
}

// str reads a JSON string without escapes, valid UTF-8.
func (d *convDecoder) str() ([]byte, bool) {
	if len(d.b) == 0 || d.b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(d.b); i++ {
		switch c := d.b[i]; {
		case c == '"':
			s := d.b[1:i]
			d.b = d.b[i+1:]
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// int reads a JSON integer that fits an int.
func (d *convDecoder) int() (int, bool) {
	i := 0
	if i < len(d.b) && d.b[i] == '-' {
		i++
	}
	start := i
	for i < len(d.b) && d.b[i] >= '0' && d.b[i] <= '9' {
		i++
	}
	if i == start || i-start > 18 || (d.b[start] == '0' && i-start > 1) {
		return 0, false
	}
	n, err := strconv.Atoi(string(d.b[:i]))
	if err != nil {
		return 0, false
	}
	d.b = d.b[i:]
	return n, true
}

// id reads a quoted model.ID (1 to 16 hex digits, as ParseID).
func (d *convDecoder) id() (model.ID, bool) {
	if len(d.b) < 3 || d.b[0] != '"' {
		return 0, false
	}
	var v uint64
	i := 1
	for ; i < len(d.b) && d.b[i] != '"'; i++ {
		c := d.b[i]
		var x byte
		switch {
		case c >= '0' && c <= '9':
			x = c - '0'
		case c >= 'a' && c <= 'f':
			x = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			x = c - 'A' + 10
		default:
			return 0, false
		}
		if i > 16 {
			return 0, false
		}
		v = v<<4 | uint64(x)
	}
	if i == 1 || i >= len(d.b) {
		return 0, false
	}
	d.b = d.b[i+1:]
	return model.ID(v), true
}
