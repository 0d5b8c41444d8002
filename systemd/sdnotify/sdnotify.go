// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) without cgo: newline-separated VAR=value assignments sent
// as one datagram to the Unix socket named by $NOTIFY_SOCKET. It tells the
// service manager when the daemon is ready (READY=1), what it is doing
// (STATUS=...), that it is still healthy (WATCHDOG=1) and that it is stopping
// (STOPPING=1).
//
// It never decides what "ready" or "healthy" means: the daemon does, and
// hands a health check to Watchdog.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notifier sends notifications to the service manager. A nil *Notifier
// (not started by systemd, or not Type=notify) accepts every call and sends
// nothing, so callers need no "are we under systemd" branches.
type Notifier struct {
	mu   sync.Mutex
	conn *net.UnixConn
}

// New returns a Notifier for the socket named by a NOTIFY_SOCKET value: a
// path, or "@name" for the abstract namespace (Go's net package maps the
// leading "@" to the abstract socket's NUL). An empty value returns nil (no
// notifications), not an error.
func New(socket string) (*Notifier, error) {
	if socket == "" {
		return nil, nil
	}
	if !strings.HasPrefix(socket, "/") && !strings.HasPrefix(socket, "@") {
		// systemd also allows vsock:... addresses for VMs; a gateway on a
		// Raspberry Pi never sees them.
		return nil, fmt.Errorf("sdnotify: unsupported NOTIFY_SOCKET %q (want a path or @name)", socket)
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sdnotify: dial %s: %w", socket, err)
	}
	return &Notifier{conn: c}, nil
}

// FromEnv is New(getenv("NOTIFY_SOCKET")).
func FromEnv(getenv func(string) string) (*Notifier, error) {
	return New(getenv("NOTIFY_SOCKET"))
}

// Send sends the assignments as one datagram ("READY=1", "STATUS=...").
// A newline inside a value would start a new assignment, so it is replaced
// by a space.
func (n *Notifier) Send(assignments ...string) error {
	if n == nil {
		return nil
	}
	for i, a := range assignments {
		assignments[i] = strings.ReplaceAll(a, "\n", " ")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return errors.New("sdnotify: closed")
	}
	if _, err := n.conn.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("sdnotify: send: %w", err)
	}
	return nil
}

// Ready says start-up is complete (READY=1) with a status line.
func (n *Notifier) Ready(status string) error { return n.Send("READY=1", "STATUS="+status) }

// Status sets the line `systemctl status` shows.
func (n *Notifier) Status(status string) error { return n.Send("STATUS=" + status) }

// Stopping says shutdown has begun (STOPPING=1) with a status line.
func (n *Notifier) Stopping(status string) error { return n.Send("STOPPING=1", "STATUS="+status) }

// Ping is one watchdog keep-alive (WATCHDOG=1).
func (n *Notifier) Ping() error { return n.Send("WATCHDOG=1") }

// Close closes the socket; later sends fail.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}

// WatchdogInterval reads WATCHDOG_USEC (and WATCHDOG_PID, which when set
// must be pid) as systemd sets them for a unit with WatchdogSec=. ok is false
// when no watchdog is expected of this process.
func WatchdogInterval(getenv func(string) string, pid int) (d time.Duration, ok bool, err error) {
	usec := getenv("WATCHDOG_USEC")
	if usec == "" {
		return 0, false, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		// The watchdog is meant for another process (we were started by
		// a wrapper that kept it).
		return 0, false, nil
	}
	n, err := strconv.ParseUint(usec, 10, 64)
	if err != nil || n == 0 {
		return 0, false, fmt.Errorf("sdnotify: WATCHDOG_USEC=%q is not a positive number of microseconds", usec)
	}
	return time.Duration(n) * time.Microsecond, true, nil
}

// Watchdog pings every interval/3 while check passes, until ctx ends. check
// gets a context that ends after interval/6; a check that has not answered
// within interval/3 counts as failing (a database stuck behind a lock), and no ping is
// sent, so that systemd restarts the service once interval passes without
// one. onChange, if not nil, is called when the outcome changes (nil error:
// healthy again), so that the caller can log it and update STATUS.
//
// A check that does not return on cancellation keeps running in the
// background; no second check starts until it has returned, so a stuck
// database does not pile up goroutines.
func (n *Notifier) Watchdog(ctx context.Context, interval time.Duration, check func(context.Context) error, onChange func(error)) {
	if n == nil || interval <= 0 {
		return
	}
	every := interval / 3
	tick := time.NewTicker(every)
	defer tick.Stop()
	var running chan error // the check under way, nil when none
	healthy := true
	for {
		if running == nil {
			running = make(chan error, 1)
			// The check's own deadline comes first, so that a check
			// that honours its context says what it was waiting for.
			cctx, cancel := context.WithTimeout(ctx, every/2)
			go func(out chan<- error) {
				defer cancel()
				out <- check(cctx)
			}(running)
		}
		var err error
		deadline := time.NewTimer(every)
		select {
		case <-ctx.Done():
			deadline.Stop()
			return
		case err = <-running:
			running = nil
		case <-deadline.C:
			err = fmt.Errorf("health check did not answer within %s", every)
		}
		deadline.Stop()
		if err == nil {
			_ = n.Ping()
		}
		if ok := err == nil; ok != healthy {
			healthy = ok
			if onChange != nil {
				onChange(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// KeepStarting asks the service manager for more start-up time
// (EXTEND_TIMEOUT_USEC=extend) now and every interval until stop is called:
// a database format upgrade at start can outlast TimeoutStartSec on a large
// file and a slow SD card, and a service killed for it would roll the upgrade
// back and start it again on every restart. extend should exceed interval.
func (n *Notifier) KeepStarting(interval, extend time.Duration) (stop func()) {
	if n == nil || interval <= 0 {
		return func() {}
	}
	msg := "EXTEND_TIMEOUT_USEC=" + strconv.FormatInt(extend.Microseconds(), 10)
	_ = n.Send(msg) // before returning, so that it comes before what the caller sends next
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = n.Send(msg)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}
