package modem

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/sim"
)

// Store-and-send against the virtual modem, for every profile and transport:
// the mode is detected at initialisation, a stored part says whether it went
// before and after +CMSS, a failed +CMSS leaves it unsent, and the copy is
// listed and deleted.
func TestSimStoreAndSend(t *testing.T) {
	forEachProfile(t, func(t *testing.T, profile, transport string) {
		r := newRig(t, profile, transport, sim.ModemOptions{}, nil)
		ctx := context.Background()
		if got := r.m.SendMode(); got != SendStoreAndSend {
			t.Fatalf("SendMode %q, want store_and_send", got)
		}
		if got := r.m.Status().Info.SendMode; got != SendStoreAndSend {
			t.Errorf("Status().Info.SendMode %q", got)
		}
		parts := submit(t, "stored first", "+447700900555", false)
		tpdu := parts[0].TPDU
		slot, err := r.m.WritePart(ctx, tpdu)
		if err != nil {
			t.Fatalf("WritePart: %v", err)
		}
		if slot.Storage != r.m.Info().WriteStorage || slot.Index < 1 {
			t.Fatalf("slot %+v (write storage %q)", slot, r.m.Info().WriteStorage)
		}
		if out, err := r.m.ReadStored(ctx, slot, tpdu); err != nil || out != StoredUnsent {
			t.Fatalf("before +CMSS: %v %v, want unsent", out, err)
		}
		if len(r.net.Sent()) != 0 {
			t.Fatal("WritePart sent the part")
		}
		// Another part's TPDU does not match the copy: its outcome is not
		// read from it.
		other := submit(t, "another text", "+447700900555", false)[0].TPDU
		if out, _ := r.m.ReadStored(ctx, slot, other); out != StoredGone {
			t.Fatalf("foreign TPDU: %v, want gone", out)
		}
		mr, err := r.m.SendStored(ctx, slot)
		if err != nil {
			t.Fatalf("SendStored: %v", err)
		}
		sent := r.net.Sent()
		if len(sent) != 1 || sent[0].MR != mr || sent[0].Text != "stored first" {
			t.Fatalf("network got %+v, MR %d", sent, mr)
		}
		if out, err := r.m.ReadStored(ctx, slot, tpdu); err != nil || out != StoredSent {
			t.Fatalf("after +CMSS: %v %v, want sent", out, err)
		}
		if slots, err := r.m.StoredOutgoing(ctx); err != nil || len(slots) != 1 || slots[0] != slot {
			t.Fatalf("StoredOutgoing %+v %v", slots, err)
		}
		if err := r.m.DeleteStored(ctx, slot); err != nil {
			t.Fatalf("DeleteStored: %v", err)
		}
		if out, err := r.m.ReadStored(ctx, slot, tpdu); err != nil || out != StoredGone {
			t.Fatalf("after delete: %v %v, want gone", out, err)
		}

		// A +CMSS the network refuses leaves the copy unsent.
		r.sm.SetFaults(sim.Faults{SendErrors: []int{38}})
		slot, err = r.m.WritePart(ctx, tpdu)
		if err != nil {
			t.Fatalf("WritePart: %v", err)
		}
		_, err = r.m.SendStored(ctx, slot)
		var se *SendError
		if !errors.As(err, &se) || se.Class != Temporary || se.Code != 38 {
			t.Fatalf("SendStored with fault: %v", err)
		}
		if out, _ := r.m.ReadStored(ctx, slot, tpdu); out != StoredUnsent {
			t.Fatalf("after refused +CMSS: %v, want unsent", out)
		}
	})
}

// A modem that refuses +CMGW from the start sends directly; one that starts
// refusing it answers WritePart with ErrStoreRefused and switches to direct;
// a full storage refuses one write (ErrStorageFull) without switching, and
// MakeRoom finds room once a slot is freed; DirectSend turns it off.
func TestSimStoreAndSendFallback(t *testing.T) {
	ctx := context.Background()
	t.Run("refused at init", func(t *testing.T) {
		r := newRig(t, "generic", "pty", sim.ModemOptions{}, nil)
		r.sm.SetFaults(sim.Faults{RefuseCMGW: true})
		if err := r.m.initialise(ctx); err != nil {
			t.Fatal(err)
		}
		if got := r.m.SendMode(); got != SendDirect {
			t.Fatalf("SendMode %q, want direct", got)
		}
	})
	t.Run("refused later", func(t *testing.T) {
		r := newRig(t, "generic", "tcp", sim.ModemOptions{}, nil)
		r.sm.SetFaults(sim.Faults{RefuseCMGW: true})
		_, err := r.m.WritePart(ctx, submit(t, "x", "+447700900555", false)[0].TPDU)
		if !errors.Is(err, ErrStoreRefused) || !strings.Contains(err.Error(), "303") {
			t.Fatalf("WritePart: %v, want ErrStoreRefused (+CMS ERROR: 303)", err)
		}
		if got := r.m.SendMode(); got != SendDirect {
			t.Fatalf("SendMode %q, want direct", got)
		}
	})
	t.Run("storage full", func(t *testing.T) {
		r := newRig(t, "generic", "pty", sim.ModemOptions{SMCapacity: 2, MECapacity: 4}, func(c *Config) { c.RoomWait = 200 * time.Millisecond })
		tpdu := submit(t, "x", "+447700900555", false)[0].TPDU
		// Copies go to SM (incoming messages to the larger ME): two fit,
		// the third is refused as "full", never written to ME.
		var slots []Slot
		var err error
		for range 3 {
			var slot Slot
			if slot, err = r.m.WritePart(ctx, tpdu); err != nil {
				break
			}
			slots = append(slots, slot)
		}
		if !errors.Is(err, ErrStorageFull) || !errors.Is(err, ErrStoreRefused) || !strings.Contains(err.Error(), "322") {
			t.Fatalf("WritePart on a full storage: %v, want ErrStorageFull (+CMS ERROR: 322)", err)
		}
		if len(slots) != 2 || slots[0].Storage != "SM" || slots[1].Storage != "SM" {
			t.Errorf("copies written to %v, want 2 in SM", slots)
		}
		if got := r.m.SendMode(); got != SendStoreAndSend {
			t.Fatalf("SendMode %q after a full storage, want store_and_send", got)
		}
		// Copies are not MakeRoom's to delete: it gives up.
		if err := r.m.MakeRoom(ctx); !errors.Is(err, ErrStorageFull) {
			t.Fatalf("MakeRoom with the storage full of copies: %v, want ErrStorageFull", err)
		}
		if err := r.m.DeleteStored(ctx, slots[0]); err != nil {
			t.Fatal(err)
		}
		if err := r.m.MakeRoom(ctx); err != nil {
			t.Fatalf("MakeRoom after a copy was deleted: %v", err)
		}
		if _, err := r.m.WritePart(ctx, tpdu); err != nil {
			t.Fatalf("WritePart after a copy was deleted: %v", err)
		}
	})
	t.Run("DirectSend", func(t *testing.T) {
		r := newRig(t, "generic", "pty", sim.ModemOptions{}, func(c *Config) { c.DirectSend = true })
		if got := r.m.SendMode(); got != SendDirect {
			t.Fatalf("SendMode %q, want direct", got)
		}
	})
}

func TestSameSubmit(t *testing.T) {
	tpdu, _ := hex.DecodeString("01000B914477009005F50000036137")
	withMR, _ := hex.DecodeString("0107" + "0B914477009005F50000036137")
	other, _ := hex.DecodeString("0100" + "0B914477009005F60000036137")
	for _, c := range []struct {
		name string
		hex  string
		want bool
	}{
		{"no SMSC", "00" + strings.ToUpper(hex.EncodeToString(tpdu)), true},
		{"SMSC prefix", "07914477000000F0" + hex.EncodeToString(tpdu), true},
		{"MR written by the modem", "00" + hex.EncodeToString(withMR), true},
		{"other recipient", "00" + hex.EncodeToString(other), false},
		{"shorter", "00" + hex.EncodeToString(tpdu[:len(tpdu)-1]), false},
		{"SMSC length past the end", "09914477", false},
		{"not hex", "zz", false},
		{"empty", "", false},
	} {
		if got := sameSubmit(c.hex, tpdu); got != c.want {
			t.Errorf("%s: sameSubmit(%q) = %v, want %v", c.name, c.hex, got, c.want)
		}
	}
}

// BenchmarkStoreAndSendPTY measures one part sent by store-and-send over a
// real pty, the network answering at once: AT+CMGW (prompt, PDU), AT+CMSS,
// and AT+CMGD of the copy; compare BenchmarkSendPartPTY (AT+CMGS alone).
func BenchmarkStoreAndSendPTY(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, path := lonePTYModem(b, ctx, sim.ModemOptions{Latency: time.Microsecond})
	m, err := Open(ctx, Config{Port: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	tpdu := []byte{0x01, 0x00, 0x0b, 0x91, 0x44, 0x77, 0x00, 0x09, 0x05, 0xf5, 0x00, 0x00, 0x02, 0xe8, 0x34}
	b.ResetTimer()
	for range b.N {
		slot, err := m.WritePart(ctx, tpdu)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.SendStored(ctx, slot); err != nil {
			b.Fatal(err)
		}
		if err := m.DeleteStored(ctx, slot); err != nil {
			b.Fatal(err)
		}
	}
}
