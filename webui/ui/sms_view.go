package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// The SMS view: conversation list, thread and record card with the reply
// box (GET / and GET /conversations/{number}). With ?partial= it renders
// only a fragment for the script: "list" (more rows), "older" (older
// bubbles) or "thread" (the thread after a change).

type smsData struct {
	// View is an admin's choice of list: "" (theirs), "all" or
	// "unassigned".
	View     string
	Admin    bool
	Query    string
	Rows     []convRow
	MoreURL  string
	Found    []foundRow
	Selected string
	Thread   *threadData
	Card     *cardData
	Reply    replyData
	// ReplyCount is the counter under the empty reply box.
	ReplyCount countView
	Notice     string
}

type convRow struct {
	Number  string
	Name    string
	Preview string
	Out     bool
	At      time.Time
	Unread  int
	Active  bool
}

type foundRow struct {
	Number string
	Text   string
	At     time.Time
}

type threadData struct {
	Number   string
	Bubbles  []bubble
	OlderURL string
}

type bubble struct {
	ID         string
	Dir        string
	State      string
	Reason     string
	Text       string
	At         time.Time
	Author     string
	Bulk       bool
	Incomplete bool
	Parts      int
}

type cardData struct {
	Number  string
	Contact *model.Contact
}

type replyData struct {
	Number   string
	Disabled string // why the reply box is off
	Text     string
	Error    string
}

const listPage = 50

func (h *Handler) smsView(c *gin.Context) {
	v := viewerOf(c)
	ctx := c.Request.Context()
	partial := c.Query("partial")
	d := smsData{Query: strings.TrimSpace(c.Query("q")), Admin: v.admin()}
	flashKind, flashMsg := h.takeFlash(c)
	if flashKind == flashNotice {
		d.Notice = flashMsg
	}
	if d.Admin && (c.Query("view") == "all" || c.Query("view") == "unassigned") {
		d.View = c.Query("view")
	}
	if raw := c.Param("number"); raw != "" {
		d.Selected = h.gw.ConversationNumber(raw)
	}
	// The list first: it tells whether the open conversation has unread
	// messages, so that a view without news needs no write.
	if partial == "" || partial == "list" {
		if err := h.loadList(c, v, &d); err != nil {
			h.fail(c, err)
			return
		}
		if partial == "list" {
			h.renderRaw(c, http.StatusOK, "sms", "conv-rows", d)
			return
		}
	}
	if d.Selected != "" && partial != "list" {
		q := gateway.Page{Limit: 50, Cursor: c.Query("before")}
		tp, err := h.gw.Thread(ctx, v.User.ID, d.Selected, q)
		switch {
		case errors.Is(err, gateway.ErrNotFound):
			c.Status(http.StatusNotFound)
			d.Notice = "There is no conversation with " + d.Selected + " that you may see."
			d.Selected = ""
		case err != nil:
			h.fail(c, err)
			return
		default:
			d.Thread = threadOf(tp)
			d.Card = &cardData{Number: tp.Number, Contact: tp.Contact}
			d.ReplyCount = h.countOf("")
			d.Reply = replyData{Number: tp.Number, Disabled: h.replyRefusal(tp.Number)}
			if flashKind == flashError {
				d.Reply.Error = flashMsg
			}
			if q.Cursor == "" && d.unread(tp.Number) {
				if _, err := h.gw.MarkRead(ctx, v.User.ID, tp.Number); err != nil {
					h.log.Error("ui: mark read", "error", err)
				}
			}
		}
		switch partial {
		case "older":
			h.renderRaw(c, http.StatusOK, "sms", "bubbles", d.Thread)
			return
		case "thread":
			h.renderRaw(c, http.StatusOK, "sms", "thread", d.Thread)
			return
		}
	}
	title := "Messages"
	if d.Card != nil {
		title = d.Card.title()
	}
	status := c.Writer.Status()
	h.render(c, status, "sms", title, d)
}

// unread reports whether number may have unread messages, and clears its
// badge in the list about to be shown (the caller marks it read). Without
// the row in the list (a fragment, a later page) it cannot tell: true.
func (d *smsData) unread(number string) bool {
	for i := range d.Rows {
		if d.Rows[i].Number == number {
			n := d.Rows[i].Unread
			d.Rows[i].Unread = 0
			return n > 0
		}
	}
	return true
}

func (cd *cardData) title() string {
	if cd.Contact != nil && cd.Contact.Name != "" {
		return cd.Contact.Name
	}
	return cd.Number
}

func (h *Handler) loadList(c *gin.Context, v *viewer, d *smsData) error {
	ctx := c.Request.Context()
	if d.Query != "" {
		res, err := h.gw.Search(ctx, v.User.ID, d.Query, listPage)
		if err != nil {
			var ve *gateway.ValidationError
			if errors.As(err, &ve) {
				return nil
			}
			return err
		}
		for _, it := range res.Conversations {
			d.Rows = append(d.Rows, rowOf(it, d.Selected))
		}
		for _, m := range res.Messages {
			d.Found = append(d.Found, foundRow{Number: m.Number, Text: m.Text, At: m.CreatedAt})
		}
		return nil
	}
	page, err := h.gw.Conversations(ctx, v.User.ID, gateway.ConversationQuery{Page: gateway.Page{Cursor: c.Query("cursor"), Limit: listPage},
		All: d.View == "all", Unassigned: d.View == "unassigned"})
	if err != nil {
		return err
	}
	for _, it := range page.Items {
		d.Rows = append(d.Rows, rowOf(it, d.Selected))
	}
	if page.Next != "" {
		d.MoreURL = "/?partial=list&view=" + d.View + "&cursor=" + url.QueryEscape(page.Next)
	}
	return nil
}

func rowOf(it model.Conversation, selected string) convRow {
	r := convRow{Number: it.Number, Preview: preview(it.Last), Out: it.Last.Direction == "out",
		At: it.Last.CreatedAt, Unread: it.Unread, Active: it.Number == selected}
	if it.Contact != nil {
		r.Name = it.Contact.Name
	}
	return r
}

func preview(m model.Message) string {
	t := m.Text
	if t == "" && len(m.Data) > 0 {
		return "[data message]"
	}
	t = strings.Join(strings.Fields(t), " ")
	if r := []rune(t); len(r) > 80 {
		t = string(r[:80]) + "…"
	}
	return t
}

func threadOf(tp gateway.ThreadPage) *threadData {
	td := &threadData{Number: tp.Number}
	for _, m := range tp.Messages {
		td.Bubbles = append(td.Bubbles, bubbleOf(m))
	}
	if tp.Next != "" {
		td.OlderURL = convURL(tp.Number) + "?partial=older&before=" + url.QueryEscape(tp.Next)
	}
	return td
}

func bubbleOf(m gateway.ThreadMessage) bubble {
	b := bubble{ID: m.ID.String(), Dir: string(m.Direction), State: string(m.State), Reason: m.Reason,
		Text: m.Text, At: m.CreatedAt, Bulk: m.Marketing, Incomplete: m.Incomplete, Parts: m.Parts}
	if b.Text == "" && len(m.Data) > 0 {
		b.Text = "[8-bit data message]"
	}
	if m.Direction == "out" && !m.Own {
		b.Author = m.Author
		if b.Author == "" {
			b.Author = "a colleague"
		}
	}
	return b
}

// replyRefusal says why one cannot reply to number ("" when one can), by
// the core's rule for recipients: an alphanumeric sender ("MyBank") is a
// name, not an address the network delivers to.
func (h *Handler) replyRefusal(number string) string {
	if nc := h.gw.CheckNumber(number); nc.Problem != "" {
		return "You cannot reply to " + number + ": " + nc.Problem + "."
	}
	return ""
}

// fail answers an unexpected error with a plain page.
func (h *Handler) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, gateway.ErrUnauthorized):
		c.Redirect(http.StatusSeeOther, "/login")
	case errors.Is(err, gateway.ErrNotFound):
		c.String(http.StatusNotFound, "not found")
	case errors.Is(err, gateway.ErrForbidden):
		c.String(http.StatusForbidden, "not allowed")
	default:
		var ve *gateway.ValidationError
		if errors.As(err, &ve) {
			c.String(http.StatusUnprocessableEntity, ve.Error())
			return
		}
		h.log.Error("ui: request failed", "path", c.Request.URL.Path, "error", err)
		c.String(http.StatusInternalServerError, "something went wrong; the error is in the server log")
	}
	c.Abort()
}
