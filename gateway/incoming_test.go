package gateway

import (
	"context"
	"errors"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

func TestIncomingDedupAndPendingParts(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	// Two parts of a three-part message arrive and are committed.
	for _, seq := range []int{1, 3} {
		p := store.InboundPart{Key: numA + "/9/3", Seq: seq, Total: 3, Originator: numA, PDU: []byte{byte(seq)}, ReceivedAt: e.clock.Now()}
		dup, parts, err := e.db.StoreInboundPart(p, p.Key+"/"+string(rune('0'+seq)))
		if err != nil || dup || len(parts) == 0 {
			t.Fatalf("store part %d: %v %v %v", seq, dup, parts, err)
		}
	}
	// Part 3 read again after a crash is recognised.
	dup, _, err := e.db.StoreInboundPart(store.InboundPart{Key: numA + "/9/3", Seq: 3}, numA+"/9/3/3")
	if err != nil || !dup {
		t.Fatalf("re-read part: dup %v err %v", dup, err)
	}
	// Part 2 completes it: the message is stored and the pending parts go,
	// in one transaction.
	m, err := e.s.AcceptIncoming(ctx, Incoming{From: numA, Text: "one two three", Parts: 3, PendingKey: numA + "/9/3",
		DedupKeys: []string{numA + "/9/3/2"}, RawPDUs: [][]byte{{1}, {2}, {3}}})
	if err != nil || len(m.RawPDUs) != 3 {
		t.Fatalf("accept: %+v %v", m, err)
	}
	_ = e.db.View(func(tx *store.Tx) error {
		if ps, _ := tx.PendingParts(numA + "/9/3"); len(ps) != 0 {
			t.Errorf("pending parts left: %d", len(ps))
		}
		return nil
	})
	// A single-part message read twice is stored once; a genuinely new
	// identical text (another time stamp, another key) is kept.
	in := Incoming{From: numB, Text: "same", DedupKeys: []string{numB + "/t1"}}
	if _, err := e.s.AcceptIncoming(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.AcceptIncoming(ctx, in); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second read: %v, want ErrDuplicate", err)
	}
	in.DedupKeys = []string{numB + "/t2"}
	if _, err := e.s.AcceptIncoming(ctx, in); err != nil {
		t.Fatal(err)
	}
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	if got, _ := e.thread(admin, numB); len(got) != 2 {
		t.Fatalf("thread %v, want two messages", got)
	}
	// 8-bit data is kept as data.
	d, err := e.s.AcceptIncoming(ctx, Incoming{From: numC, Data: []byte{0x01, 0x06}, Encoding: "8bit"})
	if err != nil || string(d.Data) != "\x01\x06" || d.Text != "" {
		t.Fatalf("data message %+v %v", d, err)
	}
}
