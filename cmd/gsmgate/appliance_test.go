package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	bolt "go.etcd.io/bbolt"
)

// notifySocket is the service manager's end of NOTIFY_SOCKET: a real
// unixgram socket whose datagrams the test reads in order.
type notifySocket struct {
	conn *net.UnixConn
	path string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &notifySocket{conn: c, path: path}
}

// next returns the next datagram (failing the test after 30 s).
func (n *notifySocket) next(t *testing.T) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = n.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	k, err := n.conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:k])
}

// until reads datagrams until one starts with prefix and returns it with
// those skipped.
func (n *notifySocket) until(t *testing.T, prefix string) (string, []string) {
	t.Helper()
	var skipped []string
	for {
		d := n.next(t)
		if strings.HasPrefix(d, prefix) {
			return d, skipped
		}
		skipped = append(skipped, d)
	}
}

// TestServeNotifiesSystemd: the notify protocol over a real datagram
// socket. READY=1 comes only once the modem is up (/readyz says so at that
// moment), WATCHDOG=1 pings follow, stop while a write transaction holds
// the database, resume after it, and STOPPING=1 comes at shutdown.
func TestServeNotifiesSystemd(t *testing.T) {
	ns := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", ns.path)
	t.Setenv("WATCHDOG_USEC", "300000") // a check every 100 ms
	d := startDaemon(t, "--demo", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")

	ready, before := ns.until(t, "READY=1")
	extended := false
	for _, b := range before {
		if strings.Contains(b, "WATCHDOG=1") {
			t.Errorf("watchdog ping before READY: %q", b)
		}
		extended = extended || b == "EXTEND_TIMEOUT_USEC=60000000"
	}
	if !extended {
		t.Errorf("no EXTEND_TIMEOUT_USEC while the database opened; before READY: %q", before)
	}
	// Every modem of the demo is up by READY, and the status says so.
	if m := regexp.MustCompile(`STATUS=(\d+) of (\d+) modem\(s\) ready`).FindStringSubmatch(ready); m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("READY without every modem ready: %q", ready)
	}
	res, err := http.Get(d.info.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("READY=1 sent while /readyz says %d", res.StatusCode)
	}
	ns.until(t, "WATCHDOG=1")

	// Hold the database's write lock, as a stuck transaction would.
	held, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = d.info.db.Update(func(*store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	// Pings may still be on their way; then the failure is reported.
	unhealthy, _ := ns.until(t, "STATUS=UNHEALTHY")
	if !strings.Contains(unhealthy, "database did not take a write") {
		t.Errorf("unhealthy status %q does not say why", unhealthy)
	}
	// Ten check intervals: not one ping may come.
	_ = ns.conn.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	for {
		k, err := ns.conn.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(buf[:k]), "WATCHDOG=1") {
			t.Fatalf("watchdog ping while the database was blocked")
		}
	}
	close(release)
	ns.until(t, "WATCHDOG=1")

	if code := d.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if s, _ := ns.until(t, "STOPPING=1"); !strings.Contains(s, "STATUS=stopping") {
		t.Errorf("STOPPING without a status: %q", s)
	}
}

// helperEnv makes the test binary run `gsmgate` with the arguments after
// "--" (TestMain), so that a test can send it real signals.
const helperEnv = "GSMGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				main2(os.Args[i+1:])
			}
		}
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func main2(args []string) { os.Exit(run(args, os.Stdout, os.Stderr)) }

// TestServeStoppingOnSIGTERM: a real process gets a real SIGTERM, as
// systemd sends it: STOPPING=1 is sent and the process exits 0.
func TestServeStoppingOnSIGTERM(t *testing.T) {
	ns := newNotifySocket(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "serve", "--demo", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "NOTIFY_SOCKET="+ns.path, "GSMGATE_CONFIG="+emptyConfig(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ns.until(t, "READY=1")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ns.until(t, "STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, out.String())
	}
}

// TestSelfSignedCertificateMadeOnceAndReused: the first start makes a
// certificate in the data directory and serves HTTPS with it; the second
// start serves the same one (same fingerprint printed, same bytes
// presented), and plain HTTP still answers beside it.
func TestSelfSignedCertificateMadeOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	var prints []string
	for i := range 2 {
		t.Setenv("GSMGATE_TLS_LISTEN", "127.0.0.1:0")
		d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
		logs := d.logs.String()
		line := ""
		for _, l := range strings.Split(logs, "\n") {
			if strings.HasPrefix(l, "HTTPS on https://") {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("start %d: no HTTPS line:\n%s", i+1, logs)
		}
		if made := strings.Contains(line, "(new self-signed"); made != (i == 0) {
			t.Errorf("start %d: %q (a new certificate only the first time)", i+1, line)
		}
		addr := strings.Fields(strings.TrimPrefix(line, "HTTPS on https://"))[0]
		fp := line[strings.Index(line, "fingerprint ")+len("fingerprint ") : len(line)-1]
		prints = append(prints, fp)

		// What the server presents is what was printed.
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		cs := conn.ConnectionState()
		conn.Close()
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if got := strings.ToUpper(strings.ReplaceAll(fmt.Sprintf("% x", sum[:]), " ", ":")); got != fp {
			t.Errorf("start %d: served certificate %s, printed %s", i+1, got, fp)
		}
		if cs.NegotiatedProtocol != "h2" {
			t.Errorf("HTTP/2 not offered over TLS: %q", cs.NegotiatedProtocol)
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		for _, u := range []string{"https://" + addr + "/healthz", d.info.URL + "/healthz"} {
			res, err := client.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("%s: %d", u, res.StatusCode)
			}
		}
		if code := d.stop(); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	}
	if prints[0] != prints[1] {
		t.Errorf("the certificate changed between starts: %s then %s", prints[0], prints[1])
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
}

// TestBackupWhileSending: `gsmgate backup` through the daemon while sends
// are being accepted and sent. The backup opens as a database and holds
// every message whose Send returned before the backup began.
func TestBackupWhileSending(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	d.waitReady(t)
	svc := d.info.svc
	users, err := svc.Users(context.Background())
	if err != nil || len(users) == 0 {
		t.Fatalf("users: %v %v", users, err)
	}
	admin := users[0].ID

	var mu sync.Mutex
	var committed []model.ID // Send returned: committed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := svc.Send(context.Background(), gateway.SendRequest{UserID: admin, To: []string{"+4479111232" + fmt.Sprintf("%02d", 10+w)}, Text: fmt.Sprintf("message %d from worker %d", i, w)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range res.Messages {
					committed = append(committed, m.ID)
				}
				mu.Unlock()
			}
		}()
	}
	// Let a good number be committed, some of them under way on the modem.
	waitUntil(t, "sends", func() bool { mu.Lock(); defer mu.Unlock(); return len(committed) >= 200 })

	mu.Lock()
	before := append([]model.ID(nil), committed...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "backup.db")
	var stdout, stderr bytes.Buffer
	code := run([]string{"backup", "--data-dir", dir, "--to", out}, &stdout, &stderr)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "backup written to "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
	mu.Lock()
	total := len(committed)
	mu.Unlock()

	db, err := store.Open(out, store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	if probs, err := db.Check(5); err != nil || len(probs) > 0 {
		t.Fatalf("the backup is inconsistent: %v %v", probs, err)
	}
	err = db.View(func(tx *store.Tx) error {
		for _, id := range before {
			if _, err := tx.Message(id); err != nil {
				return fmt.Errorf("message %d, committed before the backup began: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup holds all %d messages committed before it began (%d were sent in all)", len(before), total)
}

// TestRestoreRefusals: restore refuses a file that is not a gsmgate
// database, one a newer gsmgate wrote, and a database the daemon holds;
// each without changing anything. Then a good restore keeps the database
// it replaces.
func TestRestoreRefusals(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	dir := t.TempDir()
	// A real database with a user, then a backup of it.
	var o, e bytes.Buffer
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("correct horse battery\n"), 0o600)
	if code := run([]string{"user", "add", "--data-dir", dir, "--role", "admin", "--password-file", pw, "ada"}, &o, &e); code != 0 {
		t.Fatalf("user add: %d %s", code, e.String())
	}
	good := filepath.Join(t.TempDir(), "good.db")
	data, err := os.ReadFile(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, data, 0o600); err != nil {
		t.Fatal(err)
	}

	notDB := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notDB, bytes.Repeat([]byte("not a database\n"), 1000), 0o600)
	empty := filepath.Join(t.TempDir(), "empty.db")
	os.WriteFile(empty, nil, 0o600)
	newer := filepath.Join(t.TempDir(), "newer.db")
	os.WriteFile(newer, data, 0o600)
	forgeNewerFormat(t, newer)

	for _, tc := range []struct{ name, file, want string }{
		{"text file", notDB, "is not a gsmgate backup"},
		{"empty file", empty, "is not a gsmgate backup"},
		{"missing file", filepath.Join(dir, "nope.db"), "no such file"},
		{"newer format", newer, "written by a newer gsmgate"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"restore", "--data-dir", dir, "--from", tc.file}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", tc.name, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: stderr %q lacks %q", tc.name, stderr.String(), tc.want)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, dbFile)); !bytes.Equal(after, data) {
		t.Error("a refused restore changed the database")
	}

	// With the daemon running on the data directory.
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"restore", "--data-dir", dir, "--from", good}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "stop it first") {
		t.Errorf("restore under a running daemon: exit %d, %q", code, stderr.String())
	}
	d.stop()

	// A good restore, the daemon stopped: the replaced database is kept.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"restore", "--data-dir", dir, "--from", good}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore: exit %d %s", code, stderr.String())
	}
	kept, _ := filepath.Glob(filepath.Join(dir, dbFile+".before-restore-*"))
	if len(kept) != 1 || !strings.Contains(stdout.String(), kept[0]) {
		t.Errorf("replaced database not kept or not named: %v, %q", kept, stdout.String())
	}
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names []string
	_ = db.View(func(tx *store.Tx) error {
		us, err := tx.Users()
		for _, u := range us {
			names = append(names, u.Name)
		}
		return err
	})
	if len(names) != 1 || names[0] != "ada" {
		t.Errorf("restored users %v, want [ada]", names)
	}
}

// forgeNewerFormat stamps the database at path with the next format
// version, as a newer gsmgate would have written it. (The one place a test
// here writes bbolt directly: no store function writes a version it does
// not know, rightly.)
func forgeNewerFormat(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		v := make([]byte, 8)
		binary.BigEndian.PutUint64(v, store.FormatVersion+1)
		return tx.Bucket([]byte("meta")).Put([]byte("version"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A database of an older format is upgraded at start, and systemd hears of
// it (STATUS) while being asked for more start-up time, so that a long
// upgrade on a slow SD card is not killed by TimeoutStartSec and rolled back.
func TestServeUpgradesAnOlderDatabase(t *testing.T) {
	ns := newNotifySocket(t)
	t.Setenv("NOTIFY_SOCKET", ns.path)
	dir := t.TempDir()
	gz, err := os.ReadFile("../../gateway/store/testdata/v6-traffic.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	old, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, dbFile), old, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	_, before := ns.until(t, "READY=1")
	var order []string
	for _, b := range before {
		switch {
		case b == "EXTEND_TIMEOUT_USEC=60000000":
			order = append(order, "extend")
		case strings.HasPrefix(b, "STATUS=upgrading the database format 6 → "+strconv.Itoa(int(store.FormatVersion))):
			order = append(order, "upgrading")
		}
	}
	if len(order) < 2 || order[0] != "extend" || !slices.Contains(order, "upgrading") {
		t.Errorf("before READY: %q; want more time asked, then the upgrade said", before)
	}
	if !strings.Contains(d.logs.String(), "upgrading the database to a newer format") {
		t.Errorf("the upgrade is not in the log:\n%s", d.logs)
	}
	if code := d.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}
