package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// bulkGroup makes a group of three contacts and one number that opted
// out, owned by u; admin records the opt-out.
func (s *stack) bulkGroup(t *testing.T, u, admin model.User, id string, numbers [4]string) {
	t.Helper()
	ctx := context.Background()
	for i, name := range []string{"Ada Byron", "Grace Murray", "Alan Mathison"} {
		s.contact(t, gateway.ContactInput{Number: numbers[i], Name: name})
	}
	s.contact(t, gateway.ContactInput{Number: numbers[3], Name: "Opted Out"})
	_, err := s.svc.SetOptOut(ctx, admin.ID, numbers[3], true)
	must(t, err)
	_, err = s.svc.PutGroup(ctx, u.ID, gateway.GroupInput{ID: id, Name: "Spring customers", Members: numbers[:]})
	must(t, err)
}

// TestBulkSendFromGroup: a bulk send from a group plus a pasted invalid
// number; the preview counts the valid, invalid and opted-out recipients
// and the SMS; confirming opens the progress page, which the page itself
// brings to 100 % (no reload), with the one +CMS failure linked to its
// Send Failures row.
func TestBulkSendFromGroup(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "bulkbella", model.VisibilityAll, model.RoleStaff)
	admin, _ := s.user(t, "bulkadmin", model.VisibilityAll, model.RoleAdmin)
	nums := [4]string{"+447911123501", "+447911123502", "+447911123503", "+447911123504"}
	s.bulkGroup(t, u, admin, "spring-bella", nums)

	tb := s.tab(t, 1280, 800)
	tb.login("bulkbella", pw)
	tb.do(chromedp.Click(`[data-testid=bulk-open]`))
	tb.waitJS("the bulk page", `location.pathname === '/bulk' && !!document.querySelector('[data-testid=bulk-group] option[value=spring-bella]')`)
	tb.do(chromedp.SetValue(`[data-testid=bulk-group]`, "spring-bella"))
	tb.paste(`[data-testid=bulk-numbers]`, "12")
	tb.do(chromedp.Click(`#placeholders [data-insert="{first_name}"]`))
	tb.waitJS("the placeholder", sel(`[data-testid=bulk-text]`)+`.value === '{first_name}'`)
	tb.paste(`[data-testid=bulk-text]`, "Hi {first_name}, our spring sale opens on Friday.")
	tb.waitJS("the counter", sel(`[data-testid=counter]`)+`.dataset.characters === '49'`)
	tb.do(chromedp.Click(`[data-testid=bulk-preview-open]`))
	tb.waitJS("the preview", `!!document.querySelector('[data-testid=bulk-preview]')`)

	counts := map[string]string{"bulk-preview-valid": "3", "bulk-preview-invalid": "1", "bulk-preview-optedout": "1",
		"bulk-preview-duplicates": "0", "bulk-preview-missing": "0"}
	for id, want := range counts {
		if got := eval[string](tb, sel(`[data-testid=`+id+`]`)+`.dataset.count`); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	if got := eval[string](tb, sel(`[data-testid=bulk-preview-sms]`)+`.dataset.sms`); got != "3" {
		t.Errorf("preview counts %s SMS, want 3 (1 part × 3 recipients)", got)
	}
	if got := eval[string](tb, sel(`[data-testid=bulk-estimate]`)+`.textContent`); !strings.Contains(got, "3 SMS on 1 modem") || !strings.Contains(got, "min") {
		t.Errorf("estimate says %q", got)
	}
	skips := eval[string](tb, sel(`.skips`)+`.textContent`)
	if !strings.Contains(skips, "12") || !strings.Contains(skips, nums[3]) {
		t.Errorf("left out lists %q, want 12 and %s", skips, nums[3])
	}
	if got := eval[string](tb, sel(`.sample`)+`.textContent`); !strings.Contains(got, "Hi Grace, our spring sale") {
		t.Errorf("recipients' texts are %q", got)
	}

	// The first part sent fails with a permanent +CMS error.
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	tb.do(chromedp.Click(`[data-testid=bulk-confirm]`))
	tb.waitJS("the progress page", `location.pathname.startsWith('/bulk/') && !!document.querySelector('[data-testid=bulk-progress]')`)
	eval[bool](tb, `(window.samePage = true)`)
	batch, err := model.ParseID(strings.TrimPrefix(eval[string](tb, `location.pathname`), "/bulk/"))
	must(t, err)
	tb.waitJS("100 %", sel(`[data-testid=bulk-progress]`)+`.dataset.percent === '100' && !!document.querySelector('[data-testid=bulk-summary]')`)
	if !eval[bool](tb, `window.samePage === true`) {
		t.Error("the page was reloaded; the progress should update in place")
	}
	if got := eval[string](tb, sel(`[data-testid=bulk-failed] dd`)+`.textContent`); got != "1" {
		t.Errorf("%s failed, want 1", got)
	}
	p, err := s.svc.Campaign(context.Background(), u.ID, batch)
	must(t, err)
	if p.Total != 3 || len(p.Failed) != 1 || len(p.Campaign.Skipped) != 2 {
		t.Fatalf("campaign: %d messages, failed %v, skipped %v; want 3, one, two", p.Total, p.Failed, p.Campaign.Skipped)
	}
	for _, m := range []string{"bulk-failure-link"} {
		if got := eval[string](tb, sel(`[data-testid=`+m+`]`)+`.dataset.count`); got != "1" {
			t.Errorf("%s counts %s failures, want 1", m, got)
		}
	}
	tb.do(chromedp.Click(`[data-testid=bulk-failure-link]`))
	tb.waitJS("the failure's row", `location.pathname === '/failures' && !!document.querySelector('[data-testid=failure-row][data-message-id="`+p.Failed[0].String()+`"]')`)

	// The others reach delivered, and the page (polling while any is only
	// sent) shows it.
	tb.open("/bulk/" + batch.String())
	tb.waitJS("two delivered", sel(`[data-testid=bulk-delivered] dd`)+`.textContent === '2'`)
}

// TestBulkCancelTheRest: cancelling a send whose parts wait for the modem
// cancels them, and the summary says so.
func TestBulkCancelTheRest(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "bulkcora", model.VisibilityAll, model.RoleStaff)
	// Scheduled for later, nothing goes before the cancel.
	res, err := s.svc.SendBulk(context.Background(), gateway.BulkRequest{UserID: u.ID, Numbers: []string{"+447911123511", "+447911123512"},
		Text: "Later", SendAt: time.Now().Add(time.Hour)})
	must(t, err)
	tb := s.tab(t, 1280, 800)
	tb.login("bulkcora", pw)
	tb.open("/bulk/" + res.BatchID.String())
	tb.waitJS("the progress", sel(`[data-testid=bulk-progress]`)+`.dataset.percent === '0'`)
	tb.do(chromedp.Click(`[data-testid=bulk-cancel]`))
	tb.waitJS("the summary", `!!document.querySelector('.notice') && !!document.querySelector('[data-testid=bulk-summary]')`)
	if got := eval[string](tb, sel(`.notice`)+`.textContent`); !strings.Contains(got, "Cancelled 2 messages") {
		t.Errorf("notice says %q", got)
	}
	if got := eval[string](tb, sel(`[data-testid=bulk-cancelled] dd`)+`.textContent`); got != "2" {
		t.Errorf("%s cancelled, want 2", got)
	}
	tb.open("/bulk")
	if got := eval[string](tb, sel(`[data-testid=bulk-recent] a[href="/bulk/`+res.BatchID.String()+`"]`)+`.parentElement.textContent`); !strings.Contains(got, "cancelled") {
		t.Errorf("recent bulk sends list it as %q", got)
	}
	// Another user cannot see it.
	_, pw2 := s.user(t, "bulkdora", model.VisibilityAll, model.RoleStaff)
	other := s.tab(t, 1280, 800)
	other.login("bulkdora", pw2)
	other.open("/bulk/" + res.BatchID.String())
	if got := eval[string](other, `document.body.textContent`); !strings.Contains(got, "not found") {
		t.Errorf("another user's view of the send: %q", got)
	}
}

// TestBulkContactsCSVAndTemplate: recipients ticked from the contacts list
// and read from an uploaded CSV (one of them twice), a saved template
// chosen from the list; the preview counts the duplicate and expands the
// template per recipient.
func TestBulkContactsCSVAndTemplate(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "bulkelio", model.VisibilityAll, model.RoleStaff)
	s.contact(t, gateway.ContactInput{Number: "+447911123521", Name: "Zed Alpha", Company: "Zedco"})
	s.contact(t, gateway.ContactInput{Number: "+447911123522", Name: "Zed Beta", Company: "Zedco"})
	_, err := s.svc.PutTemplate(context.Background(), u.ID, gateway.TemplateInput{ID: "zed-hello", Name: "Zed hello", Text: "Hello {name|friend} of {company|your firm}"})
	must(t, err)
	csvFile := filepath.Join(t.TempDir(), "list.csv")
	must(t, os.WriteFile(csvFile, []byte("name,mobile\nX,+447911123523\nY,07911 123523\n"), 0o644))

	tb := s.tab(t, 1280, 800)
	tb.login("bulkelio", pw)
	tb.open("/bulk")
	tb.paste(`[data-testid=bulk-numbers]`, "+447911123522")
	tb.do(chromedp.SetValue(`[data-testid=bulk-contacts-search]`, "zedco"), chromedp.Click(`[data-testid=bulk-contacts-find]`))
	tb.waitJS("the contacts list", `document.querySelectorAll('[data-testid=bulk-contact]').length === 2`)
	if got := eval[string](tb, sel(`[data-testid=bulk-numbers]`)+`.value`); got != "+447911123522" {
		t.Errorf("the pasted numbers became %q after the contact search", got)
	}
	tb.do(chromedp.Click(`[data-testid=bulk-contact][value="+447911123521"]`),
		chromedp.SetUploadFiles(`[data-testid=bulk-csv]`, []string{csvFile}),
		chromedp.SetValue(`[data-testid=bulk-template]`, "zed-hello"))
	eval[bool](tb, sel(`[data-testid=bulk-template]`)+`.dispatchEvent(new Event('change'))`)
	tb.waitJS("the template's text", sel(`[data-testid=bulk-text]`)+`.value === 'Hello {name|friend} of {company|your firm}'`)
	tb.do(chromedp.Click(`[data-testid=bulk-preview-open]`))
	tb.waitJS("the preview", `!!document.querySelector('[data-testid=bulk-preview]')`)
	for id, want := range map[string]string{"bulk-preview-valid": "3", "bulk-preview-duplicates": "1", "bulk-preview-invalid": "0"} {
		if got := eval[string](tb, sel(`[data-testid=`+id+`]`)+`.dataset.count`); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	texts := eval[string](tb, sel(`.sample`)+`.textContent`)
	for _, want := range []string{"Hello Zed Alpha of Zedco", "Hello Zed Beta of Zedco", "Hello friend of your firm"} {
		if !strings.Contains(texts, want) {
			t.Errorf("recipients' texts %q lack %q", texts, want)
		}
	}
	tb.do(chromedp.Click(`[data-testid=bulk-confirm]`))
	tb.waitJS("100 %", `location.pathname.startsWith('/bulk/') && `+sel(`[data-testid=bulk-progress]`)+`.dataset.percent === '100'`)
	if got := eval[string](tb, `document.querySelector('h1').textContent`); !strings.Contains(got, "Zed hello") {
		t.Errorf("the send is called %q, want the template's name", got)
	}
}

// TestBulkEnterKey: Enter does what the focused field means. In the
// contacts search it searches; on a contact's box it does nothing; in the
// name of the send it asks for the preview (the form's default), never
// the contacts search (the first visible button) and never a send.
func TestBulkEnterKey(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "bulkenzo", model.VisibilityAll, model.RoleStaff)
	s.contact(t, gateway.ContactInput{Number: "+447911123531", Name: "Quentin Enter", Company: "Keyco"})
	tb := s.tab(t, 1280, 800)
	tb.login("bulkenzo", pw)
	tb.open("/bulk")

	tb.do(chromedp.SendKeys(`[data-testid=bulk-contacts-search]`, "keyco\r"))
	tb.waitJS("the contacts list", `location.pathname === '/bulk/contacts' && document.readyState === 'complete' && document.querySelectorAll('[data-testid=bulk-contact]').length === 1`)
	if got := eval[string](tb, sel(`[data-testid=bulk-contacts-search]`)+`.value`); got != "keyco" {
		t.Errorf("the search field holds %q after the search", got)
	}

	eval[bool](tb, `(window.samePage = true)`)
	tb.do(chromedp.SendKeys(`[data-testid=bulk-contact]`, " ")) // Space ticks
	tb.waitJS("the box ticked", sel(`[data-testid=bulk-contact]`)+`.checked`)
	tb.do(chromedp.SendKeys(`[data-testid=bulk-contact]`, "\r"))
	// The next step's page load would end samePage; Enter on the box must
	// not have started one.
	if !eval[bool](tb, `window.samePage === true && location.pathname === '/bulk/contacts'`) {
		t.Fatal("Enter on a contact's box submitted the form")
	}

	tb.paste(`[data-testid=bulk-text]`, "Keys matter")
	tb.do(chromedp.SendKeys(`[data-testid=bulk-campaign]`, "Enter test\r"))
	tb.waitJS("the preview", `location.pathname === '/bulk/preview' && !!document.querySelector('[data-testid=bulk-preview]')`)
	if got := eval[string](tb, sel(`[data-testid=bulk-preview-valid]`)+`.dataset.count`); got != "1" {
		t.Errorf("the preview counts %s recipients, want the ticked one", got)
	}
	if got := eval[int](tb, `document.querySelectorAll('[data-testid=bulk-confirm]').length`); got != 1 {
		t.Errorf("%d confirm buttons on the preview", got)
	}
	cs, err := s.svc.Campaigns(context.Background(), u.ID, 10)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("Enter sent %d bulk messages; the send needs the confirm button", len(cs))
	}

	// In the search field again (now on the preview page), Enter searches.
	eval[bool](tb, sel(`[data-testid=bulk-contacts-search]`)+`.value === 'keyco' && !(`+sel(`[data-testid=bulk-contacts-search]`)+`.value = '')`)
	tb.do(chromedp.SendKeys(`[data-testid=bulk-contacts-search]`, "nobody-matches\r"))
	tb.waitJS("the empty search", `location.pathname === '/bulk/contacts' && document.body.textContent.includes('No contact matches')`)
}

// TestBulkFailureToast: the failures of a bulk send raise one toast and
// one sidebar notification for the send ("Bulk 'name': N of M failed"),
// not one per message, linking to Send Failures limited to that send.
func TestBulkFailureToast(t *testing.T) {
	s := theStack
	ctx := context.Background()
	u, pw := s.user(t, "bulkfay", model.VisibilityAll, model.RoleStaff)
	// A failure of a one-to-one message, before the page opens: it must
	// not be in the bulk send's list.
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	single := s.send(t, u, "Just one", "+447911123540")[0]
	s.waitState(t, u, single.ID, model.StateFailed)

	tb := s.tab(t, 1280, 800)
	tb.login("bulkfay", pw)
	tb.waitJS("the live stream", `document.body.dataset.live === '1' || document.body.dataset.live === 'relay'`)
	perm := sim.PermanentCMS()[0]
	s.sm.SetFaults(sim.Faults{SendErrors: []int{perm, perm}})
	res, err := s.svc.SendBulk(ctx, gateway.BulkRequest{UserID: u.ID, Numbers: []string{"+447911123541", "+447911123542", "+447911123543"},
		Text: "Autumn sale", Campaign: "Autumn"})
	must(t, err)
	batch := res.BatchID.String()
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(20 * time.Millisecond) {
		p, err := s.svc.Campaign(ctx, u.ID, res.BatchID)
		must(t, err)
		if p.Done >= 1 {
			if len(p.Failed) != 2 {
				t.Fatalf("%d of the send failed, want 2", len(p.Failed))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bulk send is not done: %+v", p.Counts)
		}
	}
	final := `[data-testid=toast][data-kind=failure][data-batch="` + batch + `"]`
	tb.waitJS("the bulk send's toast", `Array.from(document.querySelectorAll('`+final+`')).some(function (t) { return t.textContent.includes("Bulk 'Autumn': 2 of 3 failed") && !t.textContent.includes('so far'); })`)
	// At most an interim notice ("so far", when the gathering delay ended
	// while the send was still going) and the final one; never one per
	// message (those carry no data-batch).
	if n := eval[int](tb, `document.querySelectorAll('`+final+`').length`); n > 2 {
		t.Errorf("%d toasts for one bulk send", n)
	}
	if n := eval[int](tb, `document.querySelectorAll('[data-testid=toast][data-kind=failure]:not([data-batch])').length`); n != 0 {
		t.Errorf("%d per-message failure toasts for a bulk send", n)
	}
	if n := eval[int](tb, `document.querySelectorAll('[data-testid=notification-item][data-batch="`+batch+`"]').length`); n < 1 || n > 2 {
		t.Errorf("%d sidebar notifications for the bulk send", n)
	}
	tb.do(chromedp.Click(final)) // the interim one, if any, links to the same list
	tb.waitJS("Send Failures of the bulk send", `location.pathname === '/failures' && location.search === '?batch=`+batch+`' && !!document.querySelector('[data-testid=failures-batch]')`)
	rows := eval[[]string](tb, `Array.from(document.querySelectorAll('[data-testid=failure-row]')).map(function (r) { return r.dataset.messageId; })`)
	if len(rows) != 2 {
		t.Fatalf("%d rows on the bulk send's failures, want its 2: %v", len(rows), rows)
	}
	for _, id := range rows {
		if id == single.ID.String() {
			t.Errorf("the one-to-one failure %s is listed with the bulk send's", id)
		}
	}
	if got := eval[string](tb, sel(`[data-testid=failures-batch]`)+`.textContent`); !strings.Contains(got, "Autumn") {
		t.Errorf("the filter says %q", got)
	}
	// Dismissing one keeps the list limited to the send.
	tb.do(chromedp.Click(`[data-testid=failure-row][data-message-id="` + rows[0] + `"] [data-testid=failure-dismiss]`))
	tb.waitJS("one row left", `location.search === '?batch=`+batch+`' && document.querySelectorAll('[data-testid=failure-row]').length === 1`)
	tb.do(chromedp.Click(`[data-testid=failures-all]`))
	tb.waitJS("all failures", `location.pathname === '/failures' && !!document.querySelector('[data-testid=failure-row][data-message-id="`+single.ID.String()+`"]')`)
}
