package store

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestEncodersKnowEveryField: each hand-written encoder writes exactly the
// JSON fields of its type, in order. A field added to model.Message,
// model.Part, Conversation, Marketed, UserConv or model.CRMRef fails here until
// encode.go writes it too (else it would silently not be stored).
func TestEncodersKnowEveryField(t *testing.T) {
	for name, typ := range map[string]reflect.Type{
		"Message": reflect.TypeFor[model.Message](), "Part": reflect.TypeFor[model.Part](),
		"Conversation": reflect.TypeFor[Conversation](), "Marketed": reflect.TypeFor[Marketed](), "UserConv": reflect.TypeFor[UserConv](),
		"CRMRef": reflect.TypeFor[model.CRMRef](),
	} {
		var tags []string
		for f := range typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			tags = append(tags, tag)
		}
		if !reflect.DeepEqual(tags, jsonFields[name]) {
			t.Errorf("%s: struct has JSON fields %v, encode.go writes %v", name, tags, jsonFields[name])
		}
	}
}

var encStrings = []string{"", "+447900000001", "Spring sale: 20% off", "a\"b\\c", "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "Zoë 😀 日本", "\u2028\u2029", "bad \xff\xfe utf8", "\xc3", "end\\"}

var encTimes = []time.Time{{}, time.Date(2026, 12, 7, 3, 21, 9, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	time.Date(2026, 6, 1, 12, 0, 0, 500, time.FixedZone("x", 5*3600+30*60)), time.Date(1999, 12, 31, 23, 59, 59, 10, time.FixedZone("y", -8*3600)),
	time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("z", 25*3600)),
	time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("s", 3600+30)), time.Unix(1700000000, 0)}

func randomMessage(rng *rand.Rand) model.Message {
	pick := func() string { return encStrings[rng.IntN(len(encStrings))] }
	tm := func() time.Time { return encTimes[rng.IntN(len(encTimes))] }
	id := func() model.ID {
		if rng.IntN(3) == 0 {
			return 0
		}
		return model.ID(rng.Uint64())
	}
	bs := func() []byte {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	m := model.Message{ID: id(), BatchID: id(), Direction: model.Direction(pick()), Number: pick(), Text: pick(), Data: bs(),
		Encoding: pick(), Parts: rng.IntN(5) - 1, State: model.State(pick()), Reason: pick(), UserID: id(),
		Marketing: rng.IntN(2) == 0, Priority: rng.IntN(256) - 128, Campaign: pick(), StatusReport: rng.IntN(2) == 0,
		CreatedAt: tm(), UpdatedAt: tm(), SendAt: tm(), ExpiresAt: tm(), SentAt: tm(), DeliveredAt: tm(), FailedAt: tm(),
		Dismissed: rng.IntN(2) == 0, Incomplete: rng.IntN(2) == 0, Modem: pick(), Attempts: rng.IntN(4) - 1, Ref: uint16(rng.IntN(3) * rng.IntN(65536))}
	for range rng.IntN(3) {
		m.Users = append(m.Users, id())
	}
	if rng.IntN(4) == 0 {
		m.Users = []model.ID{}
	}
	if rng.IntN(2) == 0 {
		m.CRM = &model.CRMRef{Type: pick(), ID: pick()}
	}
	for range rng.IntN(3) {
		m.RawPDUs = append(m.RawPDUs, bs())
	}
	return m
}

func randomPart(rng *rand.Rand) model.Part {
	m := randomMessage(rng)
	return model.Part{MessageID: m.ID, Seq: rng.IntN(300) - 1, State: m.State, TPDU: m.Data, Modem: m.Modem, MR: rng.IntN(70000) - 2,
		Attempts: m.Attempts, NextAttempt: m.SendAt, Error: m.Reason, UpdatedAt: m.UpdatedAt, SentAt: m.SentAt, DeliveredAt: m.DeliveredAt}
}

// checkSame: where the encoder answers, its bytes are json.Marshal's;
// where it declines, json.Marshal fails (so the fallback reports the error).
func checkSame(t *testing.T, what string, v any, got []byte, ok bool) bool {
	t.Helper()
	want, err := json.Marshal(v)
	if !ok {
		if err == nil {
			t.Errorf("%s: encoder declined a record json.Marshal encodes: %s", what, want)
			return false
		}
		return true
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%s:\nencoder: %s\njson:    %s (%v)", what, got, want, err)
		return false
	}
	return true
}

// TestEncodersMatchJSON: the hand-written encoders give json.Marshal's
// bytes for records with every field empty, set, escaped and odd.
func TestEncodersMatchJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	declined := 0
	for i := range 5000 {
		m := randomMessage(rng)
		got, ok := appendMessageJSON(nil, &m)
		if !ok {
			declined++
		}
		if !checkSame(t, "message", &m, got, ok) {
			return
		}
		p := randomPart(rng)
		got, ok = appendPartJSON([]byte("junk"), &p, false)
		if ok {
			got = got[4:]
		}
		if !checkSame(t, "part", &p, got, ok) {
			return
		}
		c := Conversation{Number: m.Number, Count: m.Parts, LastMessageID: m.ID, Users: m.Users, Modem: m.Modem}
		for j, u := range m.Users {
			c.Marketed = append(c.Marketed, Marketed{User: u, Last: model.ID(j) * m.BatchID})
		}
		if !checkSame(t, "conversation", &c, appendConversationJSON(nil, &c), true) {
			return
		}
		uc := UserConv{LastPlain: m.UserID}
		if !checkSame(t, "userconv", &uc, appendUserConvJSON(nil, &uc), true) {
			return
		}
		if i == 0 {
			var zm model.Message
			var zp model.Part
			b, ok := appendMessageJSON(nil, &zm)
			checkSame(t, "zero message", &zm, b, ok)
			b, ok = appendPartJSON(nil, &zp, false)
			checkSame(t, "zero part", &zp, b, ok)
		}
	}
	if declined == 0 || declined > 4900 {
		t.Errorf("declined %d of 5000: the odd times are not exercised, or everything is", declined)
	}
}

// TestFoldedPartRoundTrips: a one-part message's record holds its part
// (format 7); the record decodes to the message as before and the part
// decodes back whole, for varied records, however the text reads.
func TestFoldedPartRoundTrips(t *testing.T) {
	db, _, _ := openTest(t)
	rng := rand.New(rand.NewPCG(5, 6))
	err := db.Update(func(tx *Tx) error {
		for i := range 2000 {
			m := randomMessage(rng)
			m.ID = model.ID(i + 1)
			if i%7 == 0 {
				m.Text = `a text with ,"part":{"state":"x"} in it`
			}
			p := randomPart(rng)
			p.MessageID, p.Seq = m.ID, 1
			if _, ok := appendMessageJSON(nil, &m); !ok {
				continue
			}
			if _, ok := appendPartJSON(nil, &p, true); !ok {
				continue
			}
			if err := tx.putMessageRecord(tx.b(bMessages), u64(uint64(m.ID)), &m, &p, nil); err != nil {
				return err
			}
			gotM, err := tx.Message(m.ID)
			if err != nil {
				return err
			}
			wantM := roundTrip(t, &m, &model.Message{})
			if gotJ, _ := json.Marshal(gotM); !bytes.Equal(gotJ, wantM) {
				t.Fatalf("message %d: read back %s, want %s", i, gotJ, wantM)
			}
			ps, err := tx.Parts(m.ID)
			if err != nil {
				return err
			}
			wantP := roundTrip(t, &p, &model.Part{})
			if len(ps) != 1 {
				t.Fatalf("message %d: %d parts", i, len(ps))
			}
			if gotP, _ := json.Marshal(ps[0]); !bytes.Equal(gotP, wantP) {
				t.Fatalf("message %d: part read back %s, want %s", i, gotP, wantP)
			}
			// Rewritten without its parts at hand (an update of the
			// message alone), the record keeps the part.
			if err := tx.putMessage(&gotM, &gotM, nil); err != nil {
				return err
			}
			if again, err := tx.Part(m.ID, 1); err != nil || !partEqual(&again, &ps[0]) {
				t.Fatalf("message %d: after a rewrite the part is %+v (%v), want %+v", i, again, err, ps[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// roundTrip is v as it reads back from its JSON (invalid UTF-8 becomes
// U+FFFD), in JSON; into is a zero value of v's type.
func roundTrip(t *testing.T, v, into any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, into)
	}
	if err == nil {
		b, err = json.Marshal(into)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzAppendString: any string encodes as json.Marshal encodes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range encStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// TestArenaValuesSurviveCommit: records written through the value arena
// (many, in one transaction, across chunks) read back intact after the
// commit and after reopening the file.
func TestArenaValuesSurviveCommit(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir+"/a.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var want []model.Part
	err = db.Update(func(tx *Tx) error {
		for i := range 3000 {
			p := randomPart(rng)
			p.MessageID, p.Seq = model.ID(i+1), 1
			// Times json.Marshal refuses are not stored at all.
			p.UpdatedAt, p.SentAt = time.Unix(int64(i), 0).UTC(), time.Time{}
			p.NextAttempt, p.DeliveredAt = encTimes[i%5], encTimes[(i+1)%5]
			want = append(want, p)
			if err := tx.putPartRecord(tx.b(bParts), partKey(p.MessageID, p.Seq), &p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(dir+"/a.db", Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *Tx) error {
		for _, w := range want {
			if _, err := tx.Part(w.MessageID, 1); err != nil {
				return err
			}
			wj, _ := json.Marshal(w)
			if got := tx.b(bParts).Get(partKey(w.MessageID, 1)); !bytes.Equal(got, wj) {
				t.Fatalf("part %s: stored %s, json.Marshal gives %s", w.MessageID, got, wj)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConversationDecoderAgrees: the hand decoder of conversation records
// reads what the encoder writes as json.Unmarshal does, and declines
// (answers false) rather than differ on anything else.
func TestConversationDecoderAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 5000 {
		m := randomMessage(rng)
		c := Conversation{Number: m.Number, Count: m.Attempts * int(m.Ref), LastMessageID: m.ID, Users: m.Users, Modem: m.Modem}
		for j, u := range m.Users {
			c.Marketed = append(c.Marketed, Marketed{User: u, Last: model.ID(j) * m.BatchID})
		}
		raw := appendConversationJSON(nil, &c)
		checkConversationDecoder(t, raw)
		if i%10 == 0 {
			// Damaged and reordered records.
			cut := raw[:rng.IntN(len(raw))]
			checkConversationDecoder(t, cut)
			mut := bytes.Clone(raw)
			mut[rng.IntN(len(mut))] = "\"{}[],:0a\\x"[rng.IntN(11)]
			checkConversationDecoder(t, mut)
		}
	}
	for _, raw := range []string{`{"count":1,"number":"+44","last_message_id":"1"}`, `{"number":"+4\u0034","count":1,"last_message_id":"1"}`,
		`{"number":"+44","count":01,"last_message_id":"1"}`, `{"number":"+44","count":1,"last_message_id":"12345678901234567"}`,
		`{"number":"+44","count":1,"last_message_id":"1","users":[]}`, `{"number":"+44","count":1,"last_message_id":"1"} `} {
		checkConversationDecoder(t, []byte(raw))
	}
}

func checkConversationDecoder(t *testing.T, raw []byte) {
	t.Helper()
	var got Conversation
	if !decodeConversation(raw, &got, "+447700900000", make([]model.ID, 0, 2), nil) {
		return
	}
	var want Conversation
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("decoded %s, which json.Unmarshal refuses: %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ndecoded %+v\njson    %+v", raw, got, want)
	}
}

// FuzzDecodeConversation: whatever the hand decoder accepts, json.Unmarshal
// reads the same.
func FuzzDecodeConversation(f *testing.F) {
	f.Add([]byte(`{"number":"+447700900000","count":3,"last_message_id":"19b76daa80000002","users":["1","2"],"modem":"m1","marketed":[{"user":"1","last":"19b76daa80000002"}]}`))
	f.Add([]byte(`{"number":"+44","count":-1,"last_message_id":"0"}`))
	f.Fuzz(func(t *testing.T, raw []byte) { checkConversationDecoder(t, raw) })
}

// messageRecord is m's record as the store writes it, with a folded part
// (random) when withPart is set; ok is false when the encoder refuses it.
// sane gives m and the part times json.Marshal accepts.
func messageRecord(rng *rand.Rand, m *model.Message, withPart, sane bool) ([]byte, bool) {
	if sane {
		m.CreatedAt, m.UpdatedAt, m.SendAt, m.ExpiresAt, m.SentAt, m.DeliveredAt, m.FailedAt = encTimes[1], encTimes[2], time.Time{}, time.Time{}, encTimes[9], time.Time{}, time.Time{}
	}
	raw, ok := appendMessageJSON(nil, m)
	if !ok || !withPart {
		return raw, ok
	}
	p := randomPart(rng)
	p.NextAttempt, p.UpdatedAt, p.SentAt, p.DeliveredAt = encTimes[1], encTimes[2], time.Time{}, encTimes[9]
	raw = append(raw[:len(raw)-1], `,"part":`...)
	if raw, ok = appendFoldedPartJSON(raw, &p); !ok {
		return nil, false
	}
	return append(raw, '}'), true
}

// TestDecodeHeadAgrees: the direct read of a message record's head gives
// what json.Unmarshal gives, for varied records with and without a part.
func TestDecodeHeadAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	direct := 0
	for i := range 5000 {
		m := randomMessage(rng)
		if i%3 == 0 {
			m.Direction, m.Number, m.Text = model.Outgoing, "+447700900123", `say ,"user_id":"0000000000000001" and ,"marketing":true`
		}
		raw, ok := messageRecord(rng, &m, i%2 == 0, i%3 == 0)
		if !ok {
			continue
		}
		var want msgHead
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := scanHead(raw)
		if !ok {
			continue
		}
		direct++
		if got != want {
			t.Fatalf("%s:\nread %+v\njson %+v", raw, got, want)
		}
	}
	if direct < 1000 {
		t.Errorf("only %d of 5000 records read directly", direct)
	}
}

// TestScanStateAgrees: scanState reads what json.Unmarshal reads from
// records as the encoder writes them (texts that spell out a parts and
// state field included, with and without a folded part, whose own state
// comes later), and declines the rest.
func TestScanStateAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	direct := 0
	for i := range 5000 {
		m := randomMessage(rng)
		states := []model.State{model.StateQueued, model.StateSubmitting, model.StateSent, model.StateDelivered,
			model.StateFailed, model.StateUnknown, model.StateCancelled, model.StateExpired, "later"}
		if i%4 != 0 { // (else a random string, which may need escapes)
			m.State = states[rng.IntN(len(states))]
		}
		if i%3 == 0 {
			m.Text = `x,"parts":1,"state":"failed"` + m.Text
		}
		raw, ok := messageRecord(rng, &m, i%2 == 0, true)
		if !ok {
			continue
		}
		var want model.Message
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		batch, st, ok := scanState(raw)
		if !ok {
			continue
		}
		direct++
		if batch != want.BatchID || st != want.State {
			t.Fatalf("%s:\nread %s %q\njson %s %q", raw, batch, st, want.BatchID, want.State)
		}
	}
	if direct < 3000 {
		t.Errorf("only %d of 5000 records read directly", direct)
	}
	for _, raw := range []string{`{"id":"0000000000000001","state":"sent"}`, `{"state":"sent","id":"0000000000000001","parts":1}`, `{}`, ``} {
		if _, _, ok := scanState([]byte(raw)); ok {
			t.Errorf("scanState read %s", raw)
		}
	}
}

// checkContactDecoder: whatever decodeContact accepts, json.Unmarshal reads
// the same; it reports whether it was accepted.
func checkContactDecoder(t *testing.T, raw []byte) bool {
	t.Helper()
	var got model.Contact
	if !decodeContact(raw, &got) {
		return false
	}
	var want model.Contact
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("decoded %s, which json.Unmarshal refuses: %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ndecoded %+v\njson    %+v", raw, got, want)
	}
	return true
}

// TestDecodeContactAgrees: varied contacts as PutContact writes them are
// decoded as json.Unmarshal decodes them, and most are read by hand.
func TestDecodeContactAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	plain := []string{"", "Ada", "Zoë Ñúñez", "Café 😀 日本", "+447911123201", "vip", "a b c"}
	pick := func() string {
		if rng.IntN(20) == 0 {
			return encStrings[rng.IntN(len(encStrings))] // (escapes, bad UTF-8: declined or agreed)
		}
		return plain[rng.IntN(len(plain))]
	}
	direct := 0
	for range 5000 {
		c := model.Contact{Number: pick(), Name: pick(), FirstName: pick(), JobTitle: pick(), Company: pick(), Email: pick(),
			CRMURL: pick(), UpdatedAt: encTimes[rng.IntN(len(encTimes))]}
		for range rng.IntN(3) {
			c.Phones = append(c.Phones, model.Phone{Number: pick(), Label: pick()})
		}
		if rng.IntN(2) == 0 {
			c.CRM = &model.CRMRef{Type: pick(), ID: pick()}
		}
		for range rng.IntN(4) {
			c.Tags = append(c.Tags, pick())
		}
		if n := rng.IntN(4); n > 0 {
			c.Fields = map[string]string{}
			for range n {
				c.Fields[pick()] = pick()
			}
		}
		raw, err := json.Marshal(&c)
		if err != nil {
			continue // (a time json refuses)
		}
		if checkContactDecoder(t, raw) {
			direct++
		}
	}
	if direct < 2000 {
		t.Errorf("only %d of 5000 contacts read by hand", direct)
	}
	for _, raw := range []string{`{"number":"+44","tags":[],"updated_at":"2026-01-01T00:00:00Z"}`,
		`{"number":"+44","fields":{"b":"1","a":"2"},"updated_at":"2026-01-01T00:00:00Z"}`,
		`{"number":"+44","fields":{"a":"1","a":"2"},"updated_at":"2026-01-01T00:00:00Z"}`,
		`{"number":"+44","updated_at":null}`, `{"number":"+44"}`} {
		var c model.Contact
		if decodeContact([]byte(raw), &c) {
			t.Errorf("decodeContact read %s", raw)
		}
	}
}

// FuzzDecodeContact: whatever the hand decoder accepts, json.Unmarshal
// reads the same.
func FuzzDecodeContact(f *testing.F) {
	f.Add([]byte(`{"number":"+447911123201","name":"Ada Lovelace","company":"Engines","phones":[{"number":"+447911123201","label":"mobile"}],"crm":{"type":"person","id":"7"},"tags":["vip"],"fields":{"team":"north","tier":"gold"},"updated_at":"2026-12-07T03:21:09.123456789Z"}`))
	f.Add([]byte(`{"number":"+44","updated_at":"2026-06-01T12:00:00.0000005+05:30"}`))
	f.Fuzz(func(t *testing.T, raw []byte) { checkContactDecoder(t, raw) })
}
