package sim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSendErrorsInjected(t *testing.T) {
	codes := append(TemporaryCMS(), PermanentCMS()...)
	for _, cmee := range []int{1, 2} {
		r := newRig(t, ModemOptions{})
		r.c.ok("AT+CMEE=" + itoa(cmee))
		r.m.SetFaults(Faults{SendErrors: codes})
		for _, code := range codes {
			_, final := r.c.sendPDU(submitTPDU("+447700900555", "x", false))
			want := "+CMS ERROR: " + itoa(code)
			if cmee == 2 {
				want = "+CMS ERROR: " + cmsText[code]
			}
			if final != want {
				t.Fatalf("CMEE=%d: got %q, want %q", cmee, final, want)
			}
		}
		// Faults used up: the next send goes through, with the first MR.
		info, final := r.c.sendPDU(submitTPDU("+447700900555", "x", false))
		if final != "OK" || info[0] != "+CMGS: 0" {
			t.Fatalf("after faults: %q %q", info, final)
		}
		if len(r.net.Sent()) != 1 {
			t.Fatalf("failed sends reached the network: %d", len(r.net.Sent()))
		}
	}
}

func TestSendTimeoutNeverAnswers(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0") // with echo on the PDU and the next command would share a line
	r.m.SetFaults(Faults{SendTimeouts: 1})
	tp := submitTPDU("+447700900555", "lost answer", false)
	r.c.write("AT+CMGS=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + strings.ToUpper(hexString(tp)) + "\x1a")
	// The client gives up and sends the next command: the first answer it
	// gets is that command's, nothing of the lost send.
	if got := r.c.ok("AT+CGMI"); !slices.Equal(got, []string{"gsmgate"}) {
		t.Fatalf("next command got %q", got)
	}
	sent := r.net.Sent()
	if len(sent) != 1 || !sent[0].TimedOut || sent[0].Text != "lost answer" {
		t.Fatalf("network: %+v", sent)
	}
}

func TestHangAndRecover(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.m.Hang(true)
	r.c.write("AT+CGMI\r")
	select {
	case l := <-r.c.lines:
		t.Fatalf("hung modem said %q", l)
	case <-time.After(200 * time.Millisecond):
	}
	r.m.Hang(false)
	if got := r.c.ok("AT+CGMM"); got[0] != "Virtual GSM modem" {
		t.Fatalf("after recovery: %q", got)
	}
}

func TestGarbageBeforeResponses(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.m.SetFaults(Faults{Garbage: 1})
	info := r.c.ok("AT+CGMI")
	if len(info) != 2 || info[1] != "gsmgate" || !strings.Contains(info[0], "\xff") {
		t.Fatalf("garbage then answer: %q", info)
	}
	if info := r.c.ok("AT+CGMI"); len(info) != 1 {
		t.Fatalf("garbage not used up: %q", info)
	}
	r.m.InjectGarbage([]byte("\x00\x00NO CARRIER?\r\n"))
	r.c.until(func(l string) bool { return strings.Contains(l, "NO CARRIER?") })
	r.c.ok("AT")
}

func TestLatencyStillAnswers(t *testing.T) {
	r := newRig(t, ModemOptions{Latency: 20 * time.Millisecond, LatencyMax: 60 * time.Millisecond})
	r.m.SetFaults(Faults{Latency: 50 * time.Millisecond})
	for range 3 {
		if _, final := r.c.sendPDU(submitTPDU("+447700900555", "slow", false)); final != "OK" {
			t.Fatal(final)
		}
	}
	if len(r.net.Sent()) != 3 {
		t.Fatal("sends lost")
	}
}

// sessionCount is how many clients the modem is serving.
func (m *Modem) sessionCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// waitUntil polls cond until it holds, failing after waitFor.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, waitFor)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An unplug while a send waits out its latency ends that send at once:
// the modem is gone, the part never reaches the network, and the session
// serving the old port ends instead of sleeping out the hour.
func TestUnplugAbortsSendInProgress(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.m.SetFaults(Faults{Latency: time.Hour})
	tp := submitTPDU("+447700900555", "never", false)
	r.c.write("AT+CMGS=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + strings.ToUpper(hexString(tp)) + "\x1a")
	// The MR is taken just before the latency starts.
	waitUntil(t, "send started", func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return r.m.nextMR == 1
	})
	r.m.Unplug()
	for range r.c.lines {
	}
	waitUntil(t, "old session ended", func() bool { return r.m.sessionCount() == 0 })
	if sent := r.net.Sent(); len(sent) != 0 {
		t.Fatalf("an aborted send reached the network: %+v", sent)
	}
	path, err := r.m.Replug(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.m.SetFaults(Faults{})
	c := openPTYClient(t, path)
	c.ok("AT")
	if info, final := c.sendPDU(tp); final != "OK" || info[0] != "+CMGS: 1" {
		t.Fatalf("send after replug: %q %q", info, final)
	}
}

// A +CMSS whose answer is lost says nothing at all, like a lost +CMGS: not
// a bare OK without the +CMSS: <mr> a client waits for.
func TestCMSSTimeoutNeverAnswers(t *testing.T) {
	r := newRig(t, ModemOptions{})
	idx := writePDU(t, r.c, submitTPDU("+447700900555", "stored", false), 2)
	r.m.SetFaults(Faults{SendTimeouts: 1})
	line := "AT+CMSS=" + itoa(idx)
	r.c.write(line + "\r")
	r.c.until(func(l string) bool { return l == line })
	if got := r.c.ok("AT+CGMI"); !slices.Equal(got, []string{"gsmgate"}) {
		t.Fatalf("next command got %q", got)
	}
	if sent := r.net.Sent(); len(sent) != 1 || !sent[0].TimedOut {
		t.Fatalf("network: %+v", sent)
	}
}

// With no service centre on the SIM a send whose PDU names none is
// +CMS ERROR: 330 (SMSC address unknown); a PDU naming one goes through,
// and so does any once AT+CSCA sets one.
func TestNoSMSCIsCMS330(t *testing.T) {
	r := newRig(t, ModemOptions{NoSMSC: true})
	r.c.ok("ATE0")
	r.c.ok("AT+CMEE=1")
	if got := r.c.ok("AT+CSCA?"); !slices.Equal(got, []string{`+CSCA: "",129`}) {
		t.Fatalf("CSCA? = %q", got)
	}
	tp := submitTPDU("+447700900555", "x", false)
	if _, final := r.c.sendPDU(tp); final != "+CMS ERROR: 330" {
		t.Fatalf("PDU without SMSC: %q", final)
	}
	idx := writePDU(t, r.c, tp, 2)
	r.c.expect("AT+CMSS="+itoa(idx), "+CMS ERROR: 330")
	r.c.ok("AT+CMGF=1")
	r.c.write("AT+CMGS=\"+447700900555\"\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("x\x1a")
	if got := r.c.until(isFinal); got[len(got)-1] != "+CMS ERROR: 330" {
		t.Fatalf("text mode without SMSC: %q", got)
	}
	r.c.ok("AT+CMGF=0")
	typed := "07914477079000F1" + strings.ToUpper(hexString(tp)) // SMSC +447770900001
	r.c.write("AT+CMGS=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write(typed + "\x1a")
	if got := r.c.until(isFinal); !slices.Equal(got, []string{"+CMGS: 0", "OK"}) {
		t.Fatalf("PDU with SMSC: %q", got)
	}
	r.c.ok(`AT+CSCA="+447700900001"`)
	if info, final := r.c.sendPDU(tp); final != "OK" || info[0] != "+CMGS: 1" {
		t.Fatalf("after AT+CSCA: %q %q", info, final)
	}
}

// A modem that hangs while a send waits out its latency never answers that
// send, though the network got it; after recovery the next command's answer
// is the first thing the client reads.
func TestHangDuringSendSwallowsItsAnswer(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0")
	// Time to hang it mid-send: between the send starting and the hang is
	// one 5 ms poll, which a loaded machine can stretch past the 500 ms
	// this was, letting the answer out before the hang.
	r.m.SetFaults(Faults{Latency: 3 * time.Second})
	tp := submitTPDU("+447700900555", "hung", false)
	r.c.write("AT+CMGS=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + strings.ToUpper(hexString(tp)) + "\x1a")
	waitUntil(t, "send started", func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return r.m.nextMR == 1
	})
	r.m.Hang(true)
	waitUntil(t, "send finished", func() bool {
		if len(r.net.Sent()) != 1 {
			return false
		}
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		for s := range r.m.sessions {
			s.mu.Lock()
			busy := s.busy
			s.mu.Unlock()
			if busy {
				return false
			}
		}
		return true
	})
	r.m.Hang(false)
	if got := r.c.ok("AT+CGMI"); !slices.Equal(got, []string{"gsmgate"}) {
		t.Fatalf("after the hang: %q", got)
	}
}

// +CMGW into a full storage is +CMS ERROR: 322 (memory full); a +CMGR or
// +CMSS of an index past its end is 321 (invalid memory index).
func TestStorageErrorCodes(t *testing.T) {
	r := newRig(t, ModemOptions{SMCapacity: 1})
	r.c.ok("ATE0")
	r.c.ok("AT+CMEE=1")
	tp := submitTPDU("+447700900555", "x", false)
	writePDU(t, r.c, tp, 2)
	r.c.write("AT+CMGW=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + hexString(tp) + "\x1a")
	if got := r.c.until(isFinal); got[len(got)-1] != "+CMS ERROR: 322" {
		t.Fatalf("CMGW into a full storage: %q", got)
	}
	if got := r.c.ok("AT+CPMS?"); got[0] != `+CPMS: "SM",1,1,"SM",1,1,"SM",1,1` {
		t.Fatalf("CPMS? = %q", got)
	}
	r.c.expect("AT+CMGR=2", "+CMS ERROR: 321")
	r.c.expect("AT+CMSS=2", "+CMS ERROR: 321")
	r.c.expect("AT+CMGD=2", "+CMS ERROR: 321")
}

// A +CMSS the unplug cut short leaves the stored message unsent.
func TestUnplugDuringCMSSKeepsMessageUnsent(t *testing.T) {
	r := newRig(t, ModemOptions{})
	r.c.ok("ATE0")
	idx := writePDU(t, r.c, submitTPDU("+447700900555", "stored", false), 2)
	r.m.SetFaults(Faults{Latency: time.Hour})
	r.c.write("AT+CMSS=" + itoa(idx) + "\r")
	waitUntil(t, "send started", func() bool {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		return r.m.nextMR == 1
	})
	r.m.Unplug()
	for range r.c.lines {
	}
	waitUntil(t, "old session ended", func() bool { return r.m.sessionCount() == 0 })
	if st := r.m.Stored(); len(st) != 1 || st[0].Stat != 2 {
		t.Fatalf("stored after an aborted +CMSS: %+v", st)
	}
	if len(r.net.Sent()) != 0 {
		t.Fatal("an aborted +CMSS reached the network")
	}
}
