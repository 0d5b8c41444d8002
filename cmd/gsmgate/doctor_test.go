package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// TestDoctorFindsProblems: a database held by a process that is not an
// answering daemon, and a port where nothing answers: doctor says both in
// words and exits 1.
func TestDoctorFindsProblems(t *testing.T) {
	t.Setenv("GSMGATE_CONFIG", emptyConfig(t))
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	port := tty.Name()
	tty.Close()

	var out, errb bytes.Buffer
	code := run([]string{"doctor", "--data-dir", dir, "--port", port, "--timeout", "300ms", "--user", "root"}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		"[PROBLEM] database: " + filepath.Join(dir, dbFile) + " is locked by another process",
		"[PROBLEM] modem " + port + ": does not answer AT commands",
		"[ok     ] daemon: not running",
		"problem(s)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDoctorThroughTheDaemon: with the daemon running, the database is
// checked by the daemon and the modem is reported as the daemon sees it.
func TestDoctorThroughTheDaemon(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0")
	d.waitReady(t)
	var out, errb bytes.Buffer
	code := run([]string{"doctor", "--data-dir", dir, "--user", "root"}, &out, &errb)
	for _, want := range []string{
		"is consistent (checked by the running daemon)",
		"the daemon runs it: ready",
		"network: registered (home) on gsmgate demo",
		"service centre: +",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code != 0 {
		t.Errorf("exit %d with nothing wrong:\n%s", code, out.String())
	}
}
