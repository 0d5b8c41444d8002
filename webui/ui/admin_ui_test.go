package ui_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// TestAdminCreatesUserWhoLogsIn: an admin adds a user on the users page;
// that user logs in at once and may not open the admin pages.
func TestAdminCreatesUserWhoLogsIn(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "admadela", model.VisibilityAll, model.RoleAdmin)
	admin := s.tab(t, 1280, 800)
	admin.login("admadela", pw)
	admin.open("/admin/users")
	admin.do(
		chromedp.SetValue(`[data-testid=user-add-name]`, "admbruno"),
		chromedp.SetValue(`[data-testid=user-add-password]`, "admbruno's password"),
		chromedp.Click(`[data-testid=user-add-submit]`),
	)
	admin.waitJS("the new row", `!!document.querySelector('[data-testid=user-row][data-user=admbruno]')`)
	if n := eval[string](admin, `document.querySelector('[data-testid=admin-notice]').textContent`); !strings.Contains(n, "Added admbruno") {
		t.Fatalf("notice %q", n)
	}
	staff := s.tab(t, 1280, 800)
	staff.login("admbruno", "admbruno's password")
	staff.open("/admin/users")
	if body := eval[string](staff, `document.body.textContent`); !strings.Contains(body, "for admins") {
		t.Fatalf("a staff member opened the users page: %q", body)
	}
}

// TestOutgoingOnlyChangesWhatTheUserSeesAtOnce: the admin switches a user
// to "only what they sent"; the user's next page no longer shows the
// reply from the number they wrote to.
func TestOutgoingOnlyChangesWhatTheUserSeesAtOnce(t *testing.T) {
	s := theStack
	_, apw := s.user(t, "admolga", model.VisibilityAll, model.RoleAdmin)
	admvic, vpw := s.user(t, "admvic", model.VisibilityAll, model.RoleStaff)
	num := "+447911123311"
	m := s.send(t, admvic, "Your parcel is ready.", num)
	s.waitState(t, admvic, m[0].ID, "delivered")
	s.inbound(t, num, "Thanks, I'll pick it up.")
	s.waitThread(t, admvic, num, 2)
	staff := s.tab(t, 1280, 800)
	staff.login("admvic", vpw)
	staff.open("/conversations/" + num)
	staff.waitJS("both messages", `document.querySelectorAll('[data-testid=message-bubble]').length === 2`)

	admin := s.tab(t, 1280, 800)
	admin.login("admolga", apw)
	admin.open("/admin/users")
	row := `[data-testid=user-row][data-user=admvic]`
	admin.do(
		chromedp.SetValue(row+` [data-testid=user-visibility]`, "outgoing_only"),
		chromedp.Click(row+` [data-testid=user-save]`),
	)
	admin.waitJS("the saved notice", `(document.querySelector('[data-testid=admin-notice]')||{}).textContent === 'Saved admvic.'`)
	if v := eval[string](admin, `document.querySelector('`+row+` [data-testid=user-visibility]').value`); v != "outgoing_only" {
		t.Fatalf("row shows %q after saving", v)
	}
	staff.open("/conversations/" + num)
	staff.waitJS("the page", `document.readyState === 'complete'`)
	texts := eval[[]string](staff, `[...document.querySelectorAll('[data-testid=message-bubble] .text')].map(e => e.textContent)`)
	if len(texts) != 1 || texts[0] != "Your parcel is ready." {
		t.Fatalf("admvic sees %q, want only what they sent", texts)
	}
}

// TestModemsPageShowsSignalAndCharts: the dashboard shows the virtual
// modem's signal in dBm and bars, and its two charts drawn on the server.
func TestModemsPageShowsSignalAndCharts(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "admmona", model.VisibilityAll, model.RoleAdmin)
	m := s.send(t, u, "chart me", "+447911123312")
	s.waitState(t, u, m[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("admmona", pw)
	tb.open("/admin/modems")
	tb.waitJS("a modem card", `!!document.querySelector('[data-testid=modem-card]')`)
	sig := eval[string](tb, `document.querySelector('[data-testid=modem-signal]').textContent`)
	if !strings.Contains(sig, "dBm") {
		t.Fatalf("signal %q", sig)
	}
	tb.waitJS("a signal line", `!!document.querySelector('[data-testid=signal-chart] svg polyline, [data-testid=signal-chart] svg circle')`)
	tb.waitJS("a sent bar", `!!document.querySelector('[data-testid=days-chart] svg .series-0 rect')`)
	// Live: the signal drops; the open page shows it without a reload.
	loads := eval[string](tb, `document.getElementById('modems-panel').dataset.loads || '0'`)
	s.sm.SetSignal(10) // -93 dBm
	t.Cleanup(func() { s.sm.SetSignal(20) })
	tb.waitJS("the new signal", `document.querySelector('[data-testid=modem-signal]').textContent.includes('-93 dBm')`)
	if eval[string](tb, `document.getElementById('modems-panel').dataset.loads`) == loads {
		t.Fatal("the signal changed without the panel reloading")
	}
	if eval[bool](tb, `performance.getEntriesByType('navigation').length !== 1`) {
		t.Fatal("the page navigated")
	}
}

// TestTokenSecretShownOnce: a token made on the page shows its secret in
// that answer only, and works on the API at once.
func TestTokenSecretShownOnce(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "admtess", model.VisibilityAll, model.RoleAdmin)
	tb := s.tab(t, 1280, 800)
	tb.login("admtess", pw)
	tb.open("/admin/tokens")
	tb.do(chromedp.SetValue(`[data-testid=token-name]`, "crm-"+t.Name()), chromedp.Click(`[data-testid=token-create]`))
	tb.waitJS("the secret", `!!document.querySelector('[data-testid=token-secret]')`)
	secret := eval[string](tb, `document.querySelector('[data-testid=token-secret]').value`)
	if !strings.HasPrefix(secret, "gsm_") {
		t.Fatalf("secret %q", secret)
	}
	req, _ := http.NewRequest("GET", s.url+"/api/v1/conversations", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("the new token: %d", res.StatusCode)
	}
	tb.open("/admin/tokens")
	if eval[bool](tb, `!!document.querySelector('[data-testid=token-secret]') || document.body.innerHTML.includes(`+"`"+secret+"`"+`)`) {
		t.Fatal("the secret is shown again")
	}
}

// TestAssignFromUnassignedInbox: an SMS from a new number waits in the
// unassigned inbox; the admin gives it to a colleague, who then has it.
func TestAssignFromUnassignedInbox(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "admursula", model.VisibilityAll, model.RoleAdmin)
	admuma, _ := s.user(t, "admuma", model.VisibilityAll, model.RoleStaff)
	num := "+447911123313"
	s.inbound(t, num, "Hello, is anyone there?")
	tb := s.tab(t, 1280, 800)
	tb.login("admursula", pw)
	row := `[data-testid=unassigned-row][data-number="` + num + `"]`
	tb.open("/admin/unassigned")
	tb.waitJS("the row", `!!document.querySelector('`+row+`')`)
	tb.do(chromedp.SetValue(row+` [data-testid=assign-user]`, admuma.ID.String()), chromedp.Click(row+` [data-testid=assign]`))
	tb.waitJS("the row gone", `!document.querySelector('`+row+`') && !!document.querySelector('[data-testid=admin-notice]')`)
	s.waitThread(t, admuma, num, 1)
	tb.open("/admin/audit")
	tb.waitJS("the audit entry", `!!document.querySelector('[data-testid=audit-row][data-action="conversation.assigned"]')`)
}

// TestAdminScreenshots writes every admin page at desktop and phone size
// into GSMGATE_SCREENSHOTS_EXTRA (a directory) to be looked at.
func TestAdminScreenshots(t *testing.T) {
	dir := os.Getenv("GSMGATE_SCREENSHOTS_EXTRA")
	if dir == "" {
		t.Skip("set GSMGATE_SCREENSHOTS_EXTRA=DIR to write the admin pages' screenshots")
	}
	s := theStack
	_, pw := s.user(t, "admsasha", model.VisibilityAll, model.RoleAdmin)
	s.inbound(t, "+447911123314", "Do you deliver on Saturdays?")
	for _, size := range []struct {
		name string
		w, h int
	}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
		tb := s.tab(t, size.w, size.h)
		tb.login("admsasha", pw)
		for _, p := range []string{"users", "tokens", "webhooks", "unassigned", "modems", "settings", "audit"} {
			tb.open("/admin/" + p)
			tb.waitJS("the page", `document.readyState === 'complete'`)
			must(t, os.WriteFile(filepath.Join(dir, "admin-"+p+"-"+size.name+".png"), run(tb, chromedp.FullScreenshot(100)), 0o644))
		}
	}
	_ = context.Background
}
