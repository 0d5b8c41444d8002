package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

type loginData struct {
	Next   string
	Name   string
	Error  string
	Notice string
}

// safeNext keeps a post-login redirect on this site: a path, not a URL
// ("//evil.example" and "/\evil" are other hosts to a browser).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

// loginPage shows the form (or goes on when already logged in).
func (h *Handler) loginPage(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if ck, err := c.Request.Cookie(CookieName); err == nil {
		if _, _, err := h.gw.SessionByToken(c.Request.Context(), ck.Value); err == nil {
			c.Redirect(http.StatusSeeOther, next)
			return
		}
	}
	// First run: no user can log in yet; the setup page makes the first.
	if h.admin != nil {
		if need, err := h.admin.NeedsSetup(c.Request.Context()); err == nil && need {
			c.Redirect(http.StatusSeeOther, "/setup")
			return
		}
	}
	d := loginData{Next: next}
	if kind, msg := h.takeFlash(c); kind == flashNotice {
		d.Notice = msg
	}
	h.render(c, http.StatusOK, "login", "Log in", d)
}

// loginSubmit checks the password, starts a session and goes to next.
func (h *Handler) loginSubmit(c *gin.Context) {
	name := strings.TrimSpace(c.PostForm("username"))
	pw := c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	data := loginData{Next: next, Name: name}
	if err := h.limits.allow(name, c.ClientIP(), h.opt.Now()); err != nil {
		data.Error = err.Error()
		h.render(c, http.StatusTooManyRequests, "login", "Log in", data)
		return
	}
	u, err := h.gw.Login(c.Request.Context(), name, pw)
	if err != nil {
		if !errors.Is(err, gateway.ErrUnauthorized) {
			h.log.Error("ui: login", "error", err)
		}
		data.Error = "Wrong user name or password."
		h.render(c, http.StatusUnauthorized, "login", "Log in", data)
		return
	}
	secret, sess, err := h.gw.CreateSession(c.Request.Context(), u.ID, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		h.log.Error("ui: create session", "user", u.Name, "error", err)
		data.Error = "The session could not be started; try again."
		h.render(c, http.StatusInternalServerError, "login", "Log in", data)
		return
	}
	h.log.Info("ui: login", "user", u.Name, "address", c.ClientIP())
	h.setCookie(c, secret, sess.ExpiresAt)
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session in the database, not only in the browser.
func (h *Handler) logout(c *gin.Context) {
	v := viewerOf(c)
	if err := h.gw.Logout(c.Request.Context(), v.secret); err != nil {
		h.log.Error("ui: logout", "error", err)
	}
	h.clearCookie(c)
	c.Redirect(http.StatusSeeOther, "/login")
}
