package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// A bulk send's live progress (GET /bulk/{batch}): a bar of sent,
// delivered and failed, "cancel the rest", and once everything is final a
// summary whose failures link to Send Failures. The script reloads the
// progress block (?partial=progress) every second until it is done;
// polling one small fragment keeps the script tiny and a 10,000-recipient
// send from pushing an event per message to the page.

type progressView struct {
	BatchID   string
	Campaign  model.Campaign
	Total     int
	Queued    int // queued or being submitted
	Sent      int // sent, not (yet) delivered
	Delivered int
	Failed    int // failed, expired or unknown
	Cancelled int
	// Percent is the share of messages in a final state or sent.
	Percent int
	// Widths of the bar's segments, in percent of the total.
	SentW, DeliveredW, FailedW, CancelledW float64
	Done                                   bool
	FailedIDs                              []string
	Notice                                 string
	// CSRF is the session's form token (the fragment has no layout).
	CSRF string
}

func progressOf(p gateway.CampaignProgress) progressView {
	v := progressView{BatchID: p.Campaign.BatchID.String(), Campaign: p.Campaign, Total: p.Total}
	for st, n := range p.Counts {
		switch {
		case st == model.StateDelivered:
			v.Delivered += n
		case st == model.StateSent:
			v.Sent += n
		case st == model.StateCancelled:
			v.Cancelled += n
		case st.IsFailure():
			v.Failed += n
		default:
			v.Queued += n
		}
	}
	v.Percent = int(p.Done * 100)
	if p.Done >= 1 {
		v.Percent = 100
	}
	if v.Total > 0 {
		t := float64(v.Total)
		v.SentW, v.DeliveredW = 100*float64(v.Sent)/t, 100*float64(v.Delivered)/t
		v.FailedW, v.CancelledW = 100*float64(v.Failed)/t, 100*float64(v.Cancelled)/t
	}
	v.Done = v.Queued == 0
	for _, id := range p.Failed {
		v.FailedIDs = append(v.FailedIDs, id.String())
	}
	return v
}

func (h *Handler) campaignOf(c *gin.Context) (gateway.CampaignProgress, bool) {
	id, err := model.ParseID(c.Param("batch"))
	if err != nil {
		c.String(http.StatusNotFound, "not found")
		return gateway.CampaignProgress{}, false
	}
	p, err := h.gw.Campaign(c.Request.Context(), viewerOf(c).User.ID, id)
	if err != nil {
		h.fail(c, err)
		return p, false
	}
	return p, true
}

func (h *Handler) bulkProgress(c *gin.Context) {
	p, ok := h.campaignOf(c)
	if !ok {
		return
	}
	v := progressOf(p)
	v.CSRF = viewerOf(c).Session.CSRF
	if c.Query("partial") == "progress" {
		h.renderRaw(c, http.StatusOK, "campaign", "progress", v)
		return
	}
	_, v.Notice = h.takeFlash(c)
	h.render(c, http.StatusOK, "campaign", "Bulk send · "+p.Campaign.Name, v)
}

// bulkCancel cancels what is not yet handed to a modem.
func (h *Handler) bulkCancel(c *gin.Context) {
	p, ok := h.campaignOf(c)
	if !ok {
		return
	}
	n, err := h.gw.CancelCampaign(c.Request.Context(), viewerOf(c).User.ID, p.Campaign.BatchID)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.redirectWith(c, "/bulk/"+p.Campaign.BatchID.String(), flashNotice, "Cancelled "+plural(n, "message")+" not yet sent.")
}
