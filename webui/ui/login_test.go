package ui_test

import (
	"context"
	"github.com/gsmgate/gsmgate/gateway/model"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// TestLoginLogout: an anonymous visit goes to the login page; a wrong
// password is refused; the right one opens the SMS view; logout ends the
// session in the database, so the old cookie no longer opens anything.
func TestLoginLogout(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "lotte", model.VisibilityAll, model.RoleStaff)
	tb := s.tab(t, 1280, 800)
	tb.open("/")
	tb.waitJS("the login page", `location.pathname === '/login' && !!`+sel(`[data-testid=login-username]`))

	tb.do(chromedp.SetValue(`[data-testid=login-username]`, "lotte"),
		chromedp.SetValue(`[data-testid=login-password]`, "wrong password"),
		chromedp.Click(`[data-testid=login-submit]`))
	tb.waitJS("the refusal", `!!document.querySelector('.error') && document.querySelector('.error').textContent.includes('Wrong')`)

	tb.login("lotte", pw)
	if p := eval[string](tb, `location.pathname`); p != "/" {
		t.Fatalf("after login at %s, want /", p)
	}
	cookie := sessionCookie(t, tb)
	if code := getWithCookie(t, s.url+"/", cookie); code != http.StatusOK {
		t.Fatalf("the session cookie opens / with %d, want 200", code)
	}

	tb.do(chromedp.Click(`[data-testid=logout]`))
	tb.waitJS("the login page after logout", `location.pathname === '/login'`)
	if code := getWithCookie(t, s.url+"/", cookie); code != http.StatusSeeOther {
		t.Fatalf("the ended session's cookie answers %d, want 303 to the login page", code)
	}
}

// sessionCookie reads the session cookie from the browser (it is HttpOnly:
// the page's script cannot).
func sessionCookie(t *testing.T, tb *tab) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.s.url}})
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == ui.CookieName {
			if !c.HTTPOnly || string(c.SameSite) != "Lax" {
				t.Fatalf("session cookie HttpOnly=%v SameSite=%s, want true and Lax", c.HTTPOnly, c.SameSite)
			}
			return c.Value
		}
	}
	if js := eval[string](tb, `document.cookie`); strings.Contains(js, ui.CookieName) {
		t.Fatal("the session cookie is readable from script")
	}
	t.Fatal("no session cookie")
	return ""
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func getWithCookie(t *testing.T, u, cookie string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: cookie})
	resp, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var _ = url.QueryEscape
