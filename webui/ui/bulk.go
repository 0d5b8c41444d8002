package ui

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// Bulk send: GET /bulk is the compose page (recipients from a group, a
// saved search, ticked contacts, pasted numbers or an uploaded CSV, in any
// combination: the core sends to their union); POST /bulk/preview shows
// what the send would do (the core's PreviewBulk) with a confirm form that
// carries the resolved choice; POST /bulk sends it (SendBulk) and goes to
// the progress page.

type bulkData struct {
	Groups    []model.Group
	Searches  []model.SavedSearch
	Templates []model.Template
	// Contacts are the contacts list filtered by ContactQ, to tick.
	Contacts []model.Contact
	ContactQ string
	// Kept are ticked numbers not in Contacts (a later search), kept.
	Kept    []string
	Form    bulkForm
	Count   countView
	Preview *previewView
	Error   string
	// Recent are the viewer's latest bulk sends (admins: everyone's).
	Recent []model.Campaign
}

// bulkForm is the user's choice, as the form and the confirm form carry it.
type bulkForm struct {
	Group    string
	Search   string
	Selected map[string]bool
	// Numbers are pasted ones plus those of an uploaded file, one a line.
	Numbers  string
	Text     string
	Template string
	Campaign string
}

// bulkRequest is the form's send. A saved template chosen and sent as it
// is goes by its ID (its fallbacks and name apply); edited, the text goes.
func (h *Handler) bulkRequest(c *gin.Context, f bulkForm) gateway.BulkRequest {
	v := viewerOf(c)
	req := gateway.BulkRequest{UserID: v.User.ID, Text: f.Text, Campaign: f.Campaign, StatusReport: true}
	if f.Template != "" {
		if t, err := h.gw.Template(c.Request.Context(), v.User.ID, f.Template); err == nil && (t.Text == f.Text || strings.TrimSpace(f.Text) == "") {
			req.Text, req.TemplateID = "", f.Template
		}
	}
	if f.Group != "" {
		req.GroupIDs = []string{f.Group}
	}
	if f.Search != "" {
		req.SearchIDs = []string{f.Search}
	}
	for n := range f.Selected {
		req.Numbers = append(req.Numbers, n)
	}
	req.Numbers = append(req.Numbers, splitNumbers(f.Numbers)...)
	return req
}

// splitNumbers reads pasted numbers: one a line, or separated by commas
// or semicolons.
func splitNumbers(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// previewView is the core's preview as the page shows it.
type previewView struct {
	*gateway.BulkPreview
	SMS      int
	Duration string
	Rate     string
	Waits    string
	// ForcesUnicode and AddsPart name the core's lists' recipients.
	ForcesUnicode, AddsPart []string
}

func (h *Handler) bulkData(c *gin.Context, f bulkForm, listContacts bool) (bulkData, error) {
	ctx, v := c.Request.Context(), viewerOf(c)
	d := bulkData{Form: f, ContactQ: strings.TrimSpace(c.PostForm("q"))}
	var err error
	if d.Groups, err = h.gw.Groups(ctx, v.User.ID); err != nil {
		return d, err
	}
	if d.Searches, err = h.gw.SavedSearches(ctx, v.User.ID); err != nil {
		return d, err
	}
	if d.Templates, err = h.gw.Templates(ctx, v.User.ID); err != nil {
		return d, err
	}
	if d.Recent, err = h.gw.Campaigns(ctx, v.User.ID, 10); err != nil {
		return d, err
	}
	if listContacts {
		if d.Contacts, err = h.gw.Contacts(ctx, d.ContactQ, 200); err != nil {
			return d, err
		}
	}
	if d.Form.Selected == nil {
		d.Form.Selected = map[string]bool{}
	}
	listed := map[string]bool{}
	for _, ct := range d.Contacts {
		listed[ct.Number] = true
	}
	for n := range d.Form.Selected {
		if !listed[n] {
			d.Kept = append(d.Kept, n)
		}
	}
	slices.Sort(d.Kept)
	d.Count = h.countOf(f.Text)
	return d, nil
}

func (h *Handler) bulkPage(c *gin.Context) {
	d, err := h.bulkData(c, bulkForm{Group: c.Query("group"), Search: c.Query("search")}, false)
	if err != nil {
		h.fail(c, err)
		return
	}
	_, d.Error = h.takeFlash(c)
	h.render(c, http.StatusOK, "bulk", "Bulk send", d)
}

// bulkFormOf reads the form, an uploaded CSV's numbers included.
func (h *Handler) bulkFormOf(c *gin.Context) (bulkForm, error) {
	f := bulkForm{Group: c.PostForm("group"), Search: c.PostForm("search"), Numbers: c.PostForm("numbers"),
		Text: c.PostForm("text"), Template: c.PostForm("template"), Campaign: strings.TrimSpace(c.PostForm("campaign")),
		Selected: map[string]bool{}}
	for _, n := range c.PostFormArray("selected") {
		f.Selected[n] = true
	}
	if !strings.HasPrefix(c.ContentType(), "multipart/") {
		return f, nil // the confirm form carries the numbers, not the file
	}
	fh, err := c.FormFile("csv")
	if errors.Is(err, http.ErrMissingFile) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("the uploaded file could not be read: %w", err)
	}
	file, err := fh.Open()
	if err != nil {
		return f, fmt.Errorf("the uploaded file could not be read: %w", err)
	}
	defer file.Close()
	nums, err := csvNumbers(io.LimitReader(file, 16<<20))
	if err != nil {
		return f, err
	}
	if f.Numbers != "" && !strings.HasSuffix(f.Numbers, "\n") {
		f.Numbers += "\n"
	}
	f.Numbers += strings.Join(nums, "\n")
	return f, nil
}

// csvNumbers reads the numbers of a CSV file: the column headed number,
// phone or mobile (any case), or the first column; a first row without a
// digit is a header. Invalid values are kept: the preview lists them. A
// first line with more semicolons than commas means semicolon-separated
// (as a spreadsheet in many locales saves it).
func csvNumbers(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("the uploaded file could not be read: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(data))
	if first, _, _ := bytes.Cut(data, []byte("\n")); bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	col, out, first := 0, []string(nil), true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the uploaded file is not CSV: %w", err)
		}
		if first {
			first = false
			if !hasDigit(strings.Join(rec, "")) {
				for i, name := range rec {
					switch strings.ToLower(strings.TrimSpace(name)) {
					case "number", "phone", "mobile", "phone_number", "msisdn":
						col = i
					}
				}
				continue
			}
		}
		if col < len(rec) {
			if v := strings.TrimSpace(rec[col]); v != "" {
				out = append(out, v)
			}
		}
	}
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// bulkContacts shows the contacts list filtered by the form's q, keeping
// what the form holds so far (POST /bulk/contacts, the Find button).
func (h *Handler) bulkContacts(c *gin.Context) {
	f, ferr := h.bulkFormOf(c)
	d, err := h.bulkData(c, f, true)
	if err != nil {
		h.fail(c, err)
		return
	}
	if ferr != nil {
		d.Error = ferr.Error()
	}
	h.render(c, http.StatusOK, "bulk", "Bulk send", d)
}

// bulkPreview shows what the send would do, with the confirm form.
func (h *Handler) bulkPreview(c *gin.Context) {
	f, ferr := h.bulkFormOf(c)
	d, err := h.bulkData(c, f, false)
	if err != nil {
		h.fail(c, err)
		return
	}
	if ferr != nil {
		d.Error = ferr.Error()
		h.render(c, http.StatusUnprocessableEntity, "bulk", "Bulk send", d)
		return
	}
	p, err := h.gw.PreviewBulk(c.Request.Context(), h.bulkRequest(c, f))
	if err != nil {
		ve, ok := refusal(err)
		if !ok {
			h.fail(c, err)
			return
		}
		d.Error = "Cannot send: " + sendProblemFields(ve) + "."
		h.render(c, http.StatusUnprocessableEntity, "bulk", "Bulk send", d)
		return
	}
	d.Preview = previewOf(p)
	h.render(c, http.StatusOK, "bulk", "Bulk send · preview", d)
}

func previewOf(p *gateway.BulkPreview) *previewView {
	pv := &previewView{BulkPreview: p, SMS: p.TotalParts, Duration: humanDuration(p.Estimate.Duration)}
	if p.Estimate.PerMinute > 0 {
		pv.Rate = fmt.Sprintf("%d SMS on %s at about %.0f a minute", p.Estimate.Parts, plural(p.Estimate.Modems, "modem"), p.Estimate.PerMinute)
	}
	var waits []string
	if p.Estimate.QuietWaits > 0 {
		waits = append(waits, humanDuration(p.Estimate.QuietWaits)+" waiting for quiet hours to end")
	}
	if p.Estimate.CapWaits > 0 {
		waits = append(waits, humanDuration(p.Estimate.CapWaits)+" waiting for daily caps to reset")
	}
	pv.Waits = strings.Join(waits, "; ")
	names := make(map[string]string, len(p.Valid))
	for _, r := range p.Valid {
		if r.Name != "" {
			names[r.Number] = r.Name + " (" + r.Number + ")"
		}
	}
	named := func(ns []string) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			if out[i] = names[n]; out[i] == "" {
				out[i] = n
			}
		}
		return out
	}
	pv.ForcesUnicode, pv.AddsPart = named(p.ForcesUnicode), named(p.AddsPart)
	return pv
}

// humanDuration: "under a minute", "about 12 min", "about 3 h 20 min",
// "about 2 days 4 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("about %d min", int(math.Ceil(d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("about %d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("about %d days %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// bulkSend sends what the confirm form carries and opens its progress.
func (h *Handler) bulkSend(c *gin.Context) {
	f, ferr := h.bulkFormOf(c)
	if ferr != nil {
		h.redirectWith(c, "/bulk", flashError, ferr.Error())
		return
	}
	res, err := h.gw.SendBulk(c.Request.Context(), h.bulkRequest(c, f))
	if err != nil {
		ve, ok := refusal(err)
		if !ok {
			h.fail(c, err)
			return
		}
		h.redirectWith(c, "/bulk", flashError, "Not sent: "+sendProblemFields(ve)+".")
		return
	}
	c.Redirect(http.StatusSeeOther, "/bulk/"+res.BatchID.String())
}
