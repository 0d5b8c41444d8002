package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

type usersData struct {
	Flash    flashData
	Users    []model.User
	Me       model.ID
	Defaults model.Settings
}

func (h *Handler) adminUsersPage(c *gin.Context) {
	us, err := h.admin.AdminUsers(c.Request.Context(), actorOf(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	set, err := h.admin.AdminSettings(c.Request.Context(), actorOf(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "admin-users", "Users", usersData{Flash: h.flash(c), Users: us, Me: viewerOf(c).User.ID, Defaults: set})
}

func (h *Handler) adminUserAdd(c *gin.Context) {
	sp := gateway.UserSpec{Name: c.PostForm("name"), Password: c.PostForm("password"),
		Role: model.Role(c.PostForm("role")), Visibility: model.Visibility(c.PostForm("visibility"))}
	mkt := c.PostForm("include_marketed") == "on"
	sp.IncludeMarketed = &mkt
	u, err := h.admin.AddUser(c.Request.Context(), actorOf(c), sp)
	h.adminDone(c, "/admin/users", err, "Added "+u.Name+". They can log in now.")
}

// adminUserChange saves one row of the users table: role, visibility and
// include-marketed. The user's next page shows the change.
func (h *Handler) adminUserChange(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	role, vis := model.Role(c.PostForm("role")), model.Visibility(c.PostForm("visibility"))
	mkt := c.PostForm("include_marketed") == "on"
	u, err := h.admin.ChangeUser(c.Request.Context(), actorOf(c), id, gateway.UserUpdate{Role: &role, Visibility: &vis, IncludeMarketedWhenSorting: &mkt})
	h.adminDone(c, "/admin/users", err, "Saved "+u.Name+".")
}

// adminUserDisable disables (or enables again) a user: their sessions
// and tokens stop working at once.
func (h *Handler) adminUserDisable(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	off := c.PostForm("disabled") == "1"
	u, err := h.admin.ChangeUser(c.Request.Context(), actorOf(c), id, gateway.UserUpdate{Disabled: &off})
	msg := "Enabled " + u.Name + "."
	if off {
		msg = "Disabled " + u.Name + ": they are logged out and their API tokens are refused."
	}
	h.adminDone(c, "/admin/users", err, msg)
}

func (h *Handler) adminUserPassword(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	pw := c.PostForm("password")
	u, err := h.admin.ChangeUser(c.Request.Context(), actorOf(c), id, gateway.UserUpdate{Password: &pw})
	h.adminDone(c, "/admin/users", err, "New password set for "+u.Name+"; tell them in person.")
}
