package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// nobody is an unprivileged identity (the usual uid and gid of nobody).
var nobody = Identity{Name: "nobody", UID: 65534, GIDs: []int{65534}}

func wantOne(t *testing.T, rs []Result, check string, level Level, words ...string) {
	t.Helper()
	for _, r := range rs {
		if r.Check != check {
			continue
		}
		if r.Level != level {
			t.Errorf("%s: level %v, want %v: %s", check, r.Level, level, r.Detail)
		}
		for _, w := range words {
			if !strings.Contains(r.Detail, w) {
				t.Errorf("%s: %q lacks %q", check, r.Detail, w)
			}
		}
		return
	}
	t.Errorf("no finding %q in %+v", check, rs)
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("listen = \"nowhere\"\n[api]\nmax_recipients = 0\n"), 0o600)
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte("listen = \"127.0.0.1:8080\"\n"), 0o600)
	missing := filepath.Join(dir, "missing.toml")
	for _, tc := range []struct {
		path  string
		named bool
		level Level
		words []string
	}{
		{bad, true, Fail, []string{"listen", "bad.toml:1", "api.max_recipients", "gsmgate config check"}},
		{good, true, OK, []string{"is valid"}},
		{missing, false, OK, []string{"defaults"}},
		{missing, true, Fail, []string{"no such file"}},
	} {
		wantOne(t, []Result{ConfigFile(tc.path, tc.named)}, "configuration", tc.level, tc.words...)
	}
}

func TestDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make directories owned by root that nobody may not write")
	}
	closed := t.TempDir()
	os.Chmod(closed, 0o700)
	wantOne(t, DataDir(closed, nobody, 1), "data directory", Fail, "not writable by user nobody", "chown")
	wantOne(t, DataDir(closed, Identity{Name: "root", UID: 0}, 1), "data directory", OK, "closed to others")
	open := t.TempDir()
	os.Chmod(open, 0o777)
	wantOne(t, DataDir(open, nobody, 1), "data directory", Warn, "open to every user")
	wantOne(t, DataDir(closed, Identity{UID: 0}, 1<<60), "free space", Fail, "only", "free")
	wantOne(t, DataDir(filepath.Join(closed, "nope"), nobody, 1), "data directory", Warn, "does not exist yet")
}

func TestDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "gsmgate.db")
	wantOne(t, []Result{Database(ctx, path, nil)}, "database", Warn, "does not exist yet")

	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Held open: what a process that is not an answering daemon looks like.
	wantOne(t, []Result{Database(ctx, path, nil)}, "database", Fail, "locked by another process", "fuser")
	db.Close()
	wantOne(t, []Result{Database(ctx, path, nil)}, "database", OK, "is consistent")

	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("junk", 4096)), 0o600)
	wantOne(t, []Result{Database(ctx, junk, nil)}, "database", Fail, "not a gsmgate database", "restore")

	// Through a daemon: its answer is the verdict.
	wantOne(t, []Result{Database(ctx, path, fakeDaemon{"page 7: multiple references"})}, "database", Fail, "damaged", "page 7", "checked by the running daemon")
	wantOne(t, []Result{Database(ctx, path, fakeDaemon{})}, "database", OK, "consistent (checked by the running daemon)")
}

// fakeDaemon stands in for the control socket (tested in cmd/gsmgate with
// the real one).
type fakeDaemon []string

func (f fakeDaemon) CheckDB(context.Context) ([]string, error) { return f, nil }

// openPTY returns a pty's terminal path; the other end stays open and
// silent (nothing answers on it) until the test ends.
func openPTY(t *testing.T) string {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptm.Close(); tty.Close() })
	name := tty.Name()
	tty.Close()
	return name
}

func TestPortPermissionAndHolders(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a pty away")
	}
	path := openPTY(t)
	os.Chown(path, 0, 0)
	os.Chmod(path, 0o600)
	wantOne(t, Port(path, nobody, 0), "port "+path, Fail, "user nobody may not open it", "usermod -aG")
	if nobodyOpens(t, path) {
		t.Error("the verdict is wrong: nobody could open the port after all")
	}
	os.Chmod(path, 0o660)
	os.Chown(path, 0, 65534)
	wantOne(t, Port(path, nobody, 0), "port "+path, OK, "may open it")
	if !nobodyOpens(t, path) {
		t.Error("the verdict is wrong: nobody could not open the port")
	}

	// A real process holding the port: sleep, and a copy named
	// ModemManager, each with the pty as its standard input.
	for _, tc := range []struct{ name, words string }{{"sleep", "sleep (pid"}, {"ModemManager", "ModemManager (pid"}} {
		bin := filepath.Join(t.TempDir(), tc.name)
		data, err := os.ReadFile("/bin/sleep")
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(bin, data, 0o755)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "30")
		cmd.Stdin = f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		rs := Port(path, Identity{UID: 0}, 0)
		found := false
		for _, r := range rs {
			if r.Level == Fail && strings.Contains(r.Detail, tc.words) && strings.Contains(r.Detail, "holds it") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s holding the port not reported: %+v", tc.name, rs)
		}
		// The daemon itself holding it is fine.
		daemonView := Port(path, Identity{UID: 0}, cmd.Process.Pid)
		wantOne(t, daemonView[len(daemonView)-1:], "port "+path, OK, "in use by the gsmgate daemon")
		cmd.Process.Kill()
		cmd.Wait()
	}
	wantOne(t, Port("/dev/ttyUSB-not-there", nobody, 0), "port /dev/ttyUSB-not-there", Fail, "does not exist", "plugged in")
	if rs := Port("tcp://127.0.0.1:7000", nobody, 0); rs != nil {
		t.Errorf("a tcp:// modem is not a file: %+v", rs)
	}
}

func TestModemThatDoesNotAnswer(t *testing.T) {
	path := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs := ModemProbe(ctx, modem.Config{Port: path, CommandTimeout: 300 * time.Millisecond}, nil)
	wantOne(t, rs, "modem "+path, Fail, "does not answer AT commands", "AT port")
}

// TestModemFindings: virtual modems on ptys, each with one thing wrong.
func TestModemFindings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   sim.ModemOptions
		inbox  int // messages stored on the SIM before the probe
		check  string
		level  Level
		words  []string
		others Level // every other finding's worst level
	}{
		{"healthy", sim.ModemOptions{Operator: "TestNet"}, 0, " network", OK, []string{"registered (home) on TestNet"}, OK},
		{"pin", sim.ModemOptions{PIN: "1234"}, 0, " SIM", Fail, []string{"asks for its PIN"}, OK},
		{"no network", sim.ModemOptions{NoNetwork: true}, 0, " network", Fail, []string{"not registered", "antenna"}, Fail},
		{"no service centre", sim.ModemOptions{NoSMSC: true}, 0, " service centre", Fail, []string{"no SMS service centre", "AT+CSCA"}, OK},
		{"storage full", sim.ModemOptions{SMCapacity: 2, MECapacity: 2}, 2, " storage", Fail, []string{"full (2 of 2)"}, OK},
		{"weak signal", sim.ModemOptions{Signal: 2}, 0, " signal", Warn, []string{"weak", "antenna"}, OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			n := sim.NewNetwork(sim.NetworkOptions{})
			m, err := n.AddModem(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.inbox {
				if _, err := n.Inbound(m, sim.InboundSMS{From: "+447911123201", Text: "stored " + string(rune('a'+i))}); err != nil {
					t.Fatal(err)
				}
			}
			path, err := m.ServePTY(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rs := ModemProbe(ctx, modem.Config{Port: path, CommandTimeout: 5 * time.Second, SIMWait: time.Second}, nil)
			wantOne(t, rs, "modem "+path+tc.check, tc.level, tc.words...)
			worst := OK
			for _, r := range rs {
				if r.Check != "modem "+path+tc.check && r.Level > worst {
					worst = r.Level
					if r.Level > tc.others {
						t.Errorf("unexpected %v: %s: %s", r.Level, r.Check, r.Detail)
					}
				}
			}
		})
	}
}

func TestClock(t *testing.T) {
	floor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	synced := func(ok bool) func() (bool, error) { return func() (bool, error) { return ok, nil } }
	wantOne(t, []Result{Clock(time.Date(1970, 1, 1, 0, 0, 42, 0, time.UTC), floor, synced(false))}, "system clock", Fail, "1970-01-01", "it is wrong", "timedatectl")
	wantOne(t, []Result{Clock(floor.AddDate(0, 3, 0), floor, synced(false))}, "system clock", Warn, "not synchronised")
	wantOne(t, []Result{Clock(floor.AddDate(0, 3, 0), floor, synced(true))}, "system clock", OK, "synchronised")
	if _, err := KernelSynced(); err != nil {
		t.Errorf("adjtimex: %v", err)
	}
}

func TestReport(t *testing.T) {
	r := Report{{Check: "a", Level: OK}, {Check: "b", Level: Warn}}
	if r.Failed() {
		t.Error("warnings are not failures")
	}
	r = append(r, Result{Check: "c", Level: Fail, Detail: "broken"})
	var b strings.Builder
	r.Print(&b)
	if !r.Failed() || !strings.Contains(b.String(), "[PROBLEM] c: broken") || !strings.Contains(b.String(), "1 problem(s), 1 warning(s).") {
		t.Errorf("report:\n%s", b.String())
	}
}

// nobodyOpens says whether a process running as nobody can open path for
// reading and writing: the truth the permission verdict must match.
func nobodyOpens(t *testing.T, path string) bool {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "exec 3<>"+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "ermission denied") {
		t.Fatalf("sh as nobody: %v %s", err, out)
	}
	return err == nil
}
