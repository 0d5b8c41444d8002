package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// notificationClear removes one of the viewer's sidebar notifications.
func (h *Handler) notificationClear(c *gin.Context) {
	v := viewerOf(c)
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		c.String(http.StatusBadRequest, "bad notification id")
		return
	}
	if err := h.gw.ClearNotification(c.Request.Context(), v.User.ID, id); err != nil && !isNotFound(err) {
		h.fail(c, err)
		return
	}
	h.afterAction(c)
}

// notificationsClear removes all of them.
func (h *Handler) notificationsClear(c *gin.Context) {
	v := viewerOf(c)
	if _, err := h.gw.ClearNotifications(c.Request.Context(), v.User.ID); err != nil {
		h.fail(c, err)
		return
	}
	h.afterAction(c)
}

// afterAction answers a script with 204 and a form with a redirect back.
func (h *Handler) afterAction(c *gin.Context) {
	if c.Request.Header.Get("X-Requested-With") == "fetch" {
		c.Status(http.StatusNoContent)
		return
	}
	back := safeNext(c.PostForm("back"))
	c.Redirect(http.StatusSeeOther, back)
}
