package ui_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/httpkit"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// TestSecureCookiesSetting: the session cookie is Secure over TLS by
// default, always with "always" (a TLS-terminating proxy forwards plain
// HTTP), never with "never"; X-Forwarded-Proto changes nothing.
func TestSecureCookiesSetting(t *testing.T) {
	for _, tc := range []struct {
		mode       string
		tls, proto bool
		want       bool
	}{
		{"auto", false, false, false},
		{"auto", true, false, true},
		{"auto", false, true, false}, // a header anyone can send is not trusted
		{"always", false, false, true},
		{"always", true, false, true},
		{"never", true, false, false},
		{"never", false, false, false},
	} {
		mode, err := ui.ParseCookieSecurity(tc.mode)
		if err != nil {
			t.Fatal(err)
		}
		e := newFormEnvWith(t, ui.Options{SecureCookies: mode})
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"username": {"fuzzadmin"}, "password": {"fuzz-password-1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if tc.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if tc.proto {
			req.Header.Set("X-Forwarded-Proto", "https")
		}
		rec := httptest.NewRecorder()
		e.engine.ServeHTTP(rec, req)
		var found bool
		for _, c := range rec.Result().Cookies() {
			if c.Name == ui.CookieName {
				found = true
				if c.Secure != tc.want || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("%s (tls %v, X-Forwarded-Proto %v): Secure %v HttpOnly %v SameSite %v; want Secure %v", tc.mode, tc.tls, tc.proto, c.Secure, c.HttpOnly, c.SameSite, tc.want)
				}
			}
		}
		if !found {
			t.Fatalf("%s: no session cookie after login (%d)", tc.mode, rec.Code)
		}
	}
	if _, err := ui.ParseCookieSecurity("sometimes"); err == nil {
		t.Error("ParseCookieSecurity accepted \"sometimes\"")
	}
}

// TestSessionIsAPrincipal: a UI session acts through httpkit's Principal,
// as an API token does: the admin page's change reaches the core's audit
// log as that user's (the shared Actor helper reads the principal; without
// it the core would refuse the change as not an admin's).
func TestSessionIsAPrincipal(t *testing.T) {
	e := newFormEnv(t)
	rec := e.post(15, "", []byte("name=carol&password=carol-password-1&role=staff&visibility=incoming_and_outgoing"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("adding a user: %d %s", rec.Code, rec.Body.String())
	}
	if kind, msg := flash(rec); kind != "n" {
		t.Fatalf("adding a user said %q %q", kind, msg)
	}
	log, err := e.svc.AuditLog(context.Background(), gateway.Actor{UserID: e.user.ID}, gateway.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Items) == 0 || log.Items[0].ActorID != e.user.ID || log.Items[0].Actor != "fuzzadmin" || log.Items[0].Target != "carol" {
		t.Fatalf("audit log %+v; want carol added by fuzzadmin", log.Items)
	}
}

// TestSessionRateLimit: with the API's buckets (ui.Options.Limits), a
// session's posts are limited as a token's requests are, by its
// Principal: past the burst a post gets 429 with Retry-After, while pages
// still load and another session has its own bucket.
func TestSessionRateLimit(t *testing.T) {
	e := newFormEnvWith(t, ui.Options{Limits: httpkit.NewLimiters(0.001, 2)})
	count := 9 // /ui/count
	for i := range 2 {
		if rec := e.post(count, "", []byte("text=hello")); rec.Code != http.StatusOK {
			t.Fatalf("post %d: %d %s", i+1, rec.Code, rec.Body.String())
		}
	}
	rec := e.post(count, "", []byte("text=hello"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "too many requests") {
		t.Fatalf("third post: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
	get := httptest.NewRequest(http.MethodGet, "/settings", nil)
	get.AddCookie(&http.Cookie{Name: ui.CookieName, Value: e.secret})
	page := httptest.NewRecorder()
	e.engine.ServeHTTP(page, get)
	if page.Code != http.StatusOK {
		t.Fatalf("a page after the limit: %d", page.Code)
	}
	e.session(t) // a new session, a new bucket
	if rec := e.post(count, "", []byte("text=hello")); rec.Code != http.StatusOK {
		t.Fatalf("another session's post: %d", rec.Code)
	}
}
