package config

import (
	"os"
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
