package scripts

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestUnitSecurityRating: systemd-analyze rates the unit's exposure OK or
// better (the README quotes the figure).
func TestUnitSecurityRating(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		if os.Geteuid() == 0 {
			t.Fatal("systemd-analyze is missing: scripts/test.sh installs systemd")
		}
		t.Skip("systemd-analyze is missing (scripts/test.sh installs it as root)")
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", "../systemd/gsmgate.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for gsmgate\.service: ([0-9.]+) (\w+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall rating in:\n%s", out)
	}
	switch string(m[2]) {
	case "OK", "SAFE", "PERFECT":
		t.Logf("exposure %s %s", m[1], m[2])
	default:
		t.Errorf("exposure %s %s: want OK or better", m[1], m[2])
	}
	readme, _ := os.ReadFile("../README.md")
	if !strings.Contains(string(readme), "rates it **"+string(m[1])+" "+string(m[2])+"**") {
		t.Errorf("the README does not quote the rating %s %s", m[1], m[2])
	}
}

// TestUdevRuleVendors: the rule covers the common USB modem makers, both
// for ModemManager's device-level check and for the tty ports, and gives
// the ports group dialout (the group the unit and the package put gsmgate
// in).
func TestUdevRuleVendors(t *testing.T) {
	b, err := os.ReadFile("../systemd/70-gsmgate.rules")
	if err != nil {
		t.Fatal(err)
	}
	rule := string(b)
	lists := regexp.MustCompile(`ATTRS?\{idVendor\}=="([0-9a-f|]+)"`).FindAllStringSubmatch(rule, -1)
	if len(lists) != 2 {
		t.Fatalf("want a vendor list for the USB device and one for its ttys, found %d", len(lists))
	}
	for _, vid := range []string{"12d1", "19d2", "1199", "2c7c", "1e0e", "1bc7", "1546", "0af0", "1410", "1bbb"} {
		for i, l := range lists {
			if !strings.Contains("|"+l[1]+"|", "|"+vid+"|") {
				t.Errorf("vendor %s missing from list %d", vid, i+1)
			}
		}
	}
	for _, want := range []string{`ENV{ID_MM_DEVICE_IGNORE}="1"`, `GROUP="dialout"`, `SYMLINK+="gsmgate/`} {
		if !strings.Contains(rule, want) {
			t.Errorf("rule lacks %s", want)
		}
	}
	unit, _ := os.ReadFile("../systemd/gsmgate.service")
	if !strings.Contains(string(unit), "SupplementaryGroups=dialout") {
		t.Error("the unit does not put gsmgate in group dialout")
	}
}
