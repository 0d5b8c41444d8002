//go:build linux

package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

// portAccessEnv, when set to a device path, turns the test binary into the
// helper of TestOpenPortBusyAndPermission: it opens the path twice, holding
// the first, and prints what each open said.
const portAccessEnv = "GSMGATE_PORT_ACCESS_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(portAccessEnv); path != "" {
		fmt.Print(openTwice(path))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openTwice opens path twice (the first kept open) and describes both
// results: "ok", "busy: <message>", "permission: <message>" or "other: ...".
func openTwice(path string) string {
	var out []string
	var keep []io.Closer
	for range 2 {
		rwc, err := OpenPort(context.Background(), path, 0, "")
		switch {
		case err == nil:
			keep = append(keep, rwc)
			out = append(out, "ok")
		case errors.Is(err, ErrPortBusy):
			out = append(out, "busy: "+err.Error())
		case errors.Is(err, fs.ErrPermission):
			out = append(out, "permission: "+err.Error())
		default:
			out = append(out, "other: "+err.Error())
		}
	}
	for _, c := range keep {
		c.Close()
	}
	return strings.Join(out, "\n")
}

// TestOpenPortBusyAndPermission: a port another program holds (go.bug.st/
// serial sets TIOCEXCL) and a port we may not open are reported with
// ErrPortBusy and fs.ErrPermission and a hint a person can act on. Root
// ignores both locks, so as root the opens run in a copy of the test binary
// under the nobody user.
func TestOpenPortBusyAndPermission(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode os.FileMode
		want []string
	}{
		{"busy", 0o600, []string{"ok", "busy: modem: open %s: modem: port is in use by another program (is gsmgate serve or ModemManager holding it?)"}},
		{"permission", 0o000, []string{"permission: modem: open %s: permission denied (add the user to the dialout group)"}},
	} {
		t.Run(tc.name+"/other user", func(t *testing.T) {
			master, slave, err := pty.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer master.Close()
			path := slave.Name()
			slave.Close()
			got := runAsOtherUser(t, path, tc.mode)
			lines := strings.Split(got, "\n")
			if len(lines) < len(tc.want) {
				t.Fatalf("helper said %q", got)
			}
			for i, w := range tc.want {
				if w = strings.ReplaceAll(w, "%s", path); lines[i] != w {
					t.Errorf("open %d: %q, want %q", i+1, lines[i], w)
				}
			}
		})
	}
}

// TestOpenPortHeldByUs: a port this user (root too) already holds is
// reported busy: the flock that OpenPort takes, unlike TIOCEXCL, binds root.
func TestOpenPortHeldByUs(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	path := slave.Name()
	slave.Close()
	want := "ok\nbusy: modem: open " + path + ": modem: port is in use by another program (is gsmgate serve or ModemManager holding it?)"
	if got := openTwice(path); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Closing the first releases the lock.
	if got := openTwice(path); got != want {
		t.Errorf("again: got %q, want %q", got, want)
	}
}

// runAsOtherUser gives path (a pty slave) the mode for its owner, makes
// the owner the user the opens run as, and runs openTwice as that user.
func runAsOtherUser(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return openTwice(path)
	}
	const nobody = 65534
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gsmgate-port-access")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "modem.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = []string{portAccessEnv + "=" + path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v: %s", err, out)
	}
	return string(out)
}
