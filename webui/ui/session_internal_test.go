package ui

import (
	"testing"
	"time"
)

// TestLoginLimitsPerUserAndAddress: one name tried from many addresses
// and many names from one address are both cut off after the burst.
func TestLoginLimitsPerUserAndAddress(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimits(3)
	for i := range 3 {
		if err := l.allow("alice", "10.0.0."+string(rune('1'+i)), now); err != nil {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if err := l.allow("ALICE", "10.0.0.9", now); err == nil {
		t.Fatal("a fourth attempt for one user (from a new address) was allowed")
	}
	l = newLoginLimits(3)
	for i, name := range []string{"a", "b", "c"} {
		if err := l.allow(name, "10.0.0.1", now); err != nil {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if err := l.allow("d", "10.0.0.1", now); err == nil {
		t.Fatal("a fourth attempt from one address (for a new name) was allowed")
	}
	if err := l.allow("d", "10.0.0.1", now.Add(time.Minute)); err != nil {
		t.Fatal("still refused a minute later")
	}
}

func TestSafeNext(t *testing.T) {
	cases := map[string]string{
		"":                             "/",
		"/compose?to=%2B44":            "/compose?to=%2B44",
		"//evil.example/":              "/",
		"/\\evil.example":              "/",
		"https://evil.example/":        "/",
		"/login?next=/":                "/",
		"/conversations/+447911123456": "/conversations/+447911123456",
	}
	for in, want := range cases {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
