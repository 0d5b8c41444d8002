package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserAndTokenCommands(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	dir := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		code int
		out  string // regexp the output must match
	}{
		{[]string{"user", "add", "--data-dir", dir, "--role", "admin", "root"}, 0, `created admin user "root"[\s\S]*password: \S+`},
		{[]string{"user", "add", "--data-dir", dir, "--password-file", pw, "alice"}, 0, `created staff user "alice"`},
		{[]string{"user", "add", "--data-dir", dir, "--password-file", pw, "alice"}, 1, ``},
		{[]string{"user", "list", "--data-dir", dir}, 0, `(?m)^\S+\s+alice\s+staff\s+incoming_and_outgoing`},
		{[]string{"user", "passwd", "--data-dir", dir, "alice"}, 0, `password of "alice" changed`},
		{[]string{"user", "passwd", "--data-dir", dir, "nobody"}, 1, ``},
		{[]string{"token", "create", "--data-dir", dir, "--user", "alice", "--scopes", "send,read", "--name", "crm"}, 0, `secret: gsm_\S+`},
		{[]string{"token", "create", "--data-dir", dir, "--user", "alice", "--scopes", "fly"}, 1, ``},
		{[]string{"token", "list", "--data-dir", dir}, 0, `(?m)^\S+\s+crm\s+alice\s+send,read`},
	}
	for _, s := range steps {
		code, out, errs := runCmd(t, s.args...)
		if code != s.code {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args, code, s.code, out, errs)
		}
		if s.out != "" && !regexp.MustCompile(s.out).MatchString(out) {
			t.Fatalf("%v: output %q does not match %q", s.args, out, s.out)
		}
	}
	// Revoke the token listed.
	_, out, _ := runCmd(t, "token", "list", "--data-dir", dir)
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, out, errs := runCmd(t, "token", "revoke", "--data-dir", dir, id); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	if _, out, _ := runCmd(t, "token", "list", "--data-dir", dir); strings.Contains(out, "crm") {
		t.Fatalf("token still listed: %s", out)
	}
	// What the CLI did is in the audit log, as the local operator's.
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := gateway.New(db, nil, nil, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.AuditLog(context.Background(), gateway.LocalOperator(), gateway.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range p.Items {
		if e.Actor != gateway.LocalOperatorName {
			t.Errorf("actor %q", e.Actor)
		}
		got = append(got, e.Action+" "+e.Target)
	}
	want := "token.revoked crm|token.created crm|user.password_reset alice|user.created alice|user.created root"
	if strings.Join(got, "|") != want {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

func TestToolsRefuseWhenDaemonHoldsDB(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, args := range [][]string{{"user", "list", "--data-dir", dir}, {"token", "list", "--data-dir", dir}} {
		code, _, errs := runCmd(t, args...)
		if code != 1 || !strings.Contains(errs, "in use by the running gsmgate daemon") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// emptyConfig is a configuration file with nothing set, so the tests do not
// read the machine's /etc/gsmgate.
func emptyConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.toml")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(good, []byte("listen = \"127.0.0.1:9000\"\n[api]\nmax_recipients = 5\n"), 0o600)
	os.WriteFile(bad, []byte("listen = \"nope\"\n[api]\nmax_recipents = 5\n"), 0o600)
	if code, out, errs := runCmd(t, "config", "check", good); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good: %d %s %s", code, out, errs)
	}
	code, _, errs := runCmd(t, "config", "check", bad)
	if code != 1 || !strings.Contains(errs, "bad.toml:3: api.max_recipents: unknown key") {
		t.Fatalf("bad: %d %q", code, errs)
	}
	code, _, errs = runCmd(t, "config", "check", filepath.Join(dir, "missing.toml"))
	if code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("missing: %d %q", code, errs)
	}
	if code, out, _ := runCmd(t, "config", "keys"); code != 0 || !strings.Contains(out, "GSMGATE_API_MAX_RECIPIENTS") {
		t.Fatalf("keys: %d %s", code, out)
	}
}

// A damaged database file stops serve and the admin commands with words
// that name the file and say to restore a backup, not a panic.
func TestCommandsRefuseADamagedDatabase(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	dir := t.TempDir()
	path := filepath.Join(dir, dbFile)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0"},
		{"user", "list", "--data-dir", dir},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != 1 || !strings.Contains(stderr, path) || !strings.Contains(stderr, "restore the last backup") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestListingDoesNotCreateTheDatabase: user list and token list on a data
// directory without a database say so (exit 1) and leave no file behind;
// only user add creates it.
func TestListingDoesNotCreateTheDatabase(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	for _, args := range [][]string{{"user", "list"}, {"token", "list"}} {
		dir := filepath.Join(t.TempDir(), "data")
		code, _, errs := runCmd(t, append(args, "--data-dir", dir)...)
		if code != 1 || !strings.Contains(errs, "no database at") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and no database", args, code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, dbFile)); !os.IsNotExist(err) {
			t.Errorf("%v created %s (%v)", args, filepath.Join(dir, dbFile), err)
		}
	}
}
