package ui

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// pageNames are the views; each is parsed with the layout and the shared
// partials into its own template set.
var pageNames = []string{"login", "sms", "compose", "failures", "settings", "bulk", "campaign", "setup",
	"admin-users", "admin-tokens", "admin-webhooks", "admin-settings", "admin-unassigned", "admin-audit", "admin-modems"}

func parsePages(st *assets) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"static":       st.url,
		"convURL":      convURL,
		"shortTime":    shortTime,
		"fullTime":     func(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04:05") },
		"isoTime":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"initials":     initials,
		"add":          func(a, b int) int { return a + b },
		"placeholders": func() []string { return []string{"{first_name}", "{name}", "{company}", "{job_title}"} },
		"adminTabs":    func() any { return adminTabs },
	}
	shared, err := fs.Glob(templateFS, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		files := append([]string{"templates/layout.html"}, shared...)
		files = append(files, "templates/"+name+".html")
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// view is what every page's template gets.
type view struct {
	Title  string
	Page   string
	Viewer *viewer
	CSRF   string
	// Notes are the viewer's notifications for the sidebar.
	Notes []noteView
	// Since is the ID of the moment the page was made: notifications
	// after it are news to this page (toasts).
	Since string
	Data  any
}

// noteView is one sidebar notification.
type noteView struct {
	ID    string
	Kind  string // incoming or failure
	Title string
	Text  string
	Link  string
	At    time.Time
	// Batch is the bulk send a bulk failure notice is about ("" for the
	// others).
	Batch string `json:",omitempty"`
}

// noteOf shows a notification: an incoming SMS by its sender's name when
// the number is a contact's (names caches the look-ups of one page).
func (h *Handler) noteOf(ctx context.Context, n model.Notification, names map[string]string) noteView {
	nv := noteView{ID: n.ID.String(), Text: n.Text, At: n.CreatedAt}
	switch n.Kind {
	case gateway.NoticeSendFailed:
		nv.Kind, nv.Title, nv.Link = "failure", "Send failed", "/failures"
		return nv
	case gateway.NoticeBulkFailed:
		nv.Kind, nv.Title, nv.Link, nv.Batch = "failure", "Bulk send failures", "/failures?batch="+n.BatchID.String(), n.BatchID.String()
		return nv
	}
	nv.Kind, nv.Title, nv.Link = "incoming", n.Number, convURL(n.Number)
	name, ok := names[n.Number]
	if !ok {
		if ct, err := h.gw.Contact(ctx, n.Number); err == nil {
			name = ct.Name
		}
		names[n.Number] = name
	}
	if name != "" {
		nv.Title = name
	}
	return nv
}

// render writes page with data on the layout, with status.
func (h *Handler) render(c *gin.Context, status int, page, title string, data any) {
	v := view{Title: title, Page: page, Data: data, Since: model.IDAt(h.opt.Now()).String()}
	if vv, ok := c.Get(viewerKey); ok {
		v.Viewer = vv.(*viewer)
		v.CSRF = v.Viewer.Session.CSRF
		page, err := h.gw.Notifications(c.Request.Context(), v.Viewer.User.ID, gateway.Page{Limit: 100})
		if err != nil {
			h.log.Error("ui: notifications", "error", err)
		}
		names := map[string]string{}
		for _, n := range page.Items {
			v.Notes = append(v.Notes, h.noteOf(c.Request.Context(), n, names))
		}
	}
	h.renderRaw(c, status, page, "layout.html", v)
}

// renderRaw executes one named template of page's set (a whole page, or a
// fragment the script fetches) into a buffer first, so that a template
// error gives a clean 500 rather than half a page.
func (h *Handler) renderRaw(c *gin.Context, status int, page, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("ui: render", "page", page, "template", name, "error", err)
		c.String(http.StatusInternalServerError, "the page could not be shown")
		return
	}
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// urlQuery escapes a value for a query string.
func urlQuery(s string) string { return url.QueryEscape(s) }

// convURL is the SMS view of one conversation.
func convURL(number string) string { return "/conversations/" + url.PathEscape(number) }

// shortTime shows today's times as 15:04, this year's as 2 Jan, older as
// 2 Jan 2006.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	now := time.Now()
	t = t.Local()
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

func initials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		r := []rune(w)[0]
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
		if b.Len() >= 2 {
			break
		}
	}
	if b.Len() == 0 {
		return "#"
	}
	return b.String()
}
