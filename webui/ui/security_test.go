package ui_test

import (
	"context"
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// TestDeepLinkThroughLogin: a CRM's link opens compose pre-filled, through
// the login page and back; the send carries the CRM reference.
func TestDeepLinkThroughLogin(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "dirk", model.VisibilityAll, model.RoleStaff)
	q := url.Values{}
	q.Add("to", "07911 123480")
	q.Add("label", "Main Contact")
	q.Add("to", "+447911123481")
	q.Add("label", "Line Manager")
	q.Set("text", "Your appointment is confirmed")
	q.Set("ref_type", "deal")
	q.Set("ref_id", "4711")
	tb := s.tab(t, 1280, 800)
	tb.open("/compose?" + q.Encode())
	tb.waitJS("the login page", `location.pathname === '/login'`)
	tb.login("dirk", pw)
	tb.waitJS("compose after login", `location.pathname === '/compose' && document.querySelectorAll('[data-testid=compose-recipient]').length === 2`)
	chips := eval[string](tb, `Array.from(document.querySelectorAll('[data-testid=compose-recipient]')).map(c => c.dataset.number + '|' + (c.querySelector('.label') || {}).textContent).join(',')`)
	if chips != "+447911123480|Main Contact,+447911123481|Line Manager" {
		t.Fatalf("chips %q", chips)
	}
	if v := eval[string](tb, sel(`[data-testid=compose-text]`)+`.value`); v != "Your appointment is confirmed" {
		t.Fatalf("text %q", v)
	}
	tb.do(chromedp.Click(`[data-testid=compose-send]`))
	tb.waitJS("the list with the notice", `location.pathname === '/' && !!document.querySelector('.notice')`)
	page, err := s.svc.Messages(context.Background(), u.ID, gateway.MessageQuery{Page: gateway.Page{Limit: 10}})
	msgs := page.Items
	must(t, err)
	if len(msgs) != 2 {
		t.Fatalf("%d messages sent, want 2", len(msgs))
	}
	for _, m := range msgs {
		if m.CRM == nil || m.CRM.Type != "deal" || m.CRM.ID != "4711" || !m.Marketing {
			t.Errorf("message to %s: crm %+v marketing %v", m.Number, m.CRM, m.Marketing)
		}
	}
}

// TestComposeFlagsImpossibleNumbers: an impossible number is flagged on
// its chip as it is entered.
func TestComposeFlagsImpossibleNumbers(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "ivo", model.VisibilityAll, model.RoleStaff)
	tb := s.tab(t, 1280, 800)
	tb.login("ivo", pw)
	tb.open("/compose")
	tb.do(chromedp.SendKeys(`[data-testid=compose-recipient-input]`, "12\r"))
	tb.waitJS("the flagged chip", `!!document.querySelector('[data-testid=compose-recipient].bad')`)
	tb.do(chromedp.SendKeys(`[data-testid=compose-recipient-input]`, "+447700900555\r")) // Ofcom's drama range
	tb.waitJS("the warned chip", `!!document.querySelector('[data-testid=compose-recipient][data-number="+447700900555"].warn')`)
	s.contact(t, gateway.ContactInput{Number: "+447911123490", Name: "Yolanda Example"})
	tb.do(chromedp.SendKeys(`[data-testid=compose-recipient-input]`, "Yolanda\r"))
	tb.waitJS("the contact chip", `!!document.querySelector('[data-testid=compose-recipient][data-number="+447911123490"]')`)
}

// TestSessionCookieWithoutSession: a cookie naming no live session opens
// nothing: pages go to the login page, script calls get 401.
func TestSessionCookieWithoutSession(t *testing.T) {
	s := theStack
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/", http.StatusSeeOther},
		{"GET", "/failures", http.StatusSeeOther},
		{"GET", "/ui/events", http.StatusUnauthorized},
		{"POST", "/ui/count", http.StatusUnauthorized},
		{"POST", "/compose", http.StatusUnauthorized},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, s.url+c.path, strings.NewReader("text=hi&to=%2B447911123499"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: "forged-or-ended-session-secret"})
		resp, err := noRedirect().Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s with a dead cookie: %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want == http.StatusSeeOther && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("%s %s redirects to %q", c.method, c.path, resp.Header.Get("Location"))
		}
	}
}

// login over HTTP: the session cookie and the page's CSRF token.
func httpLogin(t *testing.T, s *stack, name, pw string) (cookie, csrf string) {
	t.Helper()
	resp, err := noRedirect().PostForm(s.url+"/login", url.Values{"username": {name}, "password": {pw}})
	must(t, err)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == ui.CookieName {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("login: %d, no cookie", resp.StatusCode)
	}
	_, sess, err := s.svc.SessionByToken(context.Background(), cookie)
	must(t, err)
	return cookie, sess.CSRF
}

// TestCrossSitePostRefused: a state-changing request that a browser marks
// as cross-origin is refused even with a valid session and token, and a
// form without the session's token is refused too.
func TestCrossSitePostRefused(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "cyrus", model.VisibilityAll, model.RoleStaff)
	cookie, csrf := httpLogin(t, s, "cyrus", pw)
	post := func(hdr map[string]string, form url.Values) int {
		req, _ := http.NewRequest("POST", s.url+"/compose", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: cookie})
		resp, err := noRedirect().Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	form := url.Values{"to": {"+447911123495"}, "text": {"cross-site"}, "csrf": {csrf}}
	if code := post(map[string]string{"Sec-Fetch-Site": "cross-site"}, form); code != http.StatusForbidden {
		t.Errorf("Sec-Fetch-Site cross-site: %d, want 403", code)
	}
	if code := post(map[string]string{"Origin": "https://evil.example"}, form); code != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", code)
	}
	noToken := url.Values{"to": {"+447911123495"}, "text": {"no token"}}
	if code := post(map[string]string{"Sec-Fetch-Site": "same-origin"}, noToken); code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", code)
	}
	if code := post(map[string]string{"Sec-Fetch-Site": "same-origin"}, form); code != http.StatusSeeOther {
		t.Errorf("same-origin with token: %d, want 303", code)
	}

	// A real browser: a page on another origin (another port of the same
	// host, so the Lax cookie is even sent) posts a form to the gateway.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id=f method=post action="%s/compose"><input name=to value="+447911123496"><input name=text value="from evil"><input name=csrf value="%s"></form><script>document.getElementById('f').submit()</script>`, s.url, csrf)
	}))
	defer evil.Close()
	tb := s.tab(t, 1280, 800)
	tb.login("cyrus", pw)
	tb.do(chromedp.Navigate(evil.URL))
	tb.waitJS("the refusal", `location.href.startsWith('`+s.url+`/compose') && document.body.textContent.includes('cross-origin request refused')`)
	time.Sleep(100 * time.Millisecond)
	page, err := s.svc.Messages(context.Background(), u.ID, gateway.MessageQuery{Page: gateway.Page{Limit: 10}})
	msgs := page.Items
	must(t, err)
	for _, m := range msgs {
		if m.Number == "+447911123496" {
			t.Fatal("the cross-site form sent a message")
		}
	}
}

// TestPasswordChangeEndsOtherSessions: changing the password in Settings
// ends the user's other sessions but not this one.
func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "petra", model.VisibilityAll, model.RoleStaff)
	other, _ := httpLogin(t, s, "petra", pw)
	tb := s.tab(t, 1280, 800)
	tb.login("petra", pw)
	tb.open("/settings")
	tb.do(chromedp.SetValue(`input[name=current]`, pw), chromedp.SetValue(`input[name=new]`, "a-new-password-1"),
		chromedp.SetValue(`input[name=again]`, "a-new-password-1"), chromedp.Click(`form[action="/settings/password"] button`))
	tb.waitJS("the notice", `!!document.querySelector('.notice')`)
	if code := getWithCookie(t, s.url+"/", other); code != http.StatusSeeOther {
		t.Fatalf("the other session still opens / (%d)", code)
	}
	tb.open("/")
	tb.waitJS("still logged in here", `location.pathname === '/' && !!document.querySelector('[data-testid=logout]')`)
}
