package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

const sender = "+447700900777"

func TestInboxReceivesEveryKind(t *testing.T) {
	for _, tr := range []string{"pty", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			r := newMRig(t, 1, tr, sim.ModemOptions{})
			r.start(ModemOptions{})
			long := threeParts("Arrives out of order with a duplicate. ")
			t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			for _, sms := range []sim.InboundSMS{
				{From: sender, Text: "Hello gateway", Time: t0},
				{From: sender, Text: long, Order: []int{3, 1, 2}, Duplicate: []int{2}, Time: t0.Add(time.Minute)},
				{From: sender, Data: []byte{0xde, 0xad, 0xbe, 0xef}, DstPort: 2948, SrcPort: 9200, Time: t0.Add(2 * time.Minute)},
				{From: "MyBank", Text: "Code 1234", Duplicate: []int{1}, Time: t0.Add(3 * time.Minute)},
			} {
				if _, err := r.net.Inbound(r.sims[0], sms); err != nil {
					t.Fatal(err)
				}
			}
			var got []model.Message
			r.waitFor("four messages stored and deleted from the modem", func() bool {
				got = r.incoming()
				return len(got) >= 4 && len(r.sims[0].Stored()) == 0
			})
			time.Sleep(100 * time.Millisecond) // room for a wrongly stored duplicate to show
			if got = r.incoming(); len(got) != 4 {
				t.Fatalf("%d messages stored, want 4", len(got))
			}
			byText := map[string]model.Message{}
			for _, m := range got {
				byText[m.Text] = m
			}
			if m := byText["Hello gateway"]; m.Number != sender || m.Parts != 1 || len(m.RawPDUs) != 1 || m.Modem != r.sims[0].IMEI() {
				t.Errorf("single %+v", m)
			}
			if m, ok := byText[long]; !ok || m.Parts != 3 || m.Incomplete || len(m.RawPDUs) != 3 {
				t.Errorf("multipart %+v (found %v)", m, ok)
			}
			if m := byText["Code 1234"]; m.Number != "MyBank" {
				t.Errorf("alphanumeric sender %+v", m)
			}
			data := byText[""]
			if string(data.Data) != "\xde\xad\xbe\xef" || data.Encoding != "8bit" {
				t.Errorf("8-bit message %+v", data)
			}
			if r.pendingParts() != 0 {
				t.Errorf("%d pending parts left", r.pendingParts())
			}
			if n := r.countEvents(func(e Event) bool { _, ok := e.(*MessageReceived); return ok }, 4); n != 4 {
				t.Errorf("%d MessageReceived events, want 4", n)
			}
		})
	}
}

func TestInboxKeepsIdenticalMessagesMinutesApart(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.start(ModemOptions{})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t0, t0.Add(3 * time.Minute)} {
		if _, err := r.net.Inbound(r.sims[0], sim.InboundSMS{From: sender, Text: "Yes", Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	r.waitFor("both stored", func() bool { return len(r.incoming()) == 2 && len(r.sims[0].Stored()) == 0 })
}

func TestInboxMissingPartDeliveredIncompleteAfterTimeout(t *testing.T) {
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	r.start(ModemOptions{IncompleteAfter: 24 * time.Hour})
	long := threeParts("Part two never comes. ")
	if _, err := r.net.Inbound(r.sims[0], sim.InboundSMS{From: sender, Text: long, Drop: []int{2}}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("two parts pending and deleted from the modem", func() bool { return r.pendingParts() == 2 && len(r.sims[0].Stored()) == 0 })
	if n := len(r.incoming()); n != 0 {
		t.Fatalf("%d messages delivered before the timeout", n)
	}
	// A day later (the clock jumps; a restart looks at pending parts at once).
	r.stop()
	r.clock.Advance(24*time.Hour + time.Minute)
	r.start(ModemOptions{IncompleteAfter: 24 * time.Hour})
	var got []model.Message
	r.waitFor("the incomplete message", func() bool { got = r.incoming(); return len(got) == 1 })
	m := got[0]
	if !m.Incomplete || m.Parts != 2 || !strings.HasPrefix(m.Text, long[:153]) || strings.Contains(m.Text, long[153:306]) {
		t.Errorf("incomplete message %+v", m)
	}
	if r.pendingParts() != 0 {
		t.Errorf("pending parts left")
	}
}

func TestInboxMultipartAcrossARestart(t *testing.T) {
	// Part 1 arrives, the gateway stops; parts 3 and 2 arrive after it
	// started again. A second network whose modem has the same identity
	// stands for "later": its first reference is the same as the first
	// network's.
	r := newMRig(t, 1, "tcp", sim.ModemOptions{})
	imei := r.sims[0].IMEI()
	r.start(ModemOptions{})
	long := threeParts("Reassembled across a restart. ")
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if _, err := r.net.Inbound(r.sims[0], sim.InboundSMS{From: sender, Text: long, Drop: []int{2, 3}, Time: t0}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("part 1 pending", func() bool { return r.pendingParts() == 1 && len(r.sims[0].Stored()) == 0 })
	r.stop()
	r.db.Close()

	later := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := later.AddModem(sim.ModemOptions{IMEI: imei, OwnNumber: "+447700900001", Latency: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a, err := sm.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.ports = []string{"tcp://" + a}
	r.open()
	r.start(ModemOptions{})
	if _, err := later.Inbound(sm, sim.InboundSMS{From: sender, Text: long, Order: []int{3, 2}, Drop: []int{1}, Time: t0}); err != nil {
		t.Fatal(err)
	}
	var got []model.Message
	r.waitFor("the whole message", func() bool { got = r.incoming(); return len(got) == 1 })
	if got[0].Text != long || got[0].Incomplete || got[0].Parts != 3 {
		t.Errorf("message %+v", got[0])
	}
}
