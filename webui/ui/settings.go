package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

type settingsData struct {
	IncludeMarketing bool
	Notice           string
	Error            string
}

func (h *Handler) settingsPage(c *gin.Context) {
	v := viewerOf(c)
	d := settingsData{IncludeMarketing: v.User.IncludeMarketedWhenSorting}
	_, d.Notice = h.takeFlash(c)
	h.render(c, http.StatusOK, "settings", "Settings", d)
}

// settingsMarketing sets "include marketed when sorting"; the next listing
// uses it (the script posts it as soon as the box is ticked).
func (h *Handler) settingsMarketing(c *gin.Context) {
	v := viewerOf(c)
	on := c.PostForm("include_marketing") == "on"
	if _, err := h.gw.SetIncludeMarketing(c.Request.Context(), v.User.ID, on); err != nil {
		h.fail(c, err)
		return
	}
	if c.Request.Header.Get("X-Requested-With") == "fetch" {
		c.Status(http.StatusNoContent)
		return
	}
	h.redirectWith(c, "/settings", flashNotice, "Saved.")
}

// settingsPassword changes the viewer's password; their other sessions end.
func (h *Handler) settingsPassword(c *gin.Context) {
	v := viewerOf(c)
	cur, next, again := c.PostForm("current"), c.PostForm("new"), c.PostForm("again")
	d := settingsData{IncludeMarketing: v.User.IncludeMarketedWhenSorting}
	if next != again {
		d.Error = "The two new passwords differ."
		h.render(c, http.StatusUnprocessableEntity, "settings", "Settings", d)
		return
	}
	err := h.gw.ChangePassword(c.Request.Context(), v.User.ID, cur, next, v.secret)
	var ve *gateway.ValidationError
	switch {
	case err == nil:
		h.redirectWith(c, "/settings", flashNotice, "Password changed; your other sessions have ended.")
		return
	case errors.Is(err, gateway.ErrUnauthorized):
		d.Error = "The current password is wrong."
	case errors.As(err, &ve):
		d.Error = "New password: " + ve.Fields[0].Reason + "."
	default:
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusUnprocessableEntity, "settings", "Settings", d)
}
