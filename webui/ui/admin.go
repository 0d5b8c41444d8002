package ui

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// The admin pages: users, tokens, webhooks, settings, the unassigned
// inbox, the audit log and the modems dashboard. Same layout and rules as
// the staff pages (session, CSRF, post/redirect/get); every change goes
// through the core's admin calls with the logged-in user as the actor, so
// the core checks the role again and writes the audit log.

// Admin is what the admin pages need from the core.
type Admin interface {
	AdminUsers(ctx context.Context, a gateway.Actor) ([]model.User, error)
	AddUser(ctx context.Context, a gateway.Actor, sp gateway.UserSpec) (model.User, error)
	ChangeUser(ctx context.Context, a gateway.Actor, id model.ID, up gateway.UserUpdate) (model.User, error)
	AdminTokens(ctx context.Context, a gateway.Actor) ([]gateway.TokenInfo, error)
	IssueToken(ctx context.Context, a gateway.Actor, userID model.ID, name string, scopes []model.Scope, expiresAt time.Time) (model.Token, string, error)
	RevokeTokenAs(ctx context.Context, a gateway.Actor, tokenID model.ID) error
	AdminSettings(ctx context.Context, a gateway.Actor) (model.Settings, error)
	UpdateSettings(ctx context.Context, a gateway.Actor, up gateway.SettingsUpdate) (model.Settings, error)
	AssignConversation(ctx context.Context, a gateway.Actor, number string, userID model.ID) (int, error)
	AuditLog(ctx context.Context, a gateway.Actor, p gateway.Page) (gateway.Paged[model.AuditEntry], error)
	ModemDashboard(ctx context.Context, a gateway.Actor) (gateway.Dashboard, error)
	NeedsSetup(ctx context.Context) (bool, error)
	CheckSetupCode(code string) bool
	SetupFirstAdmin(ctx context.Context, name, password string) (model.User, error)
}

// Webhooks is what the webhooks page needs from the webhook sender.
type Webhooks interface {
	Create(ctx context.Context, h model.Webhook) (model.Webhook, error)
	List(ctx context.Context, userID model.ID) ([]model.Webhook, error)
	Delete(ctx context.Context, id model.ID) error
	Deliveries(ctx context.Context, id model.ID, limit int) ([]model.WebhookDelivery, error)
	Redeliver(ctx context.Context, webhookID, deliveryID model.ID) (model.WebhookDelivery, error)
}

// requireAdmin lets only admins through (the core checks again on each
// call); others get a plain 403 page.
func (h *Handler) requireAdmin(c *gin.Context) {
	if !viewerOf(c).admin() || h.admin == nil {
		c.String(http.StatusForbidden, "this page is for admins")
		c.Abort()
		return
	}
	c.Next()
}

// actorOf is the session's principal as the core's admin calls take it,
// the same helper the API's admin routes use.
func actorOf(c *gin.Context) gateway.Actor { return httpkit.PrincipalFrom(c).Actor() }

// adminTabs are the admin pages' sub-navigation.
var adminTabs = []struct{ Page, Path, Label string }{
	{"admin-users", "/admin/users", "Users"},
	{"admin-tokens", "/admin/tokens", "API tokens"},
	{"admin-webhooks", "/admin/webhooks", "Webhooks"},
	{"admin-unassigned", "/admin/unassigned", "Unassigned"},
	{"admin-modems", "/admin/modems", "Modems"},
	{"admin-settings", "/admin/settings", "Settings"},
	{"admin-audit", "/admin/audit", "Audit log"},
}

// problem says a refused change in words for the page.
func problem(err error) (string, bool) {
	var ve *gateway.ValidationError
	switch {
	case errors.As(err, &ve):
		parts := make([]string, 0, len(ve.Fields))
		for _, f := range ve.Fields {
			parts = append(parts, strings.ReplaceAll(f.Field, "_", " ")+": "+f.Reason)
		}
		return strings.Join(parts, "; ") + ".", true
	case errors.Is(err, gateway.ErrExists):
		return "That name is taken.", true
	case errors.Is(err, gateway.ErrLastAdmin):
		return "You are the last admin: make another user admin first.", true
	case errors.Is(err, gateway.ErrConflict):
		return strings.TrimPrefix(err.Error(), "gateway: conflict: "), true
	case errors.Is(err, gateway.ErrNotFound):
		return "It is gone (someone else changed it); the page shows what is there now.", true
	}
	return "", false
}

// adminDone redirects to path with the outcome of a change: msg when it
// worked, the problem in words when the core refused it.
func (h *Handler) adminDone(c *gin.Context, path string, err error, msg string) {
	if err == nil {
		h.redirectWith(c, path, flashNotice, msg)
		return
	}
	if p, ok := problem(err); ok {
		h.redirectWith(c, path, flashError, p)
		return
	}
	h.fail(c, err)
}

func pathID(c *gin.Context) (model.ID, bool) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		c.String(http.StatusNotFound, "not found")
		c.Abort()
		return 0, false
	}
	return id, true
}

// flashData is the notice or error a page shows at its top.
type flashData struct {
	Notice, Error string
}

func (h *Handler) flash(c *gin.Context) flashData {
	kind, msg := h.takeFlash(c)
	if kind == flashError {
		return flashData{Error: msg}
	}
	return flashData{Notice: msg}
}
