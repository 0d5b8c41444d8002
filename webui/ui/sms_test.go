package ui_test

import (
	"context"
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// bubbleState is the JS expression for a bubble's data-state.
func bubbleCount(dir string) string {
	return fmt.Sprintf(`document.querySelectorAll('[data-testid=message-bubble][data-direction=%s]').length`, dir)
}

// TestSendFromComposeAndReply: compose to a number typed into the
// recipient box, then a reply with Enter from the thread; each bubble
// reaches "delivered" in the open page (live, over the event stream).
func TestSendFromComposeAndReply(t *testing.T) {
	s := theStack
	_, pw := s.user(t, "carla", model.VisibilityAll, model.RoleStaff)
	tb := s.tab(t, 1280, 800)
	tb.login("carla", pw)

	tb.do(chromedp.Click(`[data-testid=compose-open]`))
	tb.waitJS("the compose window", `location.pathname === '/compose' && !!`+sel(`[data-testid=compose-recipient-input]`))
	tb.do(chromedp.SendKeys(`[data-testid=compose-recipient-input]`, "07911 123410\r"))
	tb.waitJS("the recipient chip", `!!document.querySelector('[data-testid=compose-recipient][data-number="+447911123410"]')`)
	tb.do(chromedp.SendKeys(`[data-testid=compose-text]`, "Hello from compose"))
	tb.waitJS("the counter", sel(`[data-testid=counter]`)+`.dataset.characters === "18"`)
	tb.do(chromedp.Click(`[data-testid=compose-send]`))
	tb.waitJS("the thread", `location.pathname === '/conversations/+447911123410' && `+bubbleCount("out")+` === 1`)
	tb.waitJS("delivered", `document.querySelector('[data-testid=message-bubble][data-direction=out]').dataset.state === 'delivered'`)
	if got := eval[string](tb, `document.querySelector('[data-testid=record-card]').textContent`); !strings.Contains(got, "Unknown number") {
		t.Errorf("record card of an unknown number says %q", got)
	}
	// Add the contact from the card.
	tb.do(chromedp.Click(`.add-contact summary`), chromedp.SetValue(`.add-contact input[name=name]`, "Carla's Client"),
		chromedp.SetValue(`.add-contact input[name=job_title]`, "Buyer"), chromedp.Click(`.add-contact button`))
	tb.waitJS("the new card", sel(`[data-testid=record-card-name]`)+`.textContent.trim() === "Carla's Client"`)
	tb.waitJS("delivered after the reload", `document.querySelector('[data-testid=message-bubble][data-direction=out]').dataset.state === 'delivered'`)

	tb.do(chromedp.SendKeys(`[data-testid=reply-text]`, "Line one"),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)), // Shift+Enter: a new line, not a send
		chromedp.SendKeys(`[data-testid=reply-text]`, "Line two"))
	if v := eval[string](tb, sel(`[data-testid=reply-text]`)+`.value`); v != "Line one\nLine two" {
		t.Fatalf("reply box holds %q after Shift+Enter", v)
	}
	tb.do(chromedp.SendKeys(`[data-testid=reply-text]`, "\r"))
	tb.waitJS("the reply bubble", bubbleCount("out")+` === 2`)
	tb.waitJS("the reply delivered", `Array.from(document.querySelectorAll('[data-testid=message-bubble][data-direction=out]')).every(b => b.dataset.state === 'delivered')`)
	if got := eval[string](tb, `document.querySelectorAll('[data-testid=message-bubble]')[1].querySelector('.text').textContent`); got != "Line one\nLine two" {
		t.Errorf("reply bubble text %q", got)
	}
	// Oldest at the top, newest at the bottom, scrolled to the newest.
	if !eval[bool](tb, `(() => { const t = document.querySelector('[data-testid=thread]'); return t.scrollHeight - t.scrollTop - t.clientHeight < 5; })()`) {
		t.Error("the thread is not scrolled to the newest message")
	}
}

// TestInboundToastAndNotification: an SMS arriving for the viewer raises
// a toast and a sidebar notification with the unread count in the title;
// clearing it removes it here and on the server.
func TestInboundToastAndNotification(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "ines", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123420"
	m := s.send(t, u, "Are you coming?", peer) // associates ines with the number
	s.waitState(t, u, m[0].ID, "delivered")

	tb := s.tab(t, 1280, 800)
	tb.login("ines", pw)
	tb.waitJS("the live stream", `document.body.dataset.live === '1'`)
	start := time.Now()
	s.inbound(t, peer, "Yes, on my way")
	tb.waitJS("the incoming toast", `!!document.querySelector('[data-testid=toast][data-kind=incoming]')`)
	t.Logf("+CMTI to toast: %v", time.Since(start))
	if got := eval[string](tb, sel(`[data-testid=toast]`)+`.textContent`); !strings.Contains(got, "Yes, on my way") || !strings.Contains(got, peer) {
		t.Errorf("toast says %q", got)
	}
	tb.waitJS("the notification", `document.querySelectorAll('[data-testid=notification-item]').length === 1`)
	if title := eval[string](tb, `document.title`); !strings.HasPrefix(title, "(1) ") {
		t.Errorf("title %q, want the unread count first", title)
	}
	// The toast opens the thread.
	tb.do(chromedp.Click(`[data-testid=toast][data-kind=incoming]`))
	tb.waitJS("the thread from the toast", `location.pathname === '/conversations/`+peer+`' && !!document.querySelector('[data-testid=thread]')`)
	tb.open("/")
	// The new page is listening before the SMS comes (as after the login
	// above). Without this wait the test failed about one run in ten before
	// app.js released the stream's lock at pagehide (the leaving page kept
	// it, so the new page waited as a relay with no stream); 8 of 8 runs
	// without the wait passed after that fix.
	tb.waitJS("the live stream again", `document.body.dataset.live === '1'`)
	s.inbound(t, peer, "And one more")
	tb.waitJS("the second notification", `document.querySelectorAll('[data-testid=notification-item]').length === 1`)
	if title := eval[string](tb, `document.title`); !strings.HasPrefix(title, "(1) ") {
		t.Errorf("title %q, want the unread count first", title)
	}
	// The conversation row shows the unread badge after a reload.
	tb.open("/")
	tb.waitJS("the unread badge", `!!document.querySelector('[data-testid=conversation-item][data-number="`+peer+`"] [data-testid=conversation-unread]')`)

	tb.do(chromedp.Click(`[data-testid=notifications-open]`))
	tb.waitJS("the sidebar", `!document.getElementById('notes').hidden`)
	tb.do(chromedp.Click(`[data-testid=notification-item] button.clear`))
	tb.waitJS("the notification gone", `document.querySelectorAll('[data-testid=notification-item]').length === 0`)
	notes, err := s.svc.Notifications(context.Background(), u.ID, gateway.Page{})
	must(t, err)
	if len(notes.Items) != 0 {
		t.Fatalf("%d notifications left on the server after clearing", len(notes.Items))
	}

	// Two more, then "clear all".
	s.inbound(t, peer, "Parking now")
	s.inbound(t, peer, "At the door")
	tb.waitJS("two notifications", `document.querySelectorAll('[data-testid=notification-item]').length === 2`)
	tb.do(chromedp.Click(`[data-testid=notifications-clear]`))
	tb.waitJS("all cleared", `document.querySelectorAll('[data-testid=notification-item]').length === 0 && !document.title.startsWith('(')`)
	tb.open("/")
	if n := eval[int](tb, `document.querySelectorAll('[data-testid=notification-item]').length`); n != 0 {
		t.Fatalf("%d notifications after reload", n)
	}
}

// TestFailureToastAndRetry: a +CMS error raises a failure toast and a
// Send Failures row; its retry sends the message.
func TestFailureToastAndRetry(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "fred", model.VisibilityAll, model.RoleStaff)
	tb := s.tab(t, 1280, 800)
	tb.login("fred", pw)
	tb.open("/compose?to=%2B447911123430&text=Your%20parcel%20is%20here")
	tb.waitJS("the chip", `!!document.querySelector('[data-testid=compose-recipient][data-number="+447911123430"]')`)
	s.sm.SetFaults(sim.Faults{SendErrors: []int{sim.PermanentCMS()[0]}})
	tb.do(chromedp.Click(`[data-testid=compose-send]`))
	tb.waitJS("the failure toast", `!!document.querySelector('[data-testid=toast][data-kind=failure]')`)
	if got := eval[string](tb, sel(`[data-testid=toast][data-kind=failure]`)+`.textContent`); !strings.Contains(got, "+447911123430") || !strings.Contains(got, "CMS ERROR") {
		t.Errorf("failure toast says %q", got)
	}
	tb.waitJS("the failed bubble", sel(`[data-testid=message-bubble]`)+`.dataset.state === 'failed'`)
	id := eval[string](tb, sel(`[data-testid=message-bubble]`)+`.dataset.messageId`)

	tb.do(chromedp.Click(`[data-testid=failures-open]`))
	tb.waitJS("the failure row", `!!document.querySelector('[data-testid=failure-row][data-message-id="`+id+`"]')`)
	tb.do(chromedp.Click(`[data-testid=failure-row][data-message-id="` + id + `"] [data-testid=failure-retry]`))
	tb.waitJS("the row gone", `!!document.querySelector('.notice') && !document.querySelector('[data-testid=failure-row][data-message-id="`+id+`"]')`)
	mid, err := model.ParseID(id)
	must(t, err)
	s.waitState(t, u, mid, "delivered")
}

// TestFailuresDismissOneAndSeveral: one failure dismissed by its row's
// button, then two at once.
func TestFailuresDismissOneAndSeveral(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "dora", model.VisibilityAll, model.RoleStaff)
	code := sim.PermanentCMS()[0]
	s.sm.SetFaults(sim.Faults{SendErrors: []int{code, code, code}})
	var ids []string
	for i, n := range []string{"+447911123440", "+447911123441", "+447911123442"} {
		m := s.send(t, u, fmt.Sprintf("failure %d", i), n)
		s.waitState(t, u, m[0].ID, "failed")
		ids = append(ids, m[0].ID.String())
	}
	tb := s.tab(t, 1280, 800)
	tb.login("dora", pw)
	tb.open("/failures")
	tb.waitJS("three rows", `document.querySelectorAll('[data-testid=failure-row]').length === 3`)
	// Staff see the SIM by its number, not the modem's IMEI.
	if got := eval[string](tb, `document.querySelector('[data-testid=failure-modem]').textContent`); got != "SIM +447700900001" {
		t.Errorf("the failure row's modem reads %q, want the SIM's number", got)
	}
	tb.do(chromedp.Click(`[data-testid=failure-row][data-message-id="` + ids[1] + `"] [data-testid=failure-dismiss]`))
	tb.waitJS("two rows", `!!document.querySelector('.notice') && document.querySelectorAll('[data-testid=failure-row]').length === 2 && !document.querySelector('[data-message-id="`+ids[1]+`"]')`)
	tb.do(chromedp.Click(`#select-all`), chromedp.Click(`button[value=dismiss]`))
	tb.waitJS("no rows", `document.querySelectorAll('[data-testid=failure-row]').length === 0 && document.querySelector('.notice').textContent.includes('2 messages')`)
	page, err := s.svc.Failures(context.Background(), u.ID, gateway.Page{Limit: 10})
	must(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("%d failures left", len(page.Items))
	}
}

// TestConversationOrderMarketing: a bulk send moves its conversations up
// only with "include marketed when sorting", which takes effect at once.
func TestConversationOrderMarketing(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "mona", model.VisibilityAll, model.RoleStaff)
	const plain, bulk1, bulk2 = "+447911123450", "+447911123451", "+447911123452"
	m := s.send(t, u, "Just for you", plain)
	s.waitState(t, u, m[0].ID, "delivered")
	for _, x := range s.send(t, u, "Spring sale!", bulk1, bulk2) {
		s.waitState(t, u, x.ID, "delivered")
	}
	order := `Array.from(document.querySelectorAll('[data-testid=conversation-item]')).map(e => e.dataset.number).join(',')`
	tb := s.tab(t, 1280, 800)
	tb.login("mona", pw)
	if got := eval[string](tb, order); !strings.HasPrefix(got, plain+",") {
		t.Fatalf("without marketing the order is %s, want %s first", got, plain)
	}
	tb.do(chromedp.Click(`[data-testid=settings-open]`))
	tb.waitJS("settings", `!!`+sel(`[data-testid=include-marketing-toggle]`))
	tb.do(chromedp.Click(`[data-testid=include-marketing-toggle]`))
	tb.waitJS("saved", `document.querySelector('.toggle').dataset.saved === '1'`)
	tb.open("/")
	if got := eval[string](tb, order); !strings.HasSuffix(got, ","+plain) || strings.HasPrefix(got, plain) {
		t.Fatalf("with marketing the order is %s, want the bulk ones first", got)
	}
	tb.open("/settings")
	if !eval[bool](tb, sel(`[data-testid=include-marketing-toggle]`)+`.checked`) {
		t.Fatal("the toggle is not shown on")
	}
	// The bulk message is marked in its thread.
	tb.open("/conversations/" + bulk1)
	tb.waitJS("the bulk mark", `(document.querySelector('[data-testid=message-bubble] .tag') || {}).textContent === 'bulk'`)
}

// TestIncompleteMultipartMarked: a two-part SMS whose second part never
// comes is shown, after the wait, marked incomplete.
func TestIncompleteMultipartMarked(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "ivan", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123660"
	m := s.send(t, u, "hi", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	if _, err := s.net.Inbound(s.sm, sim.InboundSMS{From: peer, Text: strings.Repeat("A long answer. ", 20), Drop: []int{2}}); err != nil {
		t.Fatal(err)
	}
	s.waitThread(t, u, peer, 2)
	tb := s.tab(t, 1280, 800)
	tb.login("ivan", pw)
	tb.open("/conversations/" + peer)
	tb.waitJS("the incomplete mark", `(document.querySelector('[data-testid=message-bubble][data-direction=in] .tag.warn') || {}).textContent === 'incomplete'`)
}

// TestVisibilityOwnVersusAll: an outgoing_only user sees only what they
// sent; an incoming_and_outgoing colleague sees the whole conversation,
// with who sent what.
func TestVisibilityOwnVersusAll(t *testing.T) {
	s := theStack
	oona, opw := s.user(t, "oona", model.VisibilityOwn, model.RoleStaff)
	alex, apw := s.user(t, "alex", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123460"
	a := s.send(t, alex, "Alex here", peer)
	s.waitState(t, alex, a[0].ID, "delivered")
	o := s.send(t, oona, "Oona here", peer)
	s.waitState(t, oona, o[0].ID, "delivered")
	s.inbound(t, peer, "Hello both")
	s.waitThread(t, alex, peer, 3)

	ta := s.tab(t, 1280, 800)
	ta.login("alex", apw)
	ta.open("/conversations/" + peer)
	ta.waitJS("three bubbles", `document.querySelectorAll('[data-testid=message-bubble]').length === 3`)
	if got := eval[string](ta, `document.querySelector('[data-message-id="`+o[0].ID.String()+`"] .author').textContent`); got != "oona" {
		t.Errorf("colleague's message author %q, want oona", got)
	}
	to := s.tab(t, 1280, 800)
	to.login("oona", opw)
	to.open("/conversations/" + peer)
	to.waitJS("the thread", `!!document.querySelector('[data-testid=thread]')`)
	ids := eval[string](to, `Array.from(document.querySelectorAll('[data-testid=message-bubble]')).map(b => b.dataset.messageId).join(',')`)
	if ids != o[0].ID.String() {
		t.Fatalf("outgoing_only user sees %s, want only %s", ids, o[0].ID)
	}
	// And the alphanumeric sender rule does not leak: her list has one row.
	to.open("/")
	if n := eval[int](to, `document.querySelectorAll('[data-testid=conversation-item]').length`); n != 1 {
		t.Fatalf("outgoing_only user's list has %d rows, want 1", n)
	}
}

// TestAlphanumericSenderReplyDisabled: a message from "MyBank" opens,
// and its reply box is disabled with the reason.
func TestAlphanumericSenderReplyDisabled(t *testing.T) {
	s := theStack
	admin, pw := s.user(t, "ada-admin", model.VisibilityAll, model.RoleAdmin)
	s.inbound(t, "MyBank", "Your code is 123456")
	s.waitThread(t, admin, "MyBank", 1)
	tb := s.tab(t, 1280, 800)
	tb.login("ada-admin", pw)
	tb.open("/conversations/MyBank")
	tb.waitJS("the thread", `document.querySelectorAll('[data-testid=message-bubble][data-direction=in]').length === 1`)
	if !eval[bool](tb, sel(`[data-testid=reply-text]`)+`.disabled && `+sel(`[data-testid=reply-send]`)+`.disabled`) {
		t.Fatal("reply box is enabled for an alphanumeric sender")
	}
	if got := eval[string](tb, sel(`.disabled-why`)+`.textContent`); !strings.Contains(got, "MyBank") {
		t.Errorf("reason %q", got)
	}
	// Nobody is associated with it: it is in the admins' unassigned inbox.
	tb.open("/?view=unassigned")
	tb.waitJS("the unassigned list", `!!document.querySelector('[data-testid=conversation-item][data-number="MyBank"]')`)
}

// TestThreadLoadsOlderOnScrollUp: a long thread opens at its newest 50
// messages and loads the older ones when scrolled to the top.
func TestThreadLoadsOlderOnScrollUp(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "olga", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123610"
	var last []gateway.Accepted
	for i := range 60 {
		last = s.send(t, u, fmt.Sprintf("note %02d", i), peer)
	}
	s.waitState(t, u, last[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("olga", pw)
	tb.open("/conversations/" + peer)
	tb.waitJS("50 bubbles", bubbleCount("out")+` === 50`)
	if first := eval[string](tb, sel(`[data-testid=message-bubble] .text`)+`.textContent`); first != "note 10" {
		t.Fatalf("the first page starts at %q, want note 10", first)
	}
	eval[int](tb, `document.querySelector('[data-testid=thread]').scrollTop = 0, 1`)
	tb.waitJS("60 bubbles", bubbleCount("out")+` === 60`)
	if first := eval[string](tb, sel(`[data-testid=message-bubble] .text`)+`.textContent`); first != "note 00" {
		t.Fatalf("after loading older the thread starts at %q", first)
	}
	// A new message arrives at the bottom and keeps the older pages.
	tb.waitJS("the live stream", `document.body.dataset.live === '1'`)
	s.inbound(t, peer, "a reply at the end")
	tb.waitJS("the reply", `document.querySelectorAll('[data-testid=message-bubble]').length === 61`)
	got := eval[string](tb, `(() => { const bs = document.querySelectorAll('[data-testid=message-bubble] .text'); return bs[0].textContent + '|' + bs[bs.length-1].textContent; })()`)
	if got != "note 00|a reply at the end" {
		t.Fatalf("thread runs %q", got)
	}
}

// TestSearchAndLoadMore: search by name finds the contact's conversation;
// the list loads older conversations on scroll.
func TestSearchAndLoadMore(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "sam", model.VisibilityAll, model.RoleStaff)
	s.contact(t, gateway.ContactInput{Number: "+447911123470", Name: "Zebedee Quux"})
	var last []gateway.Accepted
	for i := range 55 {
		last = s.send(t, u, fmt.Sprintf("hello %d", i), fmt.Sprintf("+4479111235%02d", i))
	}
	m := s.send(t, u, "for Zebedee", "+447911123470")
	s.waitState(t, u, m[0].ID, "delivered")
	s.waitState(t, u, last[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("sam", pw)
	if n := eval[int](tb, `document.querySelectorAll('[data-testid=conversation-item]').length`); n != 50 {
		t.Fatalf("first page has %d rows, want 50", n)
	}
	eval[int](tb, `document.querySelector(".pane.list").scrollTop = 1e6, 1`)
	tb.waitJS("the second page", `document.querySelectorAll('[data-testid=conversation-item]').length === 56`)

	tb.do(chromedp.SendKeys(`[data-testid=conversation-search]`, "zebedee\r"))
	tb.waitJS("the search result", `location.search.includes('q=zebedee') && document.querySelectorAll('[data-testid=conversation-item]').length === 1`)
	if got := eval[string](tb, sel(`[data-testid=conversation-item]`)+`.dataset.number`); got != "+447911123470" {
		t.Fatalf("search found %s", got)
	}
}

// TestMessageTextIsNeverMarkup: an SMS body that looks like HTML is shown
// as text in the thread, the list and the toast.
func TestMessageTextIsNeverMarkup(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "hugo", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123630"
	m := s.send(t, u, "hi", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("hugo", pw)
	tb.waitJS("the live stream", `document.body.dataset.live === '1'`)
	const evil = `<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>`
	s.inbound(t, peer, evil)
	tb.waitJS("the toast", `!!document.querySelector('[data-testid=toast]')`)
	tb.open("/conversations/" + peer)
	tb.waitJS("the bubble", `document.querySelectorAll('[data-testid=message-bubble][data-direction=in]').length === 1`)
	if got := eval[string](tb, `document.querySelector('[data-testid=message-bubble][data-direction=in] .text').textContent`); got != evil {
		t.Fatalf("bubble text %q", got)
	}
	if eval[bool](tb, `!!document.querySelector('main img, main b, #toasts img') || document.body.dataset.pwned === '1'`) {
		t.Fatal("the message body became markup")
	}
}

// TestTabsShareOneStream: a second tab of the same browser gets its toasts
// through the first tab's stream (one connection for all tabs), and takes
// the stream over when the first tab closes.
func TestTabsShareOneStream(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "tess", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123640"
	m := s.send(t, u, "hi", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	first := s.tab(t, 1280, 800)
	first.login("tess", pw)
	first.waitJS("the first tab's stream", `document.body.dataset.live === '1'`)

	second, closeSecond := first.sibling()
	second.open("/")
	second.waitJS("the second tab relayed", `document.body.dataset.live === 'relay'`)
	s.inbound(t, peer, "to both tabs")
	for _, tb := range []*tab{first, second} {
		tb.waitJS("the toast", `Array.from(document.querySelectorAll('[data-testid=toast]')).some(e => e.textContent.includes('to both tabs'))`)
	}
	closeSecond() // the first keeps its stream
	third, closeThird := first.sibling()
	defer closeThird()
	third.open("/")
	third.waitJS("the third tab relayed", `document.body.dataset.live === 'relay'`)
	first.do(chromedp.Navigate("about:blank")) // the leader goes away
	third.waitJS("the third tab took the stream", `document.body.dataset.live === '1'`)
	s.inbound(t, peer, "after the handover")
	third.waitJS("the toast after the handover", `Array.from(document.querySelectorAll('[data-testid=toast]')).some(e => e.textContent.includes('after the handover'))`)
}

// TestReplyRefusedShowsWhy: a reply the gateway refuses (too long) comes
// back to the thread with the reason, and nothing is sent.
func TestReplyRefusedShowsWhy(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "rita", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123650"
	m := s.send(t, u, "hi", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("rita", pw)
	tb.open("/conversations/" + peer)
	tb.paste(`[data-testid=reply-text]`, strings.Repeat("x", 1600))
	tb.waitJS("the counter", sel(`[data-testid=counter]`)+`.dataset.parts === '11'`)
	tb.do(chromedp.Click(`[data-testid=reply-send]`))
	tb.waitJS("the reason", `!!document.querySelector('.reply .error') && document.querySelector('.reply .error').textContent.includes('Not sent')`)
	if n := eval[int](tb, bubbleCount("out")); n != 1 {
		t.Fatalf("%d outgoing bubbles, want 1", n)
	}
	tb.open("/conversations/" + peer)
	if eval[bool](tb, `!!document.querySelector('.reply .error')`) {
		t.Fatal("the reason is shown again after a reload")
	}
}
