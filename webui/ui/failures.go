package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// Send Failures: failed, expired and outcome-unknown messages the viewer
// may act on, with retry and dismiss for one or several.

type failuresData struct {
	Rows    []failureRow
	MoreURL string
	Notice  string
	// Batch and BatchName, when set, are the bulk send the list is
	// limited to (?batch=, the link of its failure notice and its
	// progress page).
	Batch     string
	BatchName string
}

type failureRow struct {
	ID       string
	Number   string
	Name     string
	Text     string
	State    string
	Reason   string
	At       time.Time
	Modem    string
	Attempts int
}

func (h *Handler) failuresPage(c *gin.Context) {
	v := viewerOf(c)
	q := gateway.Page{Cursor: c.Query("cursor"), Limit: 100}
	d := failuresData{}
	var page gateway.Paged[model.Message]
	var err error
	if raw := c.Query("batch"); raw != "" {
		batch, perr := model.ParseID(raw)
		if perr != nil {
			h.redirectWith(c, "/failures", flashError, "That bulk send does not exist; here are all your send failures.")
			return
		}
		p, cerr := h.gw.Campaign(c.Request.Context(), v.User.ID, batch)
		if cerr == nil {
			d.BatchName = p.Campaign.Name
		}
		d.Batch = batch.String()
		page, err = h.gw.BatchFailures(c.Request.Context(), v.User.ID, batch, q)
	} else {
		page, err = h.gw.Failures(c.Request.Context(), v.User.ID, q)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	_, d.Notice = h.takeFlash(c)
	names := map[string]string{}
	sims := simLabels(h.gw.Modems(c.Request.Context()))
	for _, m := range page.Items {
		name, ok := names[m.Number]
		if !ok {
			if ct, err := h.gw.Contact(c.Request.Context(), m.Number); err == nil {
				name = ct.Name
			}
			names[m.Number] = name
		}
		at := m.FailedAt
		if at.IsZero() {
			at = m.UpdatedAt
		}
		d.Rows = append(d.Rows, failureRow{ID: m.ID.String(), Number: m.Number, Name: name, Text: preview(m),
			State: string(m.State), Reason: plainReason(m), At: at, Modem: simLabel(sims, m.Modem), Attempts: m.Attempts})
	}
	if page.Next != "" {
		d.MoreURL = "/failures?cursor=" + urlQuery(page.Next)
		if d.Batch != "" {
			d.MoreURL += "&batch=" + d.Batch
		}
	}
	h.render(c, http.StatusOK, "failures", "Send Failures", d)
}

// plainReason is the failure's reason for a person.
func plainReason(m model.Message) string {
	if m.Reason != "" {
		return m.Reason
	}
	switch m.State {
	case "expired":
		return "not sent before its expiry time"
	case "unknown":
		return "outcome unknown: the gateway stopped while the modem was sending"
	}
	return "the network refused it"
}

// failuresAction retries or dismisses the chosen messages: one (a row's
// own button names it in "id") or several (the ticked "ids").
func (h *Handler) failuresAction(c *gin.Context) {
	v := viewerOf(c)
	action := c.Param("action")
	if action == "" {
		action = c.PostForm("action")
	}
	ids := c.PostFormArray("ids")
	if one := c.PostForm("id"); one != "" {
		ids = []string{one}
	}
	if action != "retry" && action != "dismiss" {
		c.String(http.StatusBadRequest, "action must be retry or dismiss")
		return
	}
	done, problems := 0, []string(nil)
	for _, raw := range ids {
		id, err := model.ParseID(raw)
		if err != nil {
			problems = append(problems, raw+": not a message id")
			continue
		}
		if action == "retry" {
			_, err = h.gw.Retry(c.Request.Context(), v.User.ID, id)
		} else {
			_, err = h.gw.Dismiss(c.Request.Context(), v.User.ID, id)
		}
		switch {
		case err == nil:
			done++
		case errors.Is(err, gateway.ErrNotFound), errors.Is(err, gateway.ErrConflict):
			problems = append(problems, raw+": "+strings.TrimPrefix(err.Error(), "gateway: "))
		default:
			h.fail(c, err)
			return
		}
	}
	verb := map[string]string{"retry": "Retrying", "dismiss": "Dismissed"}[action]
	notice := verb + " " + plural(done, "message")
	if len(problems) > 0 {
		notice += "; not done: " + strings.Join(problems, "; ")
	}
	back := "/failures"
	if batch, err := model.ParseID(c.PostForm("batch")); err == nil {
		back += "?batch=" + batch.String()
	}
	h.redirectWith(c, back, flashNotice, notice+".")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func isNotFound(err error) bool { return errors.Is(err, gateway.ErrNotFound) }

// simLabels names each modem as staff know it: by its SIM's phone number
// ("SIM +447700900001"), else its operator, rather than by the IMEI the
// store keeps.
func simLabels(modems []model.ModemStatus) map[string]string {
	out := make(map[string]string, len(modems))
	for _, m := range modems {
		switch {
		case m.Number != "":
			out[m.Name] = "SIM " + m.Number
		case m.Operator != "":
			out[m.Name] = m.Operator + " SIM"
		}
	}
	return out
}

// simLabel is the label of the modem named name, or the name itself for a
// modem not plugged in now (or one without a number or operator).
func simLabel(labels map[string]string, name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	return name
}
