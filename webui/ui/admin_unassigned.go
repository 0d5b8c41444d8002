package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

type unassignedData struct {
	Flash flashData
	Convs []model.Conversation
	Users []model.User
	Next  string
}

func (h *Handler) adminUnassignedPage(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := h.gw.Conversations(ctx, viewerOf(c).User.ID, gateway.ConversationQuery{Unassigned: true, Page: gateway.Page{Cursor: c.Query("cursor"), Limit: 50}})
	if err != nil {
		h.fail(c, err)
		return
	}
	us, err := h.admin.AdminUsers(ctx, actorOf(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	active := us[:0]
	for _, u := range us {
		if !u.Disabled {
			active = append(active, u)
		}
	}
	h.render(c, http.StatusOK, "admin-unassigned", "Unassigned inbox", unassignedData{Flash: h.flash(c), Convs: p.Items, Users: active, Next: p.Next})
}

func (h *Handler) adminAssign(c *gin.Context) {
	uid, err := model.ParseID(c.PostForm("user"))
	if err != nil {
		h.redirectWith(c, "/admin/unassigned", flashError, "Choose whom to give the conversation to.")
		return
	}
	number := c.PostForm("number")
	_, err = h.admin.AssignConversation(c.Request.Context(), actorOf(c), number, uid)
	h.adminDone(c, "/admin/unassigned", err, "Assigned "+number+".")
}
