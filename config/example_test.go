package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestExampleConfigListsEveryKey keeps systemd/gsmgate.toml, the example the
// package installs, true: every key appears (set, or commented out with its
// default), nothing else does, and the file is valid as it stands.
func TestExampleConfigListsEveryKey(t *testing.T) {
	const path = "../systemd/gsmgate.toml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(path); err != nil {
		t.Fatalf("the example does not pass config check: %v", err)
	}
	// A commented-out key reads "# key = value"; uncomment each and the
	// key lines are found the way a real file's are.
	uncommented := regexp.MustCompile(`(?m)^# ([a-z_]+ = )`).ReplaceAll(data, []byte("$1"))
	lines := keyLines(uncommented)
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k[0]] = true
		if table, _, ok := strings.Cut(k[0], "."); ok {
			known[table] = true
		}
		if lines[k[0]] == 0 {
			t.Errorf("%s lacks the key %s: add it, with a comment saying what it does", path, k[0])
		}
	}
	for k := range lines {
		if !known[k] {
			t.Errorf("%s has %q, which is not a configuration key", path, k)
		}
	}
}

// TestExampleConfigCommentsShowDefaults: a commented-out key in the example
// shows the default value (the file's header says so). The modems lines
// are examples, not defaults, and are skipped.
func TestExampleConfigCommentsShowDefaults(t *testing.T) {
	data, err := os.ReadFile("../systemd/gsmgate.toml")
	if err != nil {
		t.Fatal(err)
	}
	var commented []string
	var lines []string
	table := ""
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "[") {
			table = strings.Trim(l, "[]") + "."
		}
		if m := regexp.MustCompile(`^# ([a-z_]+) = `).FindStringSubmatch(l); m != nil && m[1] != "modems" {
			commented = append(commented, table+m[1])
			l = strings.TrimPrefix(l, "# ")
		}
		lines = append(lines, l)
	}
	path := filepath.Join(t.TempDir(), "uncommented.toml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Check(path)
	if err != nil {
		t.Fatalf("the example with its comments removed: %v", err)
	}
	def := Default()
	want := map[string]any{}
	for _, f := range fields(&def) {
		want[f.key] = f.v.Interface()
	}
	have := map[string]any{}
	for _, f := range fields(&got) {
		have[f.key] = f.v.Interface()
	}
	for _, k := range commented {
		if k := strings.TrimPrefix(k, "."); !reflect.DeepEqual(have[k], want[k]) {
			t.Errorf("%s: the example shows %v, the default is %v", k, have[k], want[k])
		}
	}
	if len(commented) < 20 {
		t.Errorf("only %d commented keys found: %v", len(commented), commented)
	}
}
