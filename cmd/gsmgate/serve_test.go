package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// syncBuffer is a bytes.Buffer safe for the goroutines of a daemon or
// a logger writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type daemon struct {
	info serveInfo
	stop func() int
	logs *syncBuffer
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan serveInfo, 1)
	done := make(chan int, 1)
	logs := &syncBuffer{}
	go func() { done <- serveMain(ctx, args, logs, logs, ready) }()
	select {
	case info := <-ready:
		var once sync.Once
		code := -1
		d := &daemon{info: info, logs: logs}
		d.stop = func() int {
			once.Do(func() { cancel(); code = <-done })
			return code
		}
		t.Cleanup(func() { d.stop() })
		return d
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d:\n%s", code, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve did not start:\n%s", logs)
	}
	return nil
}

func (d *daemon) get(t *testing.T, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", d.info.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.info.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits until the daemon's /readyz says yes: a modem has
// registered, so a send has somewhere to go.
func (d *daemon) waitReady(t *testing.T) {
	t.Helper()
	waitUntil(t, "a registered modem", func() bool {
		res, err := http.Get(d.info.URL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeDemoEndToEnd: the README's first command. A message sent with
// `gsmgate send` goes out through the virtual modem and the demo contact's
// reply lands in the conversation.
func TestServeDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	if d.info.Token == "" {
		t.Fatal("the demo printed no token")
	}
	d.waitReady(t)
	code, out, errs := runCmd(t, "send", "--url", d.info.URL, "--token", d.info.Token, "--to", "+447911123201", "Hello", "Ada")
	if code != 0 || !strings.Contains(out, "+447911123201") {
		t.Fatalf("send: %d %s %s", code, out, errs)
	}
	var thread struct {
		Items []struct {
			Direction, Text, State string
		} `json:"items"`
	}
	waitUntil(t, "the reply", func() bool {
		d.get(t, "/api/v1/conversations/%2B447911123201/messages", &thread)
		return len(thread.Items) == 2
	})
	if thread.Items[0].Text != "Hello Ada" || thread.Items[0].State != "sent" || thread.Items[1].Direction != "in" || thread.Items[1].Text == "" {
		t.Fatalf("thread %+v", thread.Items)
	}
	// The demo runs two SIMs, each its own modem to the pool.
	var modems struct {
		Items []struct{ IMEI, State string } `json:"items"`
	}
	waitUntil(t, "two ready modems", func() bool {
		d.get(t, "/api/v1/modems", &modems)
		ready := map[string]bool{}
		for _, m := range modems.Items {
			if m.State == "ready" {
				ready[m.IMEI] = true
			}
		}
		return len(ready) == 2
	})
	if code := d.stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.logs)
	}
	// The database was closed: a tool can open it.
	if code, _, errs := runCmd(t, "user", "list", "--data-dir", dir); code != 0 {
		t.Fatalf("user list after stop: %s", errs)
	}
}

// TestServeShutdownFinishesSend: SIGTERM while AT+CMGS is under way lets it
// finish; the message is sent, not "unknown", after the restart.
func TestServeShutdownFinishesSend(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	d.waitReady(t)
	// The demo's sends take 0.8-2 s, which a loaded machine's polling
	// below can miss entirely; 5 s keeps the part in flight when we stop
	// (well inside the modem's 60 s send timeout the shutdown waits for).
	for _, m := range d.info.demoModems {
		m.SetFaults(sim.Faults{Latency: 5 * time.Second})
	}
	code, out, errs := runCmd(t, "send", "--url", d.info.URL, "--token", d.info.Token, "--to", "+447911123299", "in flight")
	if code != 0 {
		t.Fatalf("send: %d %s %s", code, out, errs)
	}
	id := strings.Fields(out)[0]
	var m struct{ State string }
	waitUntil(t, "submitting", func() bool {
		d.get(t, "/api/v1/messages/"+id, &m)
		return m.State != "queued"
	})
	if m.State != "submitting" {
		t.Fatalf("the send left submitting (state %s) before the stop, within the modem's latency", m.State)
	}
	if code := d.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mid, _ := model.ParseID(id)
	var got model.Message
	if err := db.View(func(tx *store.Tx) error { var err error; got, err = tx.Message(mid); return err }); err != nil {
		t.Fatal(err)
	}
	if got.State != model.StateSent {
		t.Fatalf("after a graceful stop the message is %s (%s), want sent", got.State, got.Reason)
	}
}

// TestServeDemoControl: serve --demo --control exposes the virtual modem's
// control endpoint on loopback, as the README shows: an SMS made to arrive
// through it is in the conversations. A control address off loopback, or
// --control without --demo, is a usage error.
func TestServeDemoControl(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--demo", "--control", "0.0.0.0:7002"},
		{"serve", "--control", "127.0.0.1:7002"},
	} {
		if code, _, errs := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
	d := startDaemon(t, "--demo", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0")
	if !strings.HasPrefix(d.info.Control, "127.0.0.1:") {
		t.Fatalf("control address %q", d.info.Control)
	}
	d.waitReady(t)
	res, err := http.Post("http://"+d.info.Control+"/inbound", "application/json", strings.NewReader(`{"from":"+447911123777","text":"made to arrive"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("control inbound: %d", res.StatusCode)
	}
	var convs struct {
		Items []struct{ Number string } `json:"items"`
	}
	waitUntil(t, "the SMS made to arrive", func() bool {
		d.get(t, "/api/v1/conversations?all=true", &convs)
		for _, c := range convs.Items {
			if c.Number == "+447911123777" {
				return true
			}
		}
		return false
	})
	var thread struct {
		Items []struct{ Direction, Text string } `json:"items"`
	}
	d.get(t, "/api/v1/conversations/%2B447911123777/messages", &thread)
	if len(thread.Items) != 1 || thread.Items[0].Direction != "in" || thread.Items[0].Text != "made to arrive" {
		t.Fatalf("thread %+v", thread.Items)
	}
}

// TestServeDemoLeadsToLogin: the demo prints the web UI's address and an
// admin password that the login page accepts, and the newcomer finds a
// conversation (Grace's) in the SMS view.
func TestServeDemoLeadsToLogin(t *testing.T) {
	d := startDaemon(t, "--demo", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	out := d.logs.String()
	m := regexp.MustCompile(`created admin user "admin" with password (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "web UI: open "+d.info.URL+"/") {
		t.Fatalf("the demo did not print the login:\n%s", out)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(d.info.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("GET / without a session: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = noFollow.PostForm(d.info.URL+"/login", url.Values{"username": {"admin"}, "password": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) == 0 {
		t.Fatalf("login with the printed password: %d", res.StatusCode)
	}
	cookie := res.Cookies()[0]
	req, _ := http.NewRequest("GET", d.info.URL+"/", nil)
	req.AddCookie(cookie)
	res, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `data-testid="conversation-item" data-number="&#43;447911123202"`) {
		t.Fatalf("the SMS view (%d) has no demo conversation:\n%s", res.StatusCode, body)
	}
}
