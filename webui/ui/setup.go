package ui

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

// First run: with no user in the database every page leads here, where the
// first admin is made. Only a client on this machine (loopback) or one who
// gives the one-time setup code from the log may use it, so that the
// first person on the LAN cannot take the appliance. The address checked
// is the connection's own (RemoteAddr): a forwarded-for header is not
// trusted here, since anyone can send one.

type setupData struct {
	Local bool
	Name  string
	Error string
}

// fromLoopback reports whether the request's connection comes from this
// machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) setupPage(c *gin.Context) {
	need, err := h.admin.NeedsSetup(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	if !need {
		c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	h.render(c, http.StatusOK, "setup", "First-run setup", setupData{Local: fromLoopback(c.Request)})
}

func (h *Handler) setupSubmit(c *gin.Context) {
	d := setupData{Local: fromLoopback(c.Request), Name: c.PostForm("name")}
	if !d.Local && !h.admin.CheckSetupCode(strings.ToUpper(strings.TrimSpace(c.PostForm("code")))) {
		d.Error = "Wrong setup code. It is in the service's log: journalctl -u gsmgate | grep 'setup code'."
		h.render(c, http.StatusForbidden, "setup", "First-run setup", d)
		return
	}
	if c.PostForm("password") != c.PostForm("again") {
		d.Error = "The two passwords differ."
		h.render(c, http.StatusUnprocessableEntity, "setup", "First-run setup", d)
		return
	}
	_, err := h.admin.SetupFirstAdmin(c.Request.Context(), d.Name, c.PostForm("password"))
	if err != nil {
		if p, ok := problem(err); ok {
			d.Error = p
			status := http.StatusUnprocessableEntity
			if errors.Is(err, gateway.ErrConflict) {
				status = http.StatusConflict
			}
			h.render(c, status, "setup", "First-run setup", d)
			return
		}
		h.fail(c, err)
		return
	}
	h.redirectWith(c, "/login", flashNotice, "The appliance is set up: log in as "+d.Name+".")
}
