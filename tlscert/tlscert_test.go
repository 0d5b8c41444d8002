package tlscert

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelfSignedMadeOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	c1, created, err := SelfSigned(dir, []string{"gateway.local", "192.168.1.20"}, now)
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("gateway.local"); err != nil {
		t.Error(err)
	}
	for _, h := range []string{"192.168.1.20", "127.0.0.1", "localhost"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if !leaf.NotAfter.After(now.AddDate(9, 11, 0)) {
		t.Errorf("expires %v: too soon for an appliance", leaf.NotAfter)
	}
	c2, created, err := SelfSigned(dir, []string{"other-name"}, now.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	if Fingerprint(c1) != Fingerprint(c2) {
		t.Error("the certificate was made again")
	}
	if fp := Fingerprint(c1); len(fp) != 32*3-1 || strings.ToUpper(fp) != fp {
		t.Errorf("fingerprint %q", fp)
	}
	fi, err := os.Stat(filepath.Join(dir, SelfKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %v %v", fi, err)
	}
	// A damaged certificate is reported, not silently replaced (staff
	// trusted the old fingerprint).
	os.WriteFile(filepath.Join(dir, SelfCertFile), []byte("garbage"), 0o644)
	if _, _, err := SelfSigned(dir, nil, now); err == nil || !strings.Contains(err.Error(), "delete") {
		t.Errorf("damaged certificate: %v", err)
	}
}

func TestLoadConfigured(t *testing.T) {
	dir := t.TempDir()
	c, _, err := SelfSigned(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(filepath.Join(dir, SelfCertFile), filepath.Join(dir, SelfKeyFile))
	if err != nil || Fingerprint(got) != Fingerprint(c) {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope.pem"), filepath.Join(dir, SelfKeyFile)); err == nil {
		t.Error("missing certificate loaded")
	}
}
