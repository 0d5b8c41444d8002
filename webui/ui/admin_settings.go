package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

type adminSettingsData struct {
	Flash    flashData
	Settings model.Settings
}

func (h *Handler) adminSettingsPage(c *gin.Context) {
	set, err := h.admin.AdminSettings(c.Request.Context(), actorOf(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "admin-settings", "Appliance settings", adminSettingsData{Flash: h.flash(c), Settings: set})
}

func (h *Handler) adminSettingsSave(c *gin.Context) {
	country := c.PostForm("default_country")
	vis := model.Visibility(c.PostForm("default_visibility"))
	mkt := c.PostForm("default_include_marketed") == "on"
	up := gateway.SettingsUpdate{DefaultCountry: &country, DefaultVisibility: &vis, DefaultIncludeMarketed: &mkt}
	days, err := strconv.Atoi(c.PostForm("retention_days"))
	if err != nil {
		h.redirectWith(c, "/admin/settings", flashError, "Retention: a whole number of days (0 keeps messages forever).")
		return
	}
	up.RetentionDays = &days
	_, err = h.admin.UpdateSettings(c.Request.Context(), actorOf(c), up)
	h.adminDone(c, "/admin/settings", err, "Saved. The new settings apply now.")
}
