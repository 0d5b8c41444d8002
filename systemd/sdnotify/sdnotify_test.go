package sdnotify

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen makes the service manager's end: a real unixgram socket.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func TestSendPathAndAbstract(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		"@gsmgate-sdnotify-test-" + strings.ReplaceAll(t.Name(), "/", "-"),
	} {
		srv := listen(t, name)
		n, err := New(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Ready("2 modems ready\nqueue 0"); err != nil {
			t.Fatal(err)
		}
		if got, want := recv(t, srv), "READY=1\nSTATUS=2 modems ready queue 0"; got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
		if err := n.Stopping("bye"); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, srv); got != "STOPPING=1\nSTATUS=bye" {
			t.Errorf("%s: got %q", name, got)
		}
		n.Close()
		if err := n.Ping(); err == nil {
			t.Error("send after Close succeeded")
		}
	}
}

func TestNilNotifierIsSilent(t *testing.T) {
	n, err := New("")
	if err != nil || n != nil {
		t.Fatalf("New(\"\") = %v, %v; want nil, nil", n, err)
	}
	if err := n.Ready("x"); err != nil {
		t.Error(err)
	}
	n.Watchdog(context.Background(), time.Second, nil, nil) // returns at once
	if _, err := New("vsock:2:3"); err == nil {
		t.Error("vsock address accepted")
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
		ok, err   bool
	}{
		{"", "", 0, false, false},
		{"30000000", "", 30 * time.Second, true, false},
		{"30000000", "42", 30 * time.Second, true, false},
		{"30000000", "43", 0, false, false},
		{"soon", "", 0, false, true},
		{"0", "", 0, false, true},
	} {
		env := map[string]string{"WATCHDOG_USEC": tc.usec, "WATCHDOG_PID": tc.pid}
		d, ok, err := WatchdogInterval(func(k string) string { return env[k] }, 42)
		if d != tc.want || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("%+v: got %v %v %v", tc, d, ok, err)
		}
	}
}

// TestWatchdogStopsWhileCheckBlocked: pings flow while the check passes,
// stop while it blocks (no ping between the "failing" report and the
// "healthy again" one), and resume after.
func TestWatchdogStopsWhileCheckBlocked(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	srv := listen(t, name)
	n, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	block := make(chan chan struct{}, 1)
	check := func(ctx context.Context) error {
		select {
		case rel := <-block:
			<-rel // stuck, ignoring ctx, like a bbolt Update behind a held lock
			return nil
		default:
			return nil
		}
	}
	changes := make(chan error, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Watchdog(ctx, 60*time.Millisecond, check, func(err error) {
		changes <- err
		// The change is marked on the socket too, to order it among pings.
		if err != nil {
			_ = n.Status("unhealthy")
		} else {
			_ = n.Status("healthy")
		}
	})
	if got := recv(t, srv); got != "WATCHDOG=1" {
		t.Fatalf("first datagram %q", got)
	}
	rel := make(chan struct{})
	block <- rel
	// Pings may still arrive until the blocked check is noticed.
	for got := recv(t, srv); got != "STATUS=unhealthy"; got = recv(t, srv) {
		if got != "WATCHDOG=1" {
			t.Fatalf("unexpected %q", got)
		}
	}
	if err := <-changes; err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("change = %v", err)
	}
	// Several intervals without a ping: nothing may arrive.
	_ = srv.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 64)
	var ne net.Error
	if k, err := srv.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %q (%v) while the check was blocked", buf[:k], err)
	}
	close(rel)
	if got := recv(t, srv); got != "WATCHDOG=1" {
		t.Fatalf("after release: %q", got)
	}
	if got := recv(t, srv); got != "STATUS=healthy" {
		t.Fatalf("after release: %q", got)
	}
}

// KeepStarting asks for more start-up time at once and again at each
// interval, and sends nothing once stopped.
func TestKeepStarting(t *testing.T) {
	name := filepath.Join(t.TempDir(), "notify")
	srv := listen(t, name)
	n, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	stop := n.KeepStarting(5*time.Millisecond, 90*time.Second)
	for range 3 {
		if got := recv(t, srv); got != "EXTEND_TIMEOUT_USEC=90000000" {
			t.Fatalf("got %q, want EXTEND_TIMEOUT_USEC=90000000", got)
		}
	}
	stop()
	stop() // a second stop is harmless
	// Drain what was sent before stop returned; then silence.
	buf := make([]byte, 512)
	for i := 0; ; i++ {
		if i == 1000 {
			t.Fatal("still asking for time after stop")
		}
		_ = srv.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := srv.Read(buf); err != nil {
			break
		}
	}
	if err := n.Status("ready"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, srv); got != "STATUS=ready" {
		t.Errorf("after stop the next datagram is %q, want only what the caller sent", got)
	}
	var none *Notifier
	none.KeepStarting(time.Millisecond, time.Second)() // nil: nothing, no panic
}
