package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/webhook"
)

type webhookRow struct {
	Hook       model.Webhook
	Deliveries []model.WebhookDelivery
}

type webhooksData struct {
	Flash  flashData
	Hooks  []webhookRow
	Events []string
}

func (h *Handler) adminWebhooksPage(c *gin.Context) {
	ctx := c.Request.Context()
	hs, err := h.hooks.List(ctx, 0)
	if err != nil {
		h.fail(c, err)
		return
	}
	d := webhooksData{Flash: h.flash(c), Events: webhook.Events()}
	for _, hk := range hs {
		ds, err := h.hooks.Deliveries(ctx, hk.ID, 10)
		if err != nil {
			h.fail(c, err)
			return
		}
		d.Hooks = append(d.Hooks, webhookRow{Hook: hk, Deliveries: ds})
	}
	h.render(c, http.StatusOK, "admin-webhooks", "Webhooks", d)
}

func (h *Handler) adminWebhookAdd(c *gin.Context) {
	_, err := h.hooks.Create(c.Request.Context(), model.Webhook{URL: c.PostForm("url"), Events: c.PostFormArray("events"), Secret: c.PostForm("secret")})
	if err != nil {
		if msg, ok := webhookProblem(err); ok {
			h.redirectWith(c, "/admin/webhooks", flashError, msg)
			return
		}
	}
	h.adminDone(c, "/admin/webhooks", err, "Webhook added.")
}

func (h *Handler) adminWebhookDelete(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	h.adminDone(c, "/admin/webhooks", h.hooks.Delete(c.Request.Context(), id), "Webhook deleted.")
}

func (h *Handler) adminWebhookRedeliver(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	did, err := model.ParseID(c.Param("delivery"))
	if err != nil {
		c.String(http.StatusNotFound, "not found")
		return
	}
	_, err = h.hooks.Redeliver(c.Request.Context(), id, did)
	h.adminDone(c, "/admin/webhooks", err, "Queued again; it is sent in a moment.")
}

// webhookProblem says a refused webhook in words.
func webhookProblem(err error) (string, bool) {
	var ie *webhook.InvalidError
	if errors.As(err, &ie) {
		return ie.Field + ": " + ie.Msg + ".", true
	}
	return "", false
}
