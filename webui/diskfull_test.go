package webui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webui/api"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory and unmounts
// it at the end of the test. It needs root (CI runs the tests as root);
// elsewhere the test is skipped with the reason.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mounting a size-limited tmpfs needs root (CI runs as root): %v", err)
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// The last bytes a partial write may leave.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			return
		}
	}
}

// TestDiskFull: with the database on a small filesystem that fills up, a
// send is answered 507 storage_full, /readyz and the metrics say why, an
// incoming SMS stays on the modem, nothing stored before is lost or
// damaged, and everything resumes by itself once space is freed.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 8<<20)
	e := newSimEnvAt(t, filepath.Join(dir, "gsmgate.db"))
	_, alice := e.user("alice", model.RoleAdmin, model.VisibilityAll, model.ScopeSend, model.ScopeRead)

	// Before: a sent message and a received one.
	var sr api.SendResponse
	r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123459", "text": "before the disk filled"})
	r.json(t, &sr)
	before := sr.Messages[0].ID
	waitFor(t, "sent", func() bool { return e.message(t, alice, before).State == model.StateSent })
	if _, err := e.net.Inbound(e.sm, sim.InboundSMS{From: "+447911123456", Text: "received before"}); err != nil {
		t.Fatal(err)
	}
	thread := func(number string) string {
		return string(e.do("GET", "/api/v1/conversations/"+number+"/messages", alice, nil).body)
	}
	waitFor(t, "the first reply stored", func() bool { return strings.Contains(thread("+447911123456"), "received before") })

	// Two sends under way (slow) when the disk fills: their outcomes
	// have to wait for room to be recorded.
	e.sm.SetFaults(sim.Faults{Latency: 800 * time.Millisecond})
	var inFlight []string
	for i := range 2 {
		r := e.do("POST", "/api/v1/messages", alice, map[string]any{"to": fmt.Sprintf("+44791112350%d", i), "text": "in flight when the disk filled"})
		r.json(t, &sr)
		inFlight = append(inFlight, sr.Messages[0].ID)
	}
	fill(t, filepath.Join(dir, "filler"))

	// A send is refused with 507 storage_full. (The first writes may still
	// fit in pages the database file already has.)
	var full resp
	var accepted []string
	for i := 0; i < 200; i++ {
		full = e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123459", "text": strings.Repeat("filling up ", 40)})
		if full.status != 202 {
			break
		}
		full.json(t, &sr)
		accepted = append(accepted, sr.Messages[0].ID)
	}
	if full.status != 507 || full.errCode(t) != "storage_full" {
		t.Fatalf("send on a full disk: %d %s", full.status, full.body)
	}
	rz := e.do("GET", "/readyz", "", nil)
	if rz.status != 503 || !strings.Contains(string(rz.body), `"code":"storage_full"`) {
		t.Errorf("/readyz on a full disk: %d %s", rz.status, rz.body)
	}
	if m := e.do("GET", "/metrics", "", nil); !strings.Contains(string(m.body), "gsmgate_storage_full 1") {
		t.Errorf("/metrics does not say gsmgate_storage_full 1")
	}

	// The database file may still have free pages a small commit can reuse
	// without the filesystem growing it; use them up, so that nothing
	// more fits.
	for i := 0; i < 10000; i++ {
		if err := e.db.Update(func(tx *store.Tx) error { return tx.PutSetting(fmt.Sprintf("test.fill.%d", i), i) }); err != nil {
			break
		}
	}
	// An SMS arriving now cannot be stored: it stays on the modem, read
	// again at each poll (the pool polls every second here).
	if _, err := e.net.Inbound(e.sm, sim.InboundSMS{From: "+447911123457", Text: "arrived while full"}); err != nil {
		t.Fatal(err)
	}
	onModem := func() bool {
		for _, st := range e.sm.Stored() {
			if st.Text == "arrived while full" {
				return true
			}
		}
		return false
	}
	time.Sleep(2500 * time.Millisecond) // two polls and more
	if !onModem() {
		t.Fatal("the SMS that arrived on a full disk was deleted from the modem")
	}
	if strings.Contains(thread("+447911123457"), "arrived while full") {
		t.Fatal("the SMS that arrived on a full disk is in the database")
	}
	// What was stored before is intact.
	if mv := e.message(t, alice, before); mv.State != model.StateSent || mv.Text != "before the disk filled" {
		t.Errorf("message stored before: %+v", mv)
	}

	// Space comes back: everything resumes without a restart.
	e.sm.SetFaults(sim.Faults{})
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the waiting SMS stored and deleted from the modem", func() bool {
		return strings.Contains(thread("+447911123457"), "arrived while full") && !onModem()
	})
	waitFor(t, "/readyz ready", func() bool { return e.do("GET", "/readyz", "", nil).status == 200 })
	if m := e.do("GET", "/metrics", "", nil); !strings.Contains(string(m.body), "gsmgate_storage_full 0") {
		t.Errorf("/metrics does not say gsmgate_storage_full 0 after space was freed")
	}
	r = e.do("POST", "/api/v1/messages", alice, map[string]any{"to": "+447911123459", "text": "after space was freed"})
	if r.status != 202 {
		t.Fatalf("send after space was freed: %d %s", r.status, r.body)
	}
	r.json(t, &sr)
	after := sr.Messages[0].ID
	waitFor(t, "sent after space was freed", func() bool { return e.message(t, alice, after).State == model.StateSent })
	// What was accepted while the disk filled up goes out too (a send whose
	// outcome could not be recorded waited for space, it was not lost),
	// each part once.
	for _, id := range append(accepted, inFlight...) {
		waitFor(t, "message accepted before the disk filled sent", func() bool { return e.message(t, alice, id).State == model.StateSent })
	}
	t.Logf("%d sends accepted before the disk was full", len(accepted))
	for i := range 2 {
		n := 0
		for _, p := range e.net.Sent() {
			if p.To == fmt.Sprintf("+44791112350%d", i) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the send in flight to +44791112350%d reached the network %d times", i, n)
		}
	}

	// The file is sound: it opens again and holds everything.
	e.db.Close()
	db, err := store.Open(filepath.Join(dir, "gsmgate.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopening the database: %v", err)
	}
	defer db.Close()
	for _, id := range []string{before, after} {
		sid, _ := model.ParseID(id)
		if err := db.View(func(tx *store.Tx) error { _, err := tx.Message(sid); return err }); err != nil {
			t.Errorf("message %s after reopening: %v", id, err)
		}
	}
}
