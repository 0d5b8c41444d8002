// Package ui is the staff web UI: server-rendered html/template pages, one
// file per page or action, on one shared layout (templates/layout.html),
// with a small plain JavaScript file and a stylesheet embedded from static/
// and served under content-hashed URLs.
//
// It owns the login session cookie, the cross-site request checks and the
// UI's event stream. It never decides who may see what: every read goes
// through the gateway with the logged-in user as the viewer, and the live
// events come from the core's Subscribe(viewer). Like the other web
// packages it imports the core (gateway, gateway/model) only, never
// gateway/store or a modem package.
package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// Gateway is what the UI needs from the core.
type Gateway interface {
	Login(ctx context.Context, name, password string) (model.User, error)
	CreateSession(ctx context.Context, userID model.ID, address, userAgent string) (string, model.Session, error)
	SessionByToken(ctx context.Context, secret string) (model.User, model.Session, error)
	Logout(ctx context.Context, secret string) error
	ChangePassword(ctx context.Context, userID model.ID, current, next, keep string) error
	SetIncludeMarketing(ctx context.Context, userID model.ID, on bool) (model.User, error)

	Conversations(ctx context.Context, viewer model.ID, q gateway.ConversationQuery) (gateway.Paged[model.Conversation], error)
	Search(ctx context.Context, viewer model.ID, query string, limit int) (gateway.SearchResult, error)
	Thread(ctx context.Context, viewer model.ID, number string, q gateway.Page) (gateway.ThreadPage, error)
	MarkRead(ctx context.Context, viewer model.ID, number string) (int, error)
	ConversationNumber(raw string) string
	Contact(ctx context.Context, number string) (model.Contact, error)
	Contacts(ctx context.Context, query string, limit int) ([]model.Contact, error)
	UpsertContact(ctx context.Context, in gateway.ContactInput) (model.Contact, error)

	Send(ctx context.Context, req gateway.SendRequest) (*gateway.SendResult, error)
	CountText(text string) model.TextCount
	CheckNumber(raw string) gateway.NumberCheck
	Options() gateway.Options

	Failures(ctx context.Context, viewer model.ID, q gateway.Page) (gateway.Paged[model.Message], error)
	// Modems names the modems a failure row says it was tried on.
	Modems(ctx context.Context) []model.ModemStatus
	BatchFailures(ctx context.Context, viewer, batch model.ID, q gateway.Page) (gateway.Paged[model.Message], error)
	Retry(ctx context.Context, viewer, id model.ID) (model.Message, error)
	Dismiss(ctx context.Context, viewer, id model.ID) (model.Message, error)

	Notifications(ctx context.Context, user model.ID, q gateway.Page) (gateway.NotificationPage, error)
	ClearNotification(ctx context.Context, user, id model.ID) error
	ClearNotifications(ctx context.Context, user model.ID) (int, error)

	// Bulk sends: their sources, preview, send and progress.
	Groups(ctx context.Context, viewer model.ID) ([]model.Group, error)
	SavedSearches(ctx context.Context, viewer model.ID) ([]model.SavedSearch, error)
	Templates(ctx context.Context, viewer model.ID) ([]model.Template, error)
	Template(ctx context.Context, viewer model.ID, id string) (model.Template, error)
	PreviewBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkPreview, error)
	SendBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkResult, error)
	Campaign(ctx context.Context, viewer, batch model.ID) (gateway.CampaignProgress, error)
	CancelCampaign(ctx context.Context, viewer, batch model.ID) (int, error)
	Campaigns(ctx context.Context, viewer model.ID, limit int) ([]model.Campaign, error)

	// Subscribe is the core's one visibility gate for live events.
	Subscribe(viewer model.ID) *gateway.Subscription
}

// CookieSecurity is when cookies are marked Secure (Options.SecureCookies).
type CookieSecurity int

const (
	CookiesSecureAuto CookieSecurity = iota
	CookiesSecureAlways
	CookiesSecureNever
)

// ParseCookieSecurity reads the configuration's "auto", "always" or
// "never".
func ParseCookieSecurity(s string) (CookieSecurity, error) {
	switch s {
	case "auto", "":
		return CookiesSecureAuto, nil
	case "always":
		return CookiesSecureAlways, nil
	case "never":
		return CookiesSecureNever, nil
	}
	return 0, fmt.Errorf("ui: secure cookies: want auto, always or never; got %q", s)
}

// Options tune the UI. The zero value of each field means its default.
type Options struct {
	// SecureCookies says when the session (and flash) cookies carry the
	// Secure flag: CookiesSecureAuto (the default) on a request that came
	// over TLS; CookiesSecureAlways also behind a TLS-terminating reverse
	// proxy, whose requests reach us over plain HTTP; CookiesSecureNever
	// not even over TLS.
	SecureCookies CookieSecurity
	// Limits, when set, rate-limits each session's state-changing requests
	// with the buckets the API's tokens use (webui.Options.Limits), keyed by
	// its httpkit.Principal: a script with a stolen cookie cannot post
	// faster than a token may.
	Limits *httpkit.Limiters
	// LoginPerMinute is how many login attempts one user name and one
	// address may make a minute (default 10; a burst of that many).
	LoginPerMinute int
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Heartbeat is the event stream's keep-alive comment period (default 15 s).
	Heartbeat time.Duration
	// Admin, when set, serves the admin pages (/admin/...) and the
	// first-run setup page; without it they answer 403.
	Admin Admin
	// Webhooks is the webhook sender's registry for the webhooks page.
	Webhooks Webhooks
}

// Handler serves the UI. Build it with New and mount it with Register.
type Handler struct {
	gw     Gateway
	opt    Options
	log    *slog.Logger
	pages  map[string]*template.Template
	static *assets
	limits *loginLimits
	cop    *http.CrossOriginProtection
	closed chan struct{}
	admin  Admin
	hooks  Webhooks
}

// New builds the UI over the gateway.
func New(gw Gateway, opt Options) (*Handler, error) {
	if gw == nil {
		return nil, errors.New("ui: nil gateway")
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.LoginPerMinute <= 0 {
		opt.LoginPerMinute = 10
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	st, err := loadAssets()
	if err != nil {
		return nil, err
	}
	h := &Handler{gw: gw, opt: opt, log: opt.Logger, static: st, limits: newLoginLimits(opt.LoginPerMinute),
		cop: http.NewCrossOriginProtection(), closed: make(chan struct{}), admin: opt.Admin, hooks: opt.Webhooks}
	if h.pages, err = parsePages(st); err != nil {
		return nil, err
	}
	return h, nil
}

// Close ends the open event streams (clients reconnect to the next
// process); serve calls it before http.Server.Shutdown.
func (h *Handler) Close() {
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
}

// Register mounts the UI's routes on r. State-changing requests pass the
// cross-origin check first; every page but the login page needs a session.
func (h *Handler) Register(r gin.IRouter) {
	r.GET("/static/:file", h.serveStatic)
	g := r.Group("", h.crossOrigin)
	g.GET("/login", h.loginPage)
	g.POST("/login", h.loginSubmit)
	if h.admin != nil {
		g.GET("/setup", h.setupPage)
		g.POST("/setup", h.setupSubmit)
	}

	a := g.Group("", h.requireSession)
	a.POST("/logout", h.logout)
	a.GET("/", h.smsView)
	a.GET("/conversations/:number", h.smsView)
	a.POST("/conversations/:number/send", h.replySend)
	a.POST("/conversations/:number/contact", h.contactAdd)
	a.GET("/compose", h.composePage)
	a.POST("/compose", h.composeSend)
	a.GET("/ui/recipient", h.recipientLookup)
	a.GET("/bulk", h.bulkPage)
	a.POST("/bulk/preview", h.bulkPreview)
	a.POST("/bulk/contacts", h.bulkContacts)
	a.POST("/bulk", h.bulkSend)
	a.GET("/bulk/:batch", h.bulkProgress)
	a.POST("/bulk/:batch/cancel", h.bulkCancel)
	a.POST("/ui/count", h.count)
	a.GET("/ui/events", h.events)
	a.POST("/notifications/clear", h.notificationsClear)
	a.POST("/notifications/:id/clear", h.notificationClear)
	a.GET("/failures", h.failuresPage)
	a.POST("/failures", h.failuresAction)
	a.POST("/failures/:action", h.failuresAction)
	a.GET("/settings", h.settingsPage)
	a.POST("/settings/marketing", h.settingsMarketing)
	a.POST("/settings/password", h.settingsPassword)

	ad := a.Group("/admin", h.requireAdmin)
	ad.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/admin/users") })
	ad.GET("/users", h.adminUsersPage)
	ad.POST("/users", h.adminUserAdd)
	ad.POST("/users/:id", h.adminUserChange)
	ad.POST("/users/:id/disable", h.adminUserDisable)
	ad.POST("/users/:id/password", h.adminUserPassword)
	ad.GET("/tokens", h.adminTokensPage)
	ad.POST("/tokens", h.adminTokenCreate)
	ad.POST("/tokens/:id/revoke", h.adminTokenRevoke)
	ad.GET("/webhooks", h.adminWebhooksPage)
	ad.POST("/webhooks", h.adminWebhookAdd)
	ad.POST("/webhooks/:id/delete", h.adminWebhookDelete)
	ad.POST("/webhooks/:id/deliveries/:delivery/redeliver", h.adminWebhookRedeliver)
	ad.GET("/settings", h.adminSettingsPage)
	ad.POST("/settings", h.adminSettingsSave)
	ad.GET("/unassigned", h.adminUnassignedPage)
	ad.POST("/unassigned/assign", h.adminAssign)
	ad.GET("/audit", h.adminAuditPage)
	ad.GET("/modems", h.adminModemsPage)
}

// crossOrigin refuses state-changing requests that a browser marks as
// coming from another origin (Go's CrossOriginProtection: Sec-Fetch-Site,
// then Origin against Host).
func (h *Handler) crossOrigin(c *gin.Context) {
	if err := h.cop.Check(c.Request); err != nil {
		h.log.Warn("ui: cross-origin request refused", "method", c.Request.Method, "path", c.Request.URL.Path,
			"origin", c.Request.Header.Get("Origin"), "sec_fetch_site", c.Request.Header.Get("Sec-Fetch-Site"))
		c.String(http.StatusForbidden, "cross-origin request refused")
		c.Abort()
		return
	}
	c.Next()
}
