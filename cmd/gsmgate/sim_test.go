package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSimFlags(t *testing.T) {
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"sim", "--help"}, 0, "usage: gsmgate sim"},
		{[]string{"sim"}, 2, "give --pty, --listen or both"},
		{[]string{"sim", "--listen", "127.0.0.1:7001"}, 2, "want tcp://HOST:PORT"},
		{[]string{"sim", "--pty", "--profile", "nokia"}, 2, `unknown profile "nokia"`},
		{[]string{"sim", "--pty", "--control", "0.0.0.0:7002"}, 2, "not a loopback address"},
		{[]string{"sim", "--pty", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"sim", "--pty", "--latency", "fast"}, 2, "want none, test (50ms), real (2s-6s)"},
		{[]string{"sim", "--pty", "--latency", "6s-2s"}, 2, "MIN <= MAX"},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %s)", tc.args, code, tc.code, errb.String())
		}
		if !strings.Contains(errb.String(), tc.err) {
			t.Errorf("%q: stderr %q lacks %q", tc.args, errb.String(), tc.err)
		}
	}
}

// --latency takes the named profiles of the issue (50 ms for tests, 2-6 s
// for realism), a duration or a range.
func TestSimLatencyFlag(t *testing.T) {
	cases := []struct {
		arg      string
		min, max time.Duration
	}{
		{"test", 50 * time.Millisecond, 0},
		{"real", 2 * time.Second, 6 * time.Second},
		{"none", 0, 0},
		{"3s", 3 * time.Second, 3 * time.Second},
		{"1s-4s", time.Second, 4 * time.Second},
	}
	for _, tc := range cases {
		var l latencyFlag
		if err := l.Set(tc.arg); err != nil || l.min != tc.min || l.max != tc.max {
			t.Errorf("--latency %s: %v-%v, %v; want %v-%v", tc.arg, l.min, l.max, err, tc.min, tc.max)
		}
	}
}

// TestSimControlEndpoint runs `gsmgate sim` through run(), talks AT to its
// pty and drives it over real HTTP, then stops it with SIGINT as a person
// would with Ctrl-C.
func TestSimControlEndpoint(t *testing.T) {
	pr, pw := io.Pipe()
	var errb syncBuffer // the logger writes from its goroutines
	done := make(chan int, 1)
	link := t.TempDir() + "/modem"
	go func() {
		done <- run([]string{"sim", "--pty", "--link", link, "--listen", "tcp://127.0.0.1:0", "--control", "127.0.0.1:0", "--profile", "huawei", "--latency", "test"}, pw, &errb)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	got := map[string]string{}
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		got[f[0]] = f[1]
		if f[0] == "modem" {
			got["latency"] = f[len(f)-1]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if !strings.HasPrefix(got["pty"], "/dev/pts/") || got["link"] != link || !strings.HasPrefix(got["control"], "http://127.0.0.1:") || got["tcp"] == "" || got["latency"] != "50ms" {
		t.Fatalf("printed %v", got)
	}
	if target, err := os.Readlink(link); err != nil || target != got["pty"] {
		t.Fatalf("link -> %q, %v", target, err)
	}
	base := got["control"]

	// A person's AT session on the pty (through the link, as a udev name).
	f, err := os.OpenFile(link, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	at := func(cmd, until string) string {
		t.Helper()
		if _, err := f.Write([]byte(cmd)); err != nil {
			t.Fatal(err)
		}
		var acc strings.Builder
		buf := make([]byte, 256)
		deadline := time.Now().Add(10 * time.Second)
		f.SetReadDeadline(deadline)
		for !strings.Contains(acc.String(), until) {
			n, err := f.Read(buf)
			acc.Write(buf[:n])
			if err != nil {
				t.Fatalf("reading for %q: %v (got %q)", until, err, acc.String())
			}
		}
		return acc.String()
	}
	at("AT^CURC=0\r", "OK\r\n")
	at("AT+CNMI=2,1,0,0,0\r", "OK\r\n")

	post := func(path, body string, want int) map[string]any {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		if resp.StatusCode != want {
			t.Fatalf("POST %s %s: %d %v, want %d", path, body, resp.StatusCode, v, want)
		}
		return v
	}

	v := post("/inbound", `{"from": "+447700900999", "text": "`+strings.Repeat("part ", 60)+`", "order": [2, 1]}`, 200)
	if v["parts"].(float64) != 2 {
		t.Fatalf("inbound: %v", v)
	}
	at("", `+CMTI: "SM",2`)
	post("/inbound", `{"from": "+447700900999", "text": "x", "order": [3]}`, 400)
	post("/inbound", `{"from": "+447700900999", "txt": "typo"}`, 400)

	// One send fails by fault, the next goes through.
	post("/faults", `{"send_errors": [42]}`, 200)
	pdu := "0011000C914477000950550000FF02E834" // "hi" to +447700900555
	at("AT+CMEE=1\r", "OK\r\n")
	at("AT+CMGS=16\r", "> ")
	if out := at(pdu+"\x1a", "ERROR"); !strings.Contains(out, "+CMS ERROR: 42") {
		t.Fatalf("faulted send: %q", out)
	}
	at("AT+CMGS=16\r", "> ")
	if out := at(pdu+"\x1a", "OK\r\n"); !strings.Contains(out, "+CMGS: 0") {
		t.Fatalf("send: %q", out)
	}
	resp, err := http.Get(base + "/sent")
	if err != nil {
		t.Fatal(err)
	}
	var sent []map[string]any
	json.NewDecoder(resp.Body).Decode(&sent)
	resp.Body.Close()
	if len(sent) != 1 || sent[0]["mr"].(float64) != 0 || sent[0]["to"] != "+447700900555" || sent[0]["text"] != "hi" || sent[0]["pdu"] != pdu[2:] || sent[0]["time"] == "" {
		t.Fatalf("sent: %v", sent)
	}
	post("/faults", `{"send_errors": [9999]}`, 400)

	// Unplug and replug: a new pty, the link follows.
	post("/faults", `{"unplug": true}`, 200)
	v = post("/faults", `{"replug": true}`, 200)
	newPath, _ := v["pty"].(string)
	if newPath == "" || newPath == got["pty"] {
		t.Fatalf("replug pty %q (was %s)", newPath, got["pty"])
	}
	if target, _ := os.Readlink(link); target != newPath {
		t.Fatalf("link -> %q after replug, want %s", target, newPath)
	}
	post("/reports", `{"outcome": "permanent", "delay_ms": 10}`, 200)
	post("/reports", `{"outcome": "maybe"}`, 400)

	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("gsmgate sim did not stop on SIGINT")
	}
}
