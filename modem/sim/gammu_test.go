package sim

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// relayEnv makes the test binary a stdin/stdout-to-TCP relay: gammu has no
// TCP device, only "proxyat", which runs a command and talks AT over its
// standard streams (as one would run `nc host port`). Using the test binary
// keeps the tests free of a netcat dependency.
const relayEnv = "GSMGATE_SIM_TCP_RELAY"

func TestMain(m *testing.M) {
	if addr := os.Getenv(relayEnv); addr != "" {
		os.Exit(relay(addr))
	}
	os.Exit(m.Run())
}

func relay(addr string) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		io.Copy(c, os.Stdin)
		c.Close()
	}()
	io.Copy(os.Stdout, c)
	return 0
}

// gammuRC writes a gammurc for device/connection into a temp dir.
func gammuRC(t *testing.T, device, connection string) string {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "gammurc")
	body := fmt.Sprintf("[gammu]\ndevice = %s\nconnection = %s\nlogfile = %s\nlogformat = textall\n", device, connection, filepath.Join(dir, "gammu.log"))
	if err := os.WriteFile(rc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}

// gammu runs the gammu CLI and returns its output; the test fails if gammu
// is missing (CI installs it) or the command fails.
func gammu(t *testing.T, rc string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("gammu")
	if err != nil {
		t.Fatalf("gammu is not installed (apt-get install gammu; scripts/test.sh does it): %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-c", rc}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(rc), "gammu.log"))
		tail := string(log)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		t.Fatalf("gammu %s: %v\n%s\nlog tail:\n%s", strings.Join(args, " "), err, out, tail)
	}
	return string(out)
}

func TestGammuAgainstTheSim(t *testing.T) {
	type setup struct {
		name    string
		profile string
		tcp     bool
	}
	setups := []setup{
		{"pty generic", "generic", false},
		{"pty sim800", "sim800", false},
		{"pty huawei", "huawei", false},
		{"pty quectel", "quectel", false},
		{"tcp generic", "generic", true},
	}
	for _, su := range setups {
		t.Run(su.name, func(t *testing.T) {
			// gammu spends most of its time sleeping between the bytes it
			// writes, so the setups run side by side.
			t.Parallel()
			n := NewNetwork(NetworkOptions{})
			m, err := n.AddModem(ModemOptions{Profile: su.profile, OwnNumber: "+447700900123"})
			if err != nil {
				t.Fatal(err)
			}
			var rc string
			if su.tcp {
				addr, err := m.ServeTCP(t.Context(), "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				self, err := os.Executable()
				if err != nil {
					t.Fatal(err)
				}
				rc = gammuRC(t, fmt.Sprintf("env %s=%s %s", relayEnv, addr, self), "proxyat")
			} else {
				path, err := m.ServePTY(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				rc = gammuRC(t, path, "at")
			}

			out := gammu(t, rc, "--identify")
			if !strings.Contains(out, m.IMEI()) || !strings.Contains(out, m.Options().IMSI) {
				t.Fatalf("identify does not show IMEI %s and IMSI:\n%s", m.IMEI(), out)
			}

			gammu(t, rc, "sendsms", "TEXT", "+447700900555", "-text", "Hello from gammu")
			unicode := "Привет ☺ from gammu"
			gammu(t, rc, "sendsms", "TEXT", "+447700900555", "-unicode", "-text", unicode)
			long := strings.Repeat("0123456789", 40)
			gammu(t, rc, "sendsms", "TEXT", "+447700900555", "-len", "400", "-text", long)
			sent := n.Sent()
			if len(sent) != 5 {
				t.Fatalf("network got %d parts, want 1+1+3: %+v", len(sent), sent)
			}
			if sent[0].Text != "Hello from gammu" || sent[0].To != "+447700900555" {
				t.Errorf("plain: %+v", sent[0])
			}
			if sent[1].Text != unicode || !strings.HasPrefix(sent[1].PDU[22:24], "08") {
				t.Errorf("unicode: text %q pdu %s", sent[1].Text, sent[1].PDU)
			}
			var joined string
			for i, p := range sent[2:] {
				if p.Total != 3 || p.Part != i+1 || p.Ref != sent[2].Ref {
					t.Errorf("multipart part %d: %+v", i+1, p)
				}
				joined += p.Text
			}
			if joined != long {
				t.Errorf("multipart text %q", joined)
			}
			for i, p := range sent {
				if p.MR != i {
					t.Errorf("part %d has MR %d", i, p.MR)
				}
			}

			n.Inbound(m, InboundSMS{From: "+447700900999", Text: "Inbound for gammu"})
			n.Inbound(m, InboundSMS{From: "MyBank", Text: strings.Repeat("long inbound ", 20), Order: []int{2, 1}})
			out = gammu(t, rc, "getallsms")
			for _, want := range []string{"Inbound for gammu", `"+447700900999"`, `"MyBank"`, "part 1 of 2", "part 2 of 2", "3 SMS parts"} {
				if !strings.Contains(out, want) {
					t.Errorf("getallsms lacks %q:\n%s", want, out)
				}
			}
			gammu(t, rc, "deleteallsms", "1")
			if st := m.Stored(); len(st) != 0 {
				t.Errorf("after deleteallsms 1: %d stored", len(st))
			}
		})
	}
}
