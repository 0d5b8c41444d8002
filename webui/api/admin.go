package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// The admin routes: users, tokens, settings, the unassigned inbox and the
// audit log. The route needs the admin scope; the core checks again that
// the token's user is an enabled admin at that moment (a token keeps its
// scopes when its user is demoted).

// admin is what the admin routes need from the core.
type admin interface {
	RequireAdmin(ctx context.Context, id model.ID) error
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
}

func actor(c *gin.Context) gateway.Actor { return httpkit.PrincipalFrom(c).Actor() }

func (s *Server) mountAdmin(add func(method, path, scope string, h gin.HandlerFunc)) {
	add(http.MethodGet, "/users", httpkit.ScopeAdmin, s.listUsers)
	add(http.MethodPost, "/users", httpkit.ScopeAdmin, s.createUser)
	add(http.MethodPatch, "/users/:id", httpkit.ScopeAdmin, s.patchUser)
	add(http.MethodPost, "/users/:id/password", httpkit.ScopeAdmin, s.resetPassword)
	add(http.MethodGet, "/tokens", httpkit.ScopeAdmin, s.listTokens)
	add(http.MethodPost, "/tokens", httpkit.ScopeAdmin, s.createToken)
	add(http.MethodDelete, "/tokens/:id", httpkit.ScopeAdmin, s.revokeToken)
	add(http.MethodGet, "/settings", httpkit.ScopeAdmin, s.getSettings)
	add(http.MethodPatch, "/settings", httpkit.ScopeAdmin, s.patchSettings)
	add(http.MethodGet, "/unassigned", httpkit.ScopeAdmin, s.listUnassigned)
	add(http.MethodPost, "/unassigned/:number/assign", httpkit.ScopeAdmin, s.assign)
	add(http.MethodGet, "/audit", httpkit.ScopeAdmin, s.listAudit)
}

// UserView is a user as the admin routes show it.
type UserView struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Role            model.Role       `json:"role"`
	Visibility      model.Visibility `json:"visibility"`
	IncludeMarketed bool             `json:"include_marketed"`
	Disabled        bool             `json:"disabled"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
}

func viewUser(u model.User) UserView {
	return UserView{ID: u.ID.String(), Name: u.Name, Role: u.Role, Visibility: u.Visibility,
		IncludeMarketed: u.IncludeMarketedWhenSorting, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.admin.AdminUsers(c.Request.Context(), actor(c))
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, viewUser(u))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[UserView]{Items: out})
}

func (s *Server) createUser(c *gin.Context) {
	var b struct {
		Name            string           `json:"name"`
		Password        string           `json:"password"`
		Role            model.Role       `json:"role"`
		Visibility      model.Visibility `json:"visibility"`
		IncludeMarketed *bool            `json:"include_marketed"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	u, err := s.admin.AddUser(c.Request.Context(), actor(c), gateway.UserSpec{Name: b.Name, Password: b.Password,
		Role: b.Role, Visibility: b.Visibility, IncludeMarketed: b.IncludeMarketed})
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusCreated, viewUser(u))
}

// pathID reads an {id} path parameter naming a thing of kind.
func (s *Server) pathID(c *gin.Context, kind string) (model.ID, bool) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		s.sh.Fail(c, httpkit.ErrNotFound.With(map[string]string{"id": c.Param("id")}, "no %s %q", kind, c.Param("id")))
		return 0, false
	}
	return id, true
}

func (s *Server) patchUser(c *gin.Context) {
	id, ok := s.pathID(c, "user")
	if !ok {
		return
	}
	var b struct {
		Role            *model.Role       `json:"role"`
		Visibility      *model.Visibility `json:"visibility"`
		IncludeMarketed *bool             `json:"include_marketed"`
		Disabled        *bool             `json:"disabled"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	u, err := s.admin.ChangeUser(c.Request.Context(), actor(c), id, gateway.UserUpdate{Role: b.Role, Visibility: b.Visibility,
		IncludeMarketedWhenSorting: b.IncludeMarketed, Disabled: b.Disabled})
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewUser(u))
}

func (s *Server) resetPassword(c *gin.Context) {
	id, ok := s.pathID(c, "user")
	if !ok {
		return
	}
	var b struct {
		Password *string `json:"password"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	if b.Password == nil {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "password"}, "password: required"))
		return
	}
	if _, err := s.admin.ChangeUser(c.Request.Context(), actor(c), id, gateway.UserUpdate{Password: b.Password}); err != nil {
		s.sh.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// TokenView is a token as the admin routes list it (never its secret).
type TokenView struct {
	ID         string        `json:"id"`
	Name       string        `json:"name"`
	UserID     string        `json:"user_id"`
	User       string        `json:"user"`
	Scopes     []model.Scope `json:"scopes"`
	Prefix     string        `json:"prefix"`
	CreatedAt  time.Time     `json:"created_at"`
	ExpiresAt  time.Time     `json:"expires_at,omitzero"`
	LastUsedAt time.Time     `json:"last_used_at,omitzero"`
}

func viewToken(t model.Token, user string) TokenView {
	return TokenView{ID: t.ID.String(), Name: t.Name, UserID: t.UserID.String(), User: user, Scopes: t.Scopes,
		Prefix: t.Prefix, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt}
}

// NewTokenView is the answer to POST /api/v1/tokens: the secret, shown
// this once.
type NewTokenView struct {
	Token  TokenView `json:"token"`
	Secret string    `json:"secret"`
}

func (s *Server) listTokens(c *gin.Context) {
	ts, err := s.admin.AdminTokens(c.Request.Context(), actor(c))
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewToken(t.Token, t.UserName))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[TokenView]{Items: out})
}

func (s *Server) createToken(c *gin.Context) {
	var b struct {
		UserID    *model.ID     `json:"user_id"`
		Name      string        `json:"name"`
		Scopes    []model.Scope `json:"scopes"`
		ExpiresAt time.Time     `json:"expires_at"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	p := httpkit.PrincipalFrom(c)
	uid, user := p.UserID, p.User
	if b.UserID != nil {
		uid, user = *b.UserID, ""
	}
	if !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(s.sh.Now()) {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "expires_at"}, "expires_at is in the past"))
		return
	}
	t, secret, err := s.admin.IssueToken(c.Request.Context(), actor(c), uid, b.Name, b.Scopes, b.ExpiresAt)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	if user == "" {
		if us, err := s.admin.AdminUsers(c.Request.Context(), actor(c)); err == nil {
			for _, u := range us {
				if u.ID == uid {
					user = u.Name
				}
			}
		}
	}
	c.Header("Cache-Control", "no-store")
	httpkit.WriteJSON(c, http.StatusCreated, NewTokenView{Token: viewToken(t, user), Secret: secret})
}

func (s *Server) revokeToken(c *gin.Context) {
	id, ok := s.pathID(c, "token")
	if !ok {
		return
	}
	if err := s.admin.RevokeTokenAs(c.Request.Context(), actor(c), id); err != nil {
		s.sh.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// SettingsView is GET /api/v1/settings.
type SettingsView struct {
	DefaultCountry         string           `json:"default_country"`
	RetentionDays          int              `json:"retention_days"`
	DefaultVisibility      model.Visibility `json:"default_visibility"`
	DefaultIncludeMarketed bool             `json:"default_include_marketed"`
}

func (s *Server) getSettings(c *gin.Context) {
	set, err := s.admin.AdminSettings(c.Request.Context(), actor(c))
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, SettingsView(set))
}

func (s *Server) patchSettings(c *gin.Context) {
	var b struct {
		DefaultCountry         *string           `json:"default_country"`
		RetentionDays          *int              `json:"retention_days"`
		DefaultVisibility      *model.Visibility `json:"default_visibility"`
		DefaultIncludeMarketed *bool             `json:"default_include_marketed"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	set, err := s.admin.UpdateSettings(c.Request.Context(), actor(c), gateway.SettingsUpdate(b))
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, SettingsView(set))
}

func (s *Server) listUnassigned(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	cs, err := s.inbox.Conversations(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, gateway.ConversationQuery{Unassigned: true, Page: p})
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]ConversationView, 0, len(cs.Items))
	for _, cv := range cs.Items {
		out = append(out, viewConversation(cv))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[ConversationView]{Items: out, NextCursor: cs.Next})
}

// AssignedView answers POST /api/v1/unassigned/{number}/assign.
type AssignedView struct {
	Number   string `json:"number"`
	UserID   string `json:"user_id"`
	Messages int    `json:"messages"`
}

func (s *Server) assign(c *gin.Context) {
	number, ok := s.pathConversation(c)
	if !ok {
		return
	}
	var b struct {
		UserID *model.ID `json:"user_id"`
	}
	if !s.sh.Bind(c, &b) {
		return
	}
	if b.UserID == nil {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "user_id"}, "user_id: required"))
		return
	}
	n, err := s.admin.AssignConversation(c.Request.Context(), actor(c), number, *b.UserID)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, AssignedView{Number: number, UserID: b.UserID.String(), Messages: n})
}

// AuditView is one entry of GET /api/v1/audit.
type AuditView struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	ActorID string    `json:"actor_id,omitempty"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Detail  string    `json:"detail,omitempty"`
}

func (s *Server) listAudit(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	es, err := s.admin.AuditLog(c.Request.Context(), actor(c), p)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]AuditView, 0, len(es.Items))
	for _, e := range es.Items {
		v := AuditView{ID: e.ID.String(), At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail}
		if e.ActorID != 0 {
			v.ActorID = e.ActorID.String()
		}
		out = append(out, v)
	}
	httpkit.WriteJSON(c, http.StatusOK, List[AuditView]{Items: out, NextCursor: es.Next})
}
