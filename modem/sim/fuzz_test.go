package sim

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// FuzzCommandLine feeds arbitrary bytes to the interpreter as a client
// would type them and checks the modem survives and still answers.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"AT\r", "ATE0V1Q0&F\r", "AT+CMGS=20\r0011\x1a", "AT+CMGF=1;+CMGS=\"+447700900555\"\rhello\x1a",
		"AT+CPMS=\"SM\",\"ME\",\"XX\"\r", "AT+CNMI=2,1,0,2,0;+CSMS=1\r", "AT+CMGD=1,4\r", "AT+CMGL=\"ALL\"\r",
		"AT+CUSD=1,\"*100#\",15\r", "AT+CFUN=1,1\r", "A/", "AT+CPIN=\"1234\",\"5678\"\r", "AT\"+\",,,=?;\r",
		"AT+CMGW=300\r\x1b", "ATS0=1S7?\r", "\x00\xff\r\n", "at+cmee=2;+cmgr=0\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := NewNetwork(NetworkOptions{Clock: NewFakeClock(time.Unix(0, 0))})
		m, err := n.AddModem(ModemOptions{SMCapacity: 3})
		if err != nil {
			t.Fatal(err)
		}
		n.Inbound(m, InboundSMS{From: "+447700900999", Text: "stored"})
		conn, err := m.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The reader keeps draining after the marker: a modem whose output
		// nobody reads blocks, and the input may hold commands of its own
		// whose answers follow.
		got := make(chan []byte, 1)
		go func() {
			var all []byte
			buf := make([]byte, 4096)
			sent := false
			for {
				k, err := conn.Read(buf)
				all = append(all, buf[:k]...)
				if !sent && (bytes.Contains(all, []byte(m.IMEI()+"\r\n\r\nOK\r\n")) || bytes.Contains(all, []byte(m.IMEI()+"\r\n0\r")) || err != nil) {
					got <- all
					sent = true
				}
				if err != nil {
					return
				}
			}
		}()
		// CR ends a command line the input left open (it may open a
		// prompt), ESC leaves any prompt, and the marker command proves
		// the modem still answers. Written from a goroutine: a modem that
		// stopped reading must fail the test, not block it.
		go conn.Write(append(append([]byte(nil), in...), []byte("\r\x1b\rAT+CGSN\r")...))
		select {
		case out := <-got:
			if !bytes.Contains(out, []byte(m.IMEI())) {
				t.Fatalf("no answer to the marker after %q: %q", in, out)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("modem stopped answering after %q", in)
		}
	})
}

// FuzzDecodeSubmit checks the network's SMS-SUBMIT reading never panics
// on what a client may type after the prompt.
func FuzzDecodeSubmit(f *testing.F) {
	f.Add([]byte{0x11, 0x00, 0x0C, 0x91, 0x44, 0x77, 0x00, 0x09, 0x50, 0x55, 0x00, 0x00, 0xFF, 0x02, 0xE8, 0x34})
	f.Add(submitTPDU("+447700900555", "hello", true))
	f.Add([]byte{0x51, 0x00, 0x03, 0x91, 0x21, 0xF3, 0x00, 0x08, 0x06, 0x05, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSubmit(b)
		if err == nil && s == nil {
			t.Fatal("nil submit without error")
		}
		acceptSubmit(b)
		parseHexPDU(string(b), len(b)/2)
	})
}
