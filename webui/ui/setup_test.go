package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// freshUI is the UI over an empty database (no user yet), served on
// loopback, with its engine for handler-level requests.
func freshUI(t *testing.T) (*gateway.Service, *gin.Engine, string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "gsmgate.db"), store.Options{Timeout: time.Second})
	must(t, err)
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{DefaultCountry: "GB", PasswordCost: 4})
	must(t, err)
	h, err := ui.New(svc, ui.Options{Logger: log, Admin: svc})
	must(t, err)
	t.Cleanup(h.Close)
	e := gin.New()
	h.Register(e)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return svc, e, ts.URL
}

// TestFirstRunSetupFromLoopback: on an empty database the browser on this
// machine is led to the setup page, needs no code, creates the first
// admin and logs in with it.
func TestFirstRunSetupFromLoopback(t *testing.T) {
	svc, _, base := freshUI(t)
	tb := theStack.tab(t, 1280, 800)
	tb.do(chromedp.Navigate(base + "/"))
	tb.waitJS("the setup page", `location.pathname === '/setup' && !!document.querySelector('[data-testid=setup-form]')`)
	if eval[bool](tb, `!!document.querySelector('[data-testid=setup-code]')`) {
		t.Fatal("loopback was asked for the setup code")
	}
	tb.do(
		chromedp.SetValue(`[data-testid=setup-name]`, "founder"),
		chromedp.SetValue(`[data-testid=setup-password]`, "first admin pw"),
		chromedp.SetValue(`[data-testid=setup-again]`, "first admin pw"),
		chromedp.Click(`[data-testid=setup-submit]`),
	)
	tb.waitJS("the login page", `location.pathname === '/login'`)
	tb.login("founder", "first admin pw")
	tb.do(chromedp.Navigate(base + "/setup"))
	tb.waitJS("setup closed", `location.pathname !== '/setup'`)
	us, err := svc.Users(context.Background())
	if err != nil || len(us) != 1 || us[0].Role != "admin" {
		t.Fatalf("users %+v %v", us, err)
	}
}

// TestSetupRefusedFromElsewhere: a request whose connection is not from
// loopback gets the setup form with a code field, and its post is refused
// without the right code, whatever X-Forwarded-For says; with the code
// from the log it works.
func TestSetupRefusedFromElsewhere(t *testing.T) {
	svc, e, _ := freshUI(t)
	code, err := svc.SetupCode(context.Background())
	must(t, err)
	do := func(method, path string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		req.RemoteAddr = "192.0.2.10:50000"
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if r := do("GET", "/setup", nil); r.Code != 200 || !strings.Contains(r.Body.String(), `data-testid="setup-code"`) {
		t.Fatalf("setup page from the LAN: %d, code field missing", r.Code)
	}
	form := url.Values{"name": {"mallory"}, "password": {"takeover!!"}, "again": {"takeover!!"}}
	for _, tc := range []struct {
		name string
		code string
		hdr  []string
	}{
		{"no code", "", nil},
		{"wrong code", "ABCDEFGHJKLM", nil},
		{"forwarded for loopback", "", []string{"X-Forwarded-For", "127.0.0.1", "X-Real-IP", "127.0.0.1"}},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("code", tc.code)
		if r := do("POST", "/setup", f, tc.hdr...); r.Code != http.StatusForbidden {
			t.Errorf("%s: %d %s", tc.name, r.Code, r.Body)
		}
	}
	if need, _ := svc.NeedsSetup(context.Background()); !need {
		t.Fatal("a refused setup made a user")
	}
	form.Set("code", strings.ToLower(code))
	if r := do("POST", "/setup", form); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/login" {
		t.Fatalf("with the code: %d %s", r.Code, r.Body)
	}
	if r := do("POST", "/setup", form); r.Code == http.StatusSeeOther {
		t.Fatal("setup ran twice")
	}
}
