package sim

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// client is a small line-oriented AT client for tests: it reads what the
// modem writes, splits it into lines (the "> " prompt is a line of its
// own) and lets a test send commands and wait for lines.
type client struct {
	t     testing.TB
	rw    io.ReadWriteCloser
	lines chan string
	done  chan struct{}
}

const waitFor = 10 * time.Second // a generous bound: only a broken sim takes that long

func newClient(t testing.TB, rw io.ReadWriteCloser) *client {
	t.Helper()
	c := &client{t: t, rw: rw, lines: make(chan string, 4096), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		var cur bytes.Buffer
		buf := make([]byte, 1024)
		for {
			n, err := rw.Read(buf)
			for _, b := range buf[:n] {
				switch b {
				case '\r', '\n':
					if cur.Len() > 0 {
						c.lines <- cur.String()
						cur.Reset()
					}
				default:
					cur.WriteByte(b)
					if cur.String() == "> " {
						c.lines <- "> "
						cur.Reset()
					}
				}
			}
			if err != nil {
				if cur.Len() > 0 {
					c.lines <- cur.String()
				}
				close(c.lines)
				return
			}
		}
	}()
	t.Cleanup(func() { rw.Close() })
	return c
}

// openPTYClient opens a pty path the way a driver opens /dev/ttyUSB2.
func openPTYClient(t testing.TB, path string) *client {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return newClient(t, f)
}

func (c *client) write(s string) {
	c.t.Helper()
	if _, err := c.rw.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

// next returns the next line, failing the test if none comes.
func (c *client) next() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("connection closed while waiting for a line")
		}
		return l
	case <-time.After(waitFor):
		c.t.Fatalf("no line from the modem in %v", waitFor)
	}
	return ""
}

// until reads lines up to and including the first one for which stop is
// true and returns them all.
func (c *client) until(stop func(string) bool) []string {
	c.t.Helper()
	var out []string
	for {
		l := c.next()
		out = append(out, l)
		if stop(l) {
			return out
		}
	}
}

func isFinal(l string) bool {
	return l == "OK" || l == "ERROR" || l == "COMMAND NOT SUPPORT" || strings.HasPrefix(l, "+CME ERROR") || strings.HasPrefix(l, "+CMS ERROR")
}

// isNoise is an unsolicited code a test of commands skips: the huawei
// flood, and announcements of stored messages (tests that want those wait
// for them with waitLine before sending commands).
func isNoise(l string) bool {
	for _, p := range []string{"^RSSI", "^BOOT", "^MODE", "+CMTI:", "+CDSI:", "+QIND"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// at sends a command line and returns the lines of its answer without the
// echo and without the final result, which it returns separately.
func (c *client) at(line string) (info []string, final string) {
	c.t.Helper()
	c.write(line + "\r")
	for {
		l := c.next()
		if l == line || isNoise(l) {
			continue
		}
		if isFinal(l) {
			return info, l
		}
		info = append(info, l)
	}
}

// ok sends a command that must succeed and returns its information lines.
func (c *client) ok(line string) []string {
	c.t.Helper()
	info, final := c.at(line)
	if final != "OK" {
		c.t.Fatalf("%s: final %q (info %q), want OK", line, final, info)
	}
	return info
}

// expect sends a command and checks its final result.
func (c *client) expect(line, final string) []string {
	c.t.Helper()
	info, got := c.at(line)
	if got != final {
		c.t.Fatalf("%s: final %q (info %q), want %q", line, got, info, final)
	}
	return info
}

// waitLine waits for a line with the prefix, skipping others.
func (c *client) waitLine(prefix string) string {
	c.t.Helper()
	for {
		l := c.next()
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
}

// sendPDU runs +CMGS with a TPDU (SMSC octet "00" prepended) and returns
// the final line and the info lines, without the echo of the PDU.
func (c *client) sendPDU(tpdu []byte) ([]string, string) {
	c.t.Helper()
	c.write("AT+CMGS=" + itoa(len(tpdu)) + "\r")
	c.until(func(l string) bool { return l == "> " })
	typed := "00" + strings.ToUpper(hex.EncodeToString(tpdu))
	c.write(typed + "\x1a")
	var info []string
	for {
		l := c.next()
		if l == typed || isNoise(l) { // the echo (ATE1) of what was typed
			continue
		}
		if isFinal(l) {
			return info, l
		}
		info = append(info, l)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// rig is a network with one modem served on a pty and a client on it.
type rig struct {
	net   *Network
	m     *Modem
	clock *FakeClock
	path  string
	c     *client
	ctx   context.Context
}

func newRig(t *testing.T, o ModemOptions) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clock := NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	n := NewNetwork(NetworkOptions{Clock: clock})
	m, err := n.AddModem(o)
	if err != nil {
		t.Fatal(err)
	}
	path, err := m.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{net: n, m: m, clock: clock, path: path, ctx: ctx}
	r.c = openPTYClient(t, path)
	// Boot codes, if the profile has any, were sent before we opened: read
	// past them.
	r.c.write("AT\r")
	r.c.until(func(l string) bool { return l == "OK" })
	return r
}

// submitTPDU builds an SMS-SUBMIT for tests (GSM 7-bit, no UDH).
func submitTPDU(to, text string, srr bool) []byte {
	tp, _, err := buildSubmit(to, text, map[bool]byte{false: 0x11, true: 0x31}[srr])
	if err != nil {
		panic(err)
	}
	return tp
}

func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, conn)
}

func hexString(b []byte) string { return hex.EncodeToString(b) }
