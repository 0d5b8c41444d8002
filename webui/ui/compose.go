package ui

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// Send SMS: a blank compose window (GET /compose), pre-filled by a CRM's
// deep link /compose?to=…&to=…&label=…&text=…&ref_type=…&ref_id=…, which
// passes through the login page and back when needed.

type composeData struct {
	Recipients []chip
	Text       string
	RefType    string
	RefID      string
	Error      string
	Count      countView
}

// chip is one recipient as the compose window shows it.
type chip struct {
	Raw    string
	Number string // E.164, or what was typed when impossible
	Name   string
	Label  string
	// Problem: the number is impossible (Send will refuse it).
	Problem string
	// Warning: possible but an unknown range.
	Warning string
}

func (h *Handler) chipOf(c *gin.Context, raw, label string) chip {
	ch := chip{Raw: raw, Label: label}
	nc := h.gw.CheckNumber(raw)
	switch {
	case nc.Problem != "":
		ch.Number = strings.TrimSpace(raw)
		ch.Problem = nc.Problem
	case nc.UnknownRange:
		ch.Number = nc.Number
		ch.Warning = "a number range the numbering plan does not know: check it before sending"
	default:
		ch.Number = nc.Number
	}
	if ch.Problem == "" {
		if ct, err := h.gw.Contact(c.Request.Context(), ch.Number); err == nil {
			ch.Name = ct.Name
		}
	}
	return ch
}

func (h *Handler) composePage(c *gin.Context) {
	d := composeData{Text: c.Query("text"), RefType: c.Query("ref_type"), RefID: c.Query("ref_id")}
	labels := c.QueryArray("label")
	for i, raw := range c.QueryArray("to") {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		label := ""
		if i < len(labels) {
			label = labels[i]
		}
		d.Recipients = append(d.Recipients, h.chipOf(c, raw, label))
	}
	d.Count = h.countOf(d.Text)
	h.render(c, http.StatusOK, "compose", "Send SMS", d)
}

// composeSend sends to the chips' numbers. One recipient goes to its
// thread; several (a marketing send) to the list.
func (h *Handler) composeSend(c *gin.Context) {
	v := viewerOf(c)
	to := c.PostFormArray("to")
	labels := c.PostFormArray("label")
	d := composeData{Text: c.PostForm("text"), RefType: c.PostForm("ref_type"), RefID: c.PostForm("ref_id")}
	for i, raw := range to {
		label := ""
		if i < len(labels) {
			label = labels[i]
		}
		d.Recipients = append(d.Recipients, h.chipOf(c, raw, label))
	}
	req := gateway.SendRequest{UserID: v.User.ID, To: to, Text: d.Text, StatusReport: true}
	if d.RefType != "" || d.RefID != "" {
		req.CRM = &model.CRMRef{Type: d.RefType, ID: d.RefID}
	}
	res, err := h.gw.Send(c.Request.Context(), req)
	if err != nil {
		ve, ok := refusal(err)
		if !ok {
			h.fail(c, err)
			return
		}
		d.Error = sendProblem(ve)
		d.Count = h.countOf(d.Text)
		h.render(c, http.StatusUnprocessableEntity, "compose", "Send SMS", d)
		return
	}
	if len(res.Rejected) > 0 {
		// Some went, some did not: say which, on the list.
		h.redirectWith(c, "/", flashNotice, sendProblem(&gateway.ValidationError{Fields: res.Rejected}))
		return
	}
	if len(res.Messages) == 1 {
		c.Redirect(http.StatusSeeOther, convURL(res.Messages[0].Number))
		return
	}
	h.redirectWith(c, "/", flashNotice, "Sent to "+strconv.Itoa(len(res.Messages))+" recipients.")
}

// recipientView answers the compose window's look-up as the user types.
type recipientView struct {
	Number  string         `json:"number,omitempty"`
	Name    string         `json:"name,omitempty"`
	Problem string         `json:"problem,omitempty"`
	Warning string         `json:"warning,omitempty"`
	Matches []recipientHit `json:"matches"`
}

type recipientHit struct {
	Name    string `json:"name"`
	Number  string `json:"number"`
	Company string `json:"company,omitempty"`
}

// recipientLookup: a name finds contacts with a number; digits are
// normalised with the default country and checked.
func (h *Handler) recipientLookup(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	out := recipientView{Matches: []recipientHit{}}
	if q == "" {
		c.JSON(http.StatusOK, out)
		return
	}
	if hasLetter(q) {
		cs, err := h.gw.Contacts(c.Request.Context(), q, 8)
		if err != nil {
			h.fail(c, err)
			return
		}
		for _, ct := range cs {
			out.Matches = append(out.Matches, recipientHit{Name: ct.Name, Number: ct.Number, Company: ct.Company})
		}
		c.JSON(http.StatusOK, out)
		return
	}
	ch := h.chipOf(c, q, "")
	out.Number, out.Name, out.Problem, out.Warning = ch.Number, ch.Name, ch.Problem, ch.Warning
	c.JSON(http.StatusOK, out)
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
