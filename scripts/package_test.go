// Package scripts holds the test of scripts/package.sh: it builds the three
// .deb packages and installs, checks, removes and purges the amd64 one on
// this machine, as a Raspberry Pi owner would.
package scripts

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func installed(pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", pkg).Output()
	return err == nil && strings.TrimSpace(string(out)) != "not-installed" && len(out) > 0
}

// TestDebPackage builds dist/gsmgate_<version>_{amd64,arm64,armhf}.deb,
// runs lintian on each, then installs the amd64 one with dpkg -i and checks
// the files, the user, `gsmgate version`, the unit (systemd-analyze verify),
// then removes it (the data stays) and purges it (the data goes). It
// changes the machine, so it runs as root only (CI runs as root).
func TestDebPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installs a package: runs as root only (CI runs scripts/test.sh as root)")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("installs the amd64 package; this machine is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	for _, tool := range []string{"dpkg", "lintian", "systemd-analyze", "adduser"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: scripts/test.sh installs it", tool)
		}
	}
	if installed("gsmgate") {
		t.Fatal("a gsmgate package is installed on this machine already; this test would replace and purge it: remove it first (dpkg -P gsmgate)")
	}

	dist := t.TempDir()
	start := time.Now()
	cmd := exec.Command("./package.sh")
	cmd.Env = append(os.Environ(), "DIST="+dist)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, out)
	}
	t.Logf("package.sh built three packages in %s", time.Since(start).Round(time.Second))

	debs := map[string]string{}
	for _, arch := range []string{"amd64", "arm64", "armhf"} {
		m, _ := filepath.Glob(filepath.Join(dist, "gsmgate_*_"+arch+".deb"))
		if len(m) != 1 {
			t.Fatalf("want one %s package in %s, found %v", arch, dist, m)
		}
		debs[arch] = m[0]
		info := sh(t, "dpkg-deb", "--field", m[0], "Architecture", "Version")
		if !strings.Contains(info, "Architecture: "+arch) {
			t.Errorf("%s: %s", m[0], info)
		}
		t.Logf("%s: %d bytes", filepath.Base(m[0]), fileSize(t, m[0]))
	}
	// lintian, once for the three (its start-up is slow): warnings are
	// fine, errors are not.
	lint := exec.Command("lintian", "--fail-on", "error", debs["amd64"], debs["arm64"], debs["armhf"])
	if out, err := lint.CombinedOutput(); err != nil || bytes.Contains(out, []byte("\nE: ")) || bytes.HasPrefix(out, []byte("E: ")) {
		t.Errorf("lintian: %v\n%s", err, out)
	} else {
		t.Logf("lintian:\n%s", out)
	}
	armBin := filepath.Join(dist, "build", "armhf", "gsmgate")
	if out := sh(t, "file", armBin); !strings.Contains(out, "ARM") || !strings.Contains(out, "32-bit") {
		t.Errorf("armhf binary: %s", out)
	}

	t.Cleanup(func() {
		if installed("gsmgate") {
			_ = exec.Command("dpkg", "-P", "gsmgate").Run()
		}
	})
	sh(t, "dpkg", "-i", debs["amd64"])

	// The files, with their modes.
	for path, mode := range map[string]fs.FileMode{
		"/usr/bin/gsmgate":                    0o755,
		"/lib/systemd/system/gsmgate.service": 0o644,
		"/lib/udev/rules.d/70-gsmgate.rules":  0o644,
		"/etc/gsmgate/gsmgate.toml":           0o640,
		"/var/lib/gsmgate":                    fs.ModeDir | 0o750,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if fi.Mode()&(fs.ModeDir|fs.ModePerm) != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
	// The user, its groups, and what it owns.
	u, err := user.Lookup("gsmgate")
	if err != nil {
		t.Fatalf("no gsmgate user: %v", err)
	}
	gids, _ := u.GroupIds()
	dialout, err := user.LookupGroup("dialout")
	if err == nil && !slices.Contains(gids, dialout.Gid) {
		t.Errorf("gsmgate is not in group dialout: %v", gids)
	}
	if out := sh(t, "getent", "passwd", "gsmgate"); !strings.Contains(out, "/var/lib/gsmgate") || !strings.Contains(out, "nologin") {
		t.Errorf("gsmgate user: %s", out)
	}
	grp, _ := user.LookupGroup("gsmgate")
	for path, who := range map[string][2]string{
		"/var/lib/gsmgate":          {u.Uid, grp.Gid},
		"/etc/gsmgate/gsmgate.toml": {"0", grp.Gid},
	} {
		if st, err := os.Stat(path); err == nil {
			s := st.Sys().(*syscall.Stat_t)
			if got := [2]string{itoa(s.Uid), itoa(s.Gid)}; got != who {
				t.Errorf("%s: owner:group %v, want %v", path, got, who)
			}
		}
	}
	ver := strings.TrimSpace(sh(t, "/usr/bin/gsmgate", "version"))
	pkgVer := strings.TrimSpace(sh(t, "dpkg-query", "-W", "-f=${Version}", "gsmgate"))
	if !strings.HasPrefix(ver, "gsmgate ") || !strings.HasPrefix(pkgVer, strings.TrimPrefix(ver, "gsmgate ")+"-") {
		t.Errorf("gsmgate version = %q; package version %q", ver, pkgVer)
	}
	sh(t, "/usr/bin/gsmgate", "config", "check", "/etc/gsmgate/gsmgate.toml")
	sh(t, "systemd-analyze", "verify", "/lib/systemd/system/gsmgate.service")
	if _, err := os.Lstat("/etc/systemd/system/multi-user.target.wants/gsmgate.service"); err != nil {
		t.Errorf("the service is not enabled: %v", err)
	}

	// Remove: the program goes, the data and the configuration stay.
	marker := "/var/lib/gsmgate/gsmgate.db"
	if err := os.WriteFile(marker, []byte("the staff's messages"), 0o600); err != nil {
		t.Fatal(err)
	}
	sh(t, "dpkg", "-r", "gsmgate")
	if _, err := os.Stat("/usr/bin/gsmgate"); err == nil {
		t.Error("/usr/bin/gsmgate is still there after dpkg -r")
	}
	for _, kept := range []string{marker, "/etc/gsmgate/gsmgate.toml"} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("dpkg -r deleted %s: %v", kept, err)
		}
	}
	// Purge: the data and the configuration go too.
	sh(t, "dpkg", "-P", "gsmgate")
	for _, gone := range []string{"/var/lib/gsmgate", "/etc/gsmgate", "/lib/systemd/system/gsmgate.service"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s is still there after dpkg -P", gone)
		}
	}
	if installed("gsmgate") {
		t.Error("dpkg still lists gsmgate after purge")
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
