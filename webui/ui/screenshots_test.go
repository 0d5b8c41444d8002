package ui_test

import (
	"context"
	"github.com/gsmgate/gsmgate/gateway/model"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// TestScreenshots writes docs/screenshots/*.png from a seeded database:
//
//	GSMGATE_SCREENSHOTS=1 go test ./webui/ui -run TestScreenshots
//
// GSMGATE_SCREENSHOTS_EXTRA=DIR also writes the shots that are looked at but
// not committed (phone widths of every page). The seeded texts hold an
// emoji: install fonts-noto-color-emoji first, or Chromium draws a box
// (a staff member's own browser has such a font; the appliance serves none).
func TestScreenshots(t *testing.T) {
	if os.Getenv("GSMGATE_SCREENSHOTS") == "" {
		t.Skip("set GSMGATE_SCREENSHOTS=1 to write docs/screenshots")
	}
	s := theStack
	maria, pw := s.user(t, "maria", model.VisibilityAll, model.RoleStaff)
	tom, _ := s.user(t, "tom", model.VisibilityAll, model.RoleStaff)
	ada, grace, alan, linus := "+447911123201", "+447911123202", "+447911123203", "+447911123204"
	s.contact(t, gateway.ContactInput{Number: ada, Name: "Ada Lovelace", JobTitle: "Head of Programming", Company: "Analytical Engines Ltd",
		Email: "ada@example.com", CRMURL: "https://crm.example.com/contacts/1815", Phones: []model.Phone{{Number: "+442079460123", Label: "office"}}})
	s.contact(t, gateway.ContactInput{Number: grace, Name: "Grace Hopper", JobTitle: "Rear Admiral", Company: "Compilers & Co"})
	s.contact(t, gateway.ContactInput{Number: alan, Name: "Alan Turing", Company: "Bletchley Park"})

	m := s.send(t, maria, "Hi Ada, your engine parts arrived this morning. Shall I book the fitting for Tuesday at 10?", ada)
	s.waitState(t, maria, m[0].ID, "delivered")
	s.inbound(t, ada, "Tuesday works. Could you bring the punched cards as well?")
	s.waitThread(t, maria, ada, 2)
	m = s.send(t, tom, "Ada, Tom here: the cards are packed and will come with Maria.", ada)
	s.waitState(t, maria, m[0].ID, "delivered")
	s.inbound(t, ada, "Perfect, thank you both! 👍")
	s.waitThread(t, maria, ada, 4)
	b := s.send(t, maria, "Reminder: the office is closed on Friday for the stock-take.", grace, alan, ada)
	for _, x := range b {
		s.waitState(t, maria, x.ID, "delivered")
	}
	s.inbound(t, grace, "Thanks for the heads-up.")
	s.waitThread(t, maria, grace, 2)
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	f := s.send(t, maria, "Your order #4411 is ready for collection.", linus)
	s.waitState(t, maria, f[0].ID, "failed")
	m = s.send(t, maria, "Sounds good, see you on Tuesday.", ada)
	s.waitState(t, maria, m[0].ID, "delivered")

	dir := filepath.Join("..", "..", "docs", "screenshots")
	must(t, os.MkdirAll(dir, 0o755))
	shot := func(tb *tab, name string) {
		t.Helper()
		png := run(tb, chromedp.FullScreenshot(100))
		must(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	}
	desk := s.tab(t, 1280, 800)
	desk.login("maria", pw)
	desk.open("/conversations/" + ada)
	desk.waitJS("the thread", `document.querySelectorAll('[data-testid=message-bubble]').length >= 5`)
	shot(desk, "sms-view.png")
	desk.open("/compose?to=" + ada + "&label=Main%20Contact&to=07911123202&label=Line%20Manager&to=0791112&to=12&text=" +
		"Hi%20%E2%80%9CAda%E2%80%9D%20%E2%80%94%20the%20fitting%20is%20booked%E2%80%A6")
	desk.waitJS("the counter", `document.querySelector('[data-testid=counter]').dataset.encoding === 'ucs2'`)
	shot(desk, "compose.png")
	desk.open("/failures")
	desk.waitJS("a failure row", `!!document.querySelector('[data-testid=failure-row]')`)
	shot(desk, "failures.png")

	desk.open("/conversations/" + alan)
	desk.waitJS("the live stream", `document.body.dataset.live === '1'`)
	desk.do(chromedp.Click(`[data-testid=notifications-open]`))
	s.inbound(t, grace, "Could you send me the invoice for March?")
	desk.waitJS("the toast", `!!document.querySelector('[data-testid=toast][data-kind=incoming]')`)
	shot(desk, "notifications.png")

	// A tablet width (list and thread; the card on demand) is looked at,
	// not committed.
	tablet := s.tab(t, 900, 700)
	tablet.login("maria", pw)
	tablet.open("/conversations/" + ada + "#card")
	tablet.waitJS("the card", `!!document.querySelector('.pane.card:target')`)
	extra := os.Getenv("GSMGATE_SCREENSHOTS_EXTRA") // a directory
	if extra == "" {
		extra = t.TempDir()
	}
	must(t, os.WriteFile(filepath.Join(extra, "tablet.png"), run(tablet, chromedp.FullScreenshot(100)), 0o644))
	anon := s.tab(t, 1280, 800)
	anon.open("/settings")
	anon.waitJS("the login page", `location.pathname === '/login'`)
	must(t, os.WriteFile(filepath.Join(extra, "login.png"), run(anon, chromedp.FullScreenshot(100)), 0o644))
	tablet.open("/settings")
	must(t, os.WriteFile(filepath.Join(extra, "settings.png"), run(tablet, chromedp.FullScreenshot(100)), 0o644))

	phone := s.tab(t, 390, 844)
	phone.login("maria", pw)
	shot(phone, "sms-list-phone.png")
	phone.open("/conversations/" + ada)
	phone.waitJS("the thread", `document.querySelectorAll('[data-testid=message-bubble]').length >= 5`)
	shot(phone, "sms-view-phone.png")
	phone.open("/compose?to=" + ada)
	shot(phone, "compose-phone.png")

	// Bulk send: a group with an opted-out member and a pasted bad number,
	// previewed, then sent with one failure.
	admin, _ := s.user(t, "root", model.VisibilityAll, model.RoleAdmin)
	s.contact(t, gateway.ContactInput{Number: linus, Name: "Linus Torvalds", Company: "Kernel Org"})
	s.contact(t, gateway.ContactInput{Number: "+447911123205", Name: "Łukasz Nowak", Company: "Kraków Motors"})
	_, err := s.svc.SetOptOut(context.Background(), admin.ID, alan, true)
	must(t, err)
	_, err = s.svc.PutGroup(context.Background(), maria.ID, gateway.GroupInput{ID: "spring", Name: "Spring customers",
		Members: []string{ada, grace, alan, linus, "+447911123205"}})
	must(t, err)
	_, err = s.svc.PutTemplate(context.Background(), maria.ID, gateway.TemplateInput{ID: "sale", Name: "Spring sale",
		Text: "Hi {first_name|there}, our spring sale opens on Friday: 20% off all engine parts. Reply STOP to opt out."})
	must(t, err)
	bulk := func(tb *tab) {
		t.Helper()
		tb.open("/bulk?group=spring")
		tb.do(chromedp.SetValue(`[data-testid=bulk-template]`, "sale"))
		tb.paste(`[data-testid=bulk-numbers]`, "+447911123206, 12")
		eval[bool](tb, `document.querySelector('[data-testid=bulk-template]').dispatchEvent(new Event('change'))`)
		tb.waitJS("the counter", `document.querySelector('[data-testid=counter]').dataset.characters !== '0'`)
	}
	bulk(desk)
	shot(desk, "bulk.png")
	desk.do(chromedp.Click(`[data-testid=bulk-preview-open]`))
	desk.waitJS("the preview", `!!document.querySelector('[data-testid=bulk-preview]')`)
	eval[bool](desk, `(document.querySelector('[data-testid=bulk-preview]').scrollIntoView(), true)`)
	must(t, os.WriteFile(filepath.Join(dir, "bulk-preview.png"), run(desk, chromedp.CaptureScreenshot()), 0o644))
	bulk(phone)
	must(t, os.WriteFile(filepath.Join(extra, "bulk-phone.png"), run(phone, chromedp.FullScreenshot(100)), 0o644))
	phone.do(chromedp.Click(`[data-testid=bulk-preview-open]`))
	phone.waitJS("the preview", `!!document.querySelector('[data-testid=bulk-preview]')`)
	must(t, os.WriteFile(filepath.Join(extra, "bulk-preview-phone.png"), run(phone, chromedp.FullScreenshot(100)), 0o644))
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	desk.do(chromedp.Click(`[data-testid=bulk-confirm]`))
	desk.waitJS("the progress page", `!!document.querySelector('[data-testid=bulk-progress]')`)
	must(t, os.WriteFile(filepath.Join(extra, "bulk-progress-early.png"), run(desk, chromedp.FullScreenshot(100)), 0o644))
	desk.waitJS("the summary", `!!document.querySelector('[data-testid=bulk-summary]') && document.querySelector('[data-testid=bulk-sent] dd').textContent === '0'`)
	shot(desk, "bulk-progress.png")
	phone.open(eval[string](desk, `location.pathname`))
	must(t, os.WriteFile(filepath.Join(extra, "bulk-progress-phone.png"), run(phone, chromedp.FullScreenshot(100)), 0o644))
	// The send's one failure: one toast for the send, and Send Failures
	// limited to it (looked at, not committed).
	desk.waitJS("the bulk failure toast", `!!document.querySelector('[data-testid=toast][data-batch]')`)
	must(t, os.WriteFile(filepath.Join(extra, "bulk-failure-toast.png"), run(desk, chromedp.CaptureScreenshot()), 0o644))
	desk.do(chromedp.Click(`[data-testid=toast][data-batch]`))
	desk.waitJS("the send's failures", `!!document.querySelector('[data-testid=failures-batch]')`)
	must(t, os.WriteFile(filepath.Join(extra, "failures-batch.png"), run(desk, chromedp.FullScreenshot(100)), 0o644))
	phone.open(eval[string](desk, `location.pathname + location.search`))
	must(t, os.WriteFile(filepath.Join(extra, "failures-batch-phone.png"), run(phone, chromedp.FullScreenshot(100)), 0o644))
	// An admin's bar on a phone, its menu open.
	_, rootPw := s.user(t, "rootphone", model.VisibilityAll, model.RoleAdmin)
	adminPhone := s.tab(t, 390, 844)
	adminPhone.login("rootphone", rootPw)
	adminPhone.open("/admin/users")
	adminPhone.do(chromedp.Click(`[data-testid=nav-menu-open]`))
	must(t, os.WriteFile(filepath.Join(extra, "admin-menu-phone.png"), run(adminPhone, chromedp.CaptureScreenshot()), 0o644))
	// Every admin page at phone width (looked at, not committed).
	for _, page := range []string{"users", "tokens", "webhooks", "unassigned", "modems", "settings", "audit"} {
		adminPhone.open("/admin/" + page)
		must(t, os.WriteFile(filepath.Join(extra, "admin-"+page+"-phone.png"), run(adminPhone, chromedp.FullScreenshot(100)), 0o644))
	}
}
