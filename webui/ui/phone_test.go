package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// contrastJS computes the WCAG contrast ratio of an element's text with
// what is behind it, as painted: each ancestor's background and opacity
// composited from the page down (opacity blends a whole subtree with what
// lies under it). Colours are sRGB from getComputedStyle.
const contrastJS = `function contrast(el) {
  function rgba(s) { var m = s.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; }
  function over(top, a, below) { return [0, 1, 2].map(function (i) { return top[i] * a + below[i] * (1 - a); }); }
  var chain = [];
  for (var e = el; e; e = e.parentElement) chain.unshift(e);
  function paint(k, below, text) {
    var cs = getComputedStyle(chain[k]);
    var bg = rgba(cs.backgroundColor);
    var inner = over(bg, bg[3], below);
    if (k < chain.length - 1) inner = paint(k + 1, inner, text);
    else if (text) { var fg = rgba(cs.color); inner = over(fg, fg[3], inner); }
    return over(inner, Number(cs.opacity), below);
  }
  function lum(c) {
    var l = c.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  var white = [255, 255, 255];
  var a = lum(paint(0, white, true)), b = lum(paint(0, white, false));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}`

// TestPhoneContrastAndNavigation at a phone's width (390 px): the marks
// and times on thread bubbles (the "bulk" mark, a state, a failed
// bubble's reason) reach WCAG AA contrast, 4.5:1; and the bar never
// scrolls sideways, even an admin's, whose extra links are in a menu that
// opens and leads to the admin pages.
func TestPhoneContrastAndNavigation(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "phonepat", model.VisibilityAll, model.RoleAdmin)
	peer, other := "+447911123701", "+447911123702"
	b := s.send(t, u, "The office is closed on Friday.", peer, other)
	s.waitState(t, u, b[0].ID, model.StateDelivered)
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	f := s.send(t, u, "This one fails.", peer)
	s.waitState(t, u, f[0].ID, model.StateFailed)
	s.inbound(t, peer, "Noted, thanks")
	s.waitThread(t, u, peer, 3)

	tb := s.tab(t, 390, 844)
	tb.login("phonepat", pw)
	tb.open("/conversations/" + peer)
	tb.waitJS("the thread", `document.querySelectorAll('[data-testid=message-bubble]').length === 3`)
	eval[bool](tb, `(window.contrast = `+contrastJS+`, true)`)
	bulk := `[data-testid=message-bubble][data-message-id="` + b[0].ID.String() + `"]`
	failed := `[data-testid=message-bubble][data-message-id="` + f[0].ID.String() + `"]`
	for _, c := range []struct{ what, css string }{
		{"the bulk mark", bulk + ` [data-testid=message-bulk]`},
		{"a sent bubble's time", bulk + ` .meta time`},
		{"a sent bubble's state", bulk + ` .meta .state`},
		{"a failed bubble's state", failed + ` .meta .state`},
		{"a failed bubble's reason", failed + ` .meta .reason`},
		{"an incoming bubble's time", `[data-testid=message-bubble][data-direction=in] .meta time`},
	} {
		ratio := eval[float64](tb, fmt.Sprintf(`contrast(document.querySelector(%q))`, c.css))
		if ratio < 4.5 {
			t.Errorf("%s: contrast %.2f:1, want at least 4.5:1", c.what, ratio)
		}
	}

	for _, path := range []string{"/", "/conversations/" + peer, "/bulk", "/failures", "/settings", "/admin/users", "/admin/modems", "/admin/audit"} {
		tb.open(path)
		if over := eval[int](tb, `(function () { var n = document.querySelector('.bar nav'); return Math.max(n.scrollWidth - n.clientWidth, document.documentElement.scrollWidth - innerWidth); })()`); over > 0 {
			t.Errorf("%s: the bar is %d px wider than the screen", path, over)
		}
	}
	tb.open("/")
	tb.do(chromedp.Click(`[data-testid=nav-menu-open]`))
	tb.waitJS("the menu", `document.querySelector('[data-testid=nav-menu]').open && document.querySelector('[data-testid=nav-menu-admin]').getBoundingClientRect().right <= innerWidth`)
	tb.do(chromedp.Click(`[data-testid=nav-menu-admin]`))
	tb.waitJS("the admin pages", `location.pathname === '/admin/users'`)
	tb.do(chromedp.Click(`[data-testid=nav-menu-open]`))
	tb.do(chromedp.Click(`h1`)) // elsewhere: the menu closes
	tb.waitJS("the menu closed", `!document.querySelector('[data-testid=nav-menu]').open`)
	tb.do(chromedp.Click(`[data-testid=nav-menu-open]`), chromedp.Click(`[data-testid=nav-menu-logout]`))
	tb.waitJS("logged out", `location.pathname === '/login'`)
}
