package gateway

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// directInbox is an inbox over a real store with no modems: the tests
// hand it events themselves (their Commit does nothing).
func directInbox(t testing.TB) (*inbox, *store.DB) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "gsmgate.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, nil, nil, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	o := ModemOptions{}
	o.defaults()
	return newInbox(s, nil, o, func() {}), db
}

// event is what the driver makes of a PDU line.
func event(raw []byte) *modem.Inbound {
	msg, err := pdu.Decode(raw, pdu.DecodeOptions{Direction: pdu.MT, SMSC: true})
	if err != nil {
		msg = nil
	}
	return &modem.Inbound{ModemID: "356938035643809", Storage: "SM", Index: 1, PDU: raw, Msg: msg, DecodeErr: err, Received: time.Now()}
}

func TestInboxStoresAnUnreadablePDUAsData(t *testing.T) {
	in, db := directInbox(t)
	raw := []byte{0x00, 0x04, 0x0b, 0x91, 0x44} // ends inside the originator
	// The second time it is read again (after a crash) and recognised.
	for range 2 {
		if err := in.inbound(context.Background(), event(raw)); err != nil {
			t.Fatal(err)
		}
	}
	var ms []model.Message
	_ = db.View(func(tx *store.Tx) error { ms, _ = tx.AllMessages(store.Page{}); return nil })
	if len(ms) != 1 {
		t.Fatalf("%d messages stored, want 1", len(ms))
	}
	m := ms[0]
	if string(m.Data) != string(raw) || m.Encoding != "raw" || m.Text == "" || len(m.RawPDUs) != 1 {
		t.Errorf("stored as %+v", m)
	}
}

// FuzzInboxInbound feeds arbitrary PDUs through the inbox: it must never
// panic, and whatever it is given ends up stored (a message or a pending
// part), because the modem deletes it afterwards.
func FuzzInboxInbound(f *testing.F) {
	for _, s := range []string{
		"07911326040000F0040B911346610089F60000208062917314080CC8329BFD065DDF72363904",
		"0791447758100650440C914477009007770000621172010000008C050003010301C2",
		"00",
		"",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	in, db := directInbox(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev := event(raw)
		if err := in.inbound(context.Background(), ev); err != nil {
			// Only a store failure may refuse a PDU; a broken one is kept as data.
			t.Fatalf("inbound(%x): %v", raw, err)
		}
		var stored bool
		_ = db.View(func(tx *store.Tx) error { stored = tx.SeenInbound(dedupKey(ev.ModemID, raw, ev.Msg)); return nil })
		if !stored {
			t.Fatalf("inbound(%x) returned without storing it", raw)
		}
	})
}
