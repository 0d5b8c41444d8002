package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/control"
)

type cmdResult struct {
	code     int
	out, err string
}

// runCmdLimited runs the gsmgate command and fails the test if it does
// not return within 30 s: no command may hang.
func runCmdLimited(t *testing.T, args ...string) cmdResult {
	t.Helper()
	done := make(chan cmdResult, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		done <- cmdResult{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("gsmgate %v hung", args)
	}
	return cmdResult{}
}

// TestUserAndTokenWhileServing: with gsmgate serve holding the database,
// gsmgate user add and gsmgate token create go through its control socket
// and succeed; the token works on the daemon's API at once, and the audit
// log names the local operator.
func TestUserAndTokenWhileServing(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(dir, control.SocketName)); err != nil {
		t.Fatalf("no control socket: %v\n%s", err, d.logs)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	must(t, os.WriteFile(pw, []byte("correct horse battery\n"), 0o600))
	steps := []struct {
		args []string
		out  string
	}{
		{[]string{"user", "add", "--data-dir", dir, "--password-file", pw, "carol"}, `created staff user "carol"`},
		{[]string{"token", "create", "--data-dir", dir, "--user", "carol", "--name", "crm"}, `secret: gsm_\S+`},
		{[]string{"user", "passwd", "--data-dir", dir, "--password-file", pw, "carol"}, `password of "carol" changed`},
		{[]string{"user", "list", "--data-dir", dir}, `(?m)^\S+\s+carol\s+staff`},
		{[]string{"token", "list", "--data-dir", dir, "--user", "carol"}, `(?m)^\S+\s+crm\s+carol\s+send,read`},
	}
	var secret string
	for _, s := range steps {
		r := runCmdLimited(t, s.args...)
		if r.code != 0 || !regexp.MustCompile(s.out).MatchString(r.out) {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", s.args, r.code, r.out, r.err)
		}
		if m := regexp.MustCompile(`secret: (gsm_\S+)`).FindStringSubmatch(r.out); m != nil {
			secret = m[1]
		}
	}
	// Refusals come back in words from the daemon.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "add", "--data-dir", dir, "--password-file", pw, "CAROL"}, "that name is taken"},
		{[]string{"token", "create", "--data-dir", dir, "--user", "nobody-here"}, `no user named "nobody-here"`},
		{[]string{"token", "create", "--data-dir", dir, "--user", "carol", "--scopes", "admin"}, "only an admin's token may have the admin scope"},
	} {
		r := runCmdLimited(t, tc.args...)
		if r.code != 1 || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.err, tc.want)
		}
	}
	var l struct {
		Items []any `json:"items"`
	}
	d.info.Token = secret
	d.get(t, "/api/v1/conversations", &l)
	// Revoked through the daemon: refused at the next request.
	r := runCmdLimited(t, "token", "list", "--data-dir", dir, "--user", "carol")
	id := strings.Fields(strings.Split(r.out, "\n")[1])[0]
	if r := runCmdLimited(t, "token", "revoke", "--data-dir", dir, id); r.code != 0 {
		t.Fatalf("revoke: %s", r.err)
	}
	if st := d.status(t, "/api/v1/conversations"); st != 401 {
		t.Fatalf("revoked token: %d", st)
	}
}

// TestUserAndTokenRefusedWithoutSocketPermission: a caller the socket's
// permissions do not allow is refused at once with ways that work, and
// does not fall back to the database (which the daemon holds).
func TestUserAndTokenRefusedWithoutSocketPermission(t *testing.T) {
	dir := t.TempDir()
	startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	args := [][]string{
		{"token", "create", "--data-dir", dir, "--user", "admin"},
		{"user", "add", "--data-dir", dir, "someone"},
	}
	var results []cmdResult
	if os.Geteuid() == 0 {
		// Root passes any file permission: run the command as nobody.
		results = runAsNobody(t, dir, args)
	} else {
		// The owner of a socket without permission bits is refused too.
		must(t, os.Chmod(filepath.Join(dir, control.SocketName), 0))
		for _, a := range args {
			results = append(results, runCmdLimited(t, a...))
		}
	}
	for i, r := range results {
		if r.code != 1 {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args[i], r.code, r.out, r.err)
		}
		for _, want := range []string{"you may not use its control socket", "sudo", "usermod -aG gsmgate", "/api/v1/"} {
			if !strings.Contains(r.err, want) {
				t.Errorf("%v: stderr %q lacks %q", args[i], r.err, want)
			}
		}
	}
}

// runAsNobody runs the gsmgate commands (this test binary in its helper
// mode, see TestMain, copied where nobody may run it) as user nobody.
func runAsNobody(t *testing.T, dataDir string, args [][]string) []cmdResult {
	t.Helper()
	bin, err := os.Executable()
	must(t, err)
	pub, err := os.MkdirTemp("", "gsmgate-cli-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(pub) })
	must(t, os.Chmod(pub, 0o755))
	copyFile(t, bin, filepath.Join(pub, "gsmgate.test"), 0o755)
	conf := filepath.Join(pub, "empty.toml")
	must(t, os.WriteFile(conf, nil, 0o644))
	// nobody may reach the socket's directory, so what refuses is the
	// socket's own permissions (0660, root's).
	for d := dataDir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			must(t, os.Chmod(d, fi.Mode().Perm()|0o711))
		}
	}
	var out []cmdResult
	for _, a := range args {
		cmd := exec.Command(filepath.Join(pub, "gsmgate.test"), append([]string{"--"}, a...)...)
		cmd.Env = []string{helperEnv + "=1", "GSMGATE_CONFIG=" + conf, "HOME=" + pub, "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		must(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("gsmgate %v as nobody hung", a)
		}
		out = append(out, cmdResult{cmd.ProcessState.ExitCode(), so.String(), se.String()})
	}
	return out
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	must(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	must(t, err)
	_, err = io.Copy(dst, src)
	must(t, err)
	must(t, dst.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// status is the HTTP status of an authenticated GET.
func (d *daemon) status(t *testing.T, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", d.info.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.info.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestServeFirstRunPrintsSetup: serve on an empty database (no demo, no
// admin password) says where the setup page is and prints the one-time
// setup code, which the setup page accepts from another machine.
func TestServeFirstRunPrintsSetup(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--data-dir", dir, "--listen", "127.0.0.1:0")
	var code string
	waitUntil(t, "the setup line", func() bool {
		m := regexp.MustCompile(`first run: open (\S+)/setup on this machine .* setup code ([2-9A-Z]{12})`).FindStringSubmatch(d.logs.String())
		if m != nil {
			code = m[2]
		}
		return m != nil
	})
	if !strings.Contains(d.logs.String(), "setup_code="+code) {
		t.Fatalf("the code is not in the log:\n%s", d.logs)
	}
	res, err := http.Get(d.info.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/setup" {
		t.Fatalf("/ led to %s, want the setup page", res.Request.URL.Path)
	}
}
