package modem

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/sim"
)

// openSim opens the virtual modem at port with the test configuration; the
// modem is closed at the end of the test.
func openSim(t *testing.T, ctx context.Context, port string, tweak func(*Config)) *Modem {
	t.Helper()
	cfg := testConfig(port)
	cfg.Trace = traceOnFailure(t)
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := Open(ctx, cfg, testLog(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", port, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// inbound has the network deliver n single-part SMS to sm, numbered from
// first.
func inbound(t *testing.T, n *sim.Network, sm *sim.Modem, first, count int) {
	t.Helper()
	for i := first; i < first+count; i++ {
		if _, err := n.Inbound(sm, sim.InboundSMS{From: "+447700900111", Text: fmt.Sprintf("in %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// The storages are split the same way at every initialisation: incoming
// messages (+CPMS mem3) go to the largest storage (ties by name), the
// store-and-send copies (mem2) to the other; a modem with one storage
// shares it.
func TestSimStorageSplit(t *testing.T) {
	for _, c := range []struct {
		name         string
		o            sim.ModemOptions
		recv, copies string
	}{
		{"phone memory larger", sim.ModemOptions{SMCapacity: 20, MECapacity: 100}, "ME", "SM"},
		{"SIM larger", sim.ModemOptions{SMCapacity: 50, MECapacity: 10}, "SM", "ME"},
		{"equal, by name", sim.ModemOptions{SMCapacity: 30, MECapacity: 30}, "ME", "SM"},
		{"one storage", sim.ModemOptions{OneStorage: true}, "SM", "SM"},
	} {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, "generic", tr, c.o, nil)
				if i := r.m.Info(); i.Storage != c.recv || i.WriteStorage != c.copies {
					t.Fatalf("incoming to %q, copies to %q; want %q, %q", i.Storage, i.WriteStorage, c.recv, c.copies)
				}
				slot, err := r.m.WritePart(context.Background(), submit(t, "x", "+447700900555", false)[0].TPDU)
				if err != nil || slot.Storage != c.copies {
					t.Fatalf("WritePart: %v %v, want a slot in %s", slot, err, c.copies)
				}
			})
		}
	}
}

// A restart with the receive storage full of unread SMS keeps it for
// incoming messages (the network holds the rest), the copies still have
// their own storage so the part is stored and sent from storage, and once
// the reader commits, every SMS, held ones too, arrives exactly once.
func TestSimRestartWithReceiveStorageFull(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := sim.NewNetwork(sim.NetworkOptions{})
			sm, err := n.AddModem(sim.ModemOptions{SMCapacity: 3, MECapacity: 5, Latency: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			port := serve(t, ctx, sm, tr)
			first := openSim(t, ctx, port, nil)
			if i := first.Info(); i.Storage != "ME" || i.WriteStorage != "SM" {
				t.Fatalf("first start: incoming to %q, copies to %q", i.Storage, i.WriteStorage)
			}
			// Nobody reads: ME fills, the network holds two.
			inbound(t, n, sm, 1, 7)
			if sm.Held() != 2 {
				t.Fatalf("network holds %d, want 2", sm.Held())
			}
			first.Close()

			m := openSim(t, ctx, port, nil)
			if i := m.Info(); i.Storage != "ME" || i.WriteStorage != "SM" {
				t.Fatalf("restart with ME full: incoming to %q, copies to %q; want ME, SM", i.Storage, i.WriteStorage)
			}
			tpdu := submit(t, "stored though ME is full", "+447700900555", false)[0].TPDU
			slot, err := m.WritePart(ctx, tpdu)
			if err != nil {
				t.Fatalf("WritePart with the receive storage full: %v", err)
			}
			if _, err := m.SendStored(ctx, slot); err != nil {
				t.Fatalf("SendStored: %v", err)
			}
			if sent := n.Sent(); len(sent) != 1 || sent[0].Via != "+CMSS" {
				t.Fatalf("network got %+v, want one part sent with +CMSS", sent)
			}
			if err := m.DeleteStored(ctx, slot); err != nil {
				t.Fatal(err)
			}

			events := make(chan Event, 16)
			done := make(chan error, 1)
			rctx, stop := context.WithCancel(ctx)
			go func() { done <- m.Run(rctx, events) }()
			defer func() { stop(); <-done }()
			got := map[string]int{}
			for len(got) < 7 {
				in := next[*Inbound](t, events)
				if in.Storage != "ME" {
					t.Errorf("incoming SMS %q stored in %s, want ME", in.Msg.Text, in.Storage)
				}
				got[in.Msg.Text]++
				if err := in.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for i := 1; i <= 7; i++ {
				if k := fmt.Sprintf("in %d", i); got[k] != 1 {
					t.Errorf("%q received %d times, want once", k, got[k])
				}
			}
			if sm.Held() != 0 || len(sm.Stored()) != 0 {
				t.Errorf("after reading: network holds %d, modem stores %+v", sm.Held(), sm.Stored())
			}
			// Nothing more arrives (each SMS once).
			select {
			case ev := <-events:
				if in, ok := ev.(*Inbound); ok {
					t.Errorf("delivered again: %q", in.Msg.Text)
				}
			case <-time.After(2 * testConfig("").PollInterval):
			}
		})
	}
}

// On a modem with one storage full of unread SMS, WritePart answers
// ErrStorageFull; MakeRoom frees a slot once the reader commits one (and
// the part is then stored), and gives up after RoomWait while nobody
// commits (an SMS not yet stored elsewhere is never deleted to make room).
func TestSimMakeRoomOneStorage(t *testing.T) {
	for _, c := range []struct {
		name   string
		commit bool
	}{
		{"reader commits", true},
		{"nobody commits", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := sim.NewNetwork(sim.NetworkOptions{})
			sm, err := n.AddModem(sim.ModemOptions{OneStorage: true, SMCapacity: 3, Latency: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			port := serve(t, ctx, sm, "pty")
			wait := 30 * time.Second
			if !c.commit {
				wait = 300 * time.Millisecond
			}
			m := openSim(t, ctx, port, func(cfg *Config) { cfg.RoomWait = wait })
			inbound(t, n, sm, 1, 3)
			tpdu := submit(t, "needs a slot", "+447700900555", false)[0].TPDU
			_, err = m.WritePart(ctx, tpdu)
			if !errors.Is(err, ErrStorageFull) || !errors.Is(err, ErrStoreRefused) {
				t.Fatalf("WritePart on a full storage: %v, want ErrStorageFull", err)
			}
			if m.SendMode() != SendStoreAndSend {
				t.Fatalf("a full storage switched the modem to %s", m.SendMode())
			}

			events := make(chan Event, 16)
			done := make(chan error, 1)
			rctx, stop := context.WithCancel(ctx)
			go func() { done <- m.Run(rctx, events) }()
			defer func() { stop(); <-done }()
			if c.commit {
				go func() {
					for {
						select {
						case ev := <-events:
							if in, ok := ev.(*Inbound); ok {
								_ = in.Commit(rctx)
							}
						case <-rctx.Done():
							return
						}
					}
				}()
			}
			err = m.MakeRoom(ctx)
			if !c.commit {
				if !errors.Is(err, ErrStorageFull) {
					t.Fatalf("MakeRoom with nobody committing: %v, want ErrStorageFull", err)
				}
				if got := len(sm.Stored()); got != 3 {
					t.Errorf("%d SMS left on the modem, want the 3 uncommitted ones", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("MakeRoom: %v", err)
			}
			slot, err := m.WritePart(ctx, tpdu)
			if err != nil {
				t.Fatalf("WritePart after MakeRoom: %v", err)
			}
			if _, err := m.SendStored(ctx, slot); err != nil {
				t.Fatal(err)
			}
			if sent := n.Sent(); len(sent) != 1 || sent[0].Via != "+CMSS" {
				t.Fatalf("network got %+v, want one part sent with +CMSS", sent)
			}
		})
	}
}
