package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

type tokensData struct {
	Flash  flashData
	Tokens []gateway.TokenInfo
	Users  []model.User
	// New is the token just created, with its secret: shown on this one
	// answer only (the page is not cached and the secret is not kept).
	New       *gateway.TokenInfo
	NewSecret string
}

func (h *Handler) tokensData(c *gin.Context) (tokensData, bool) {
	var d tokensData
	var err error
	if d.Tokens, err = h.admin.AdminTokens(c.Request.Context(), actorOf(c)); err == nil {
		d.Users, err = h.admin.AdminUsers(c.Request.Context(), actorOf(c))
	}
	if err != nil {
		h.fail(c, err)
		return d, false
	}
	return d, true
}

func (h *Handler) adminTokensPage(c *gin.Context) {
	d, ok := h.tokensData(c)
	if !ok {
		return
	}
	d.Flash = h.flash(c)
	h.render(c, http.StatusOK, "admin-tokens", "API tokens", d)
}

// adminTokenCreate makes a token and shows its secret in the answer to
// the post itself, not after a redirect: the secret is never stored.
func (h *Handler) adminTokenCreate(c *gin.Context) {
	uid, err := model.ParseID(c.PostForm("user"))
	if err != nil {
		h.redirectWith(c, "/admin/tokens", flashError, "Choose whose token it is.")
		return
	}
	var scopes []model.Scope
	for _, s := range c.PostFormArray("scopes") {
		scopes = append(scopes, model.Scope(s))
	}
	var exp time.Time
	if days, err := strconv.Atoi(c.PostForm("expires_days")); err == nil && days > 0 {
		exp = time.Now().Add(time.Duration(days) * 24 * time.Hour)
	}
	t, secret, err := h.admin.IssueToken(c.Request.Context(), actorOf(c), uid, c.PostForm("name"), scopes, exp)
	if err != nil {
		h.adminDone(c, "/admin/tokens", err, "")
		return
	}
	d, ok := h.tokensData(c)
	if !ok {
		return
	}
	for i := range d.Tokens {
		if d.Tokens[i].ID == t.ID {
			d.New = &d.Tokens[i]
		}
	}
	d.NewSecret = secret
	h.render(c, http.StatusCreated, "admin-tokens", "API tokens", d)
}

func (h *Handler) adminTokenRevoke(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	err := h.admin.RevokeTokenAs(c.Request.Context(), actorOf(c), id)
	h.adminDone(c, "/admin/tokens", err, "Token revoked: its next request is refused.")
}
