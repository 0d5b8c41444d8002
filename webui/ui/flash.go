package ui

import (
	"encoding/base64"
	"net/http"

	"github.com/gin-gonic/gin"
)

// A form's outcome ("Retrying 2 messages", "Not sent: …") is shown on the
// page the post redirects to. It travels in a short-lived cookie rather
// than in the URL, so that a link cannot make the page say anything.
const flashCookie = "gsmgate_flash"

// Flash kinds.
const (
	flashNotice = "n"
	flashError  = "e"
)

// redirectWith redirects (303) to path with a message for the next page.
func (h *Handler) redirectWith(c *gin.Context, path, kind, msg string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(kind + msg)),
		Path: "/", MaxAge: 60, HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusSeeOther, path)
}

// takeFlash reads and clears the message left by redirectWith.
func (h *Handler) takeFlash(c *gin.Context) (kind, msg string) {
	ck, err := c.Request.Cookie(flashCookie)
	if err != nil {
		return "", ""
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) < 1 {
		return "", ""
	}
	return string(b[:1]), string(b[1:])
}
