// Package api serves gsmgate's JSON API under /api/v1 and its OpenAPI
// document. Handlers are thin: they parse and check the request's shape,
// call the core (package gateway, through the small interfaces in core.go),
// and render the API's JSON shapes (views.go); the rules (validation,
// visibility, paging) are the core's. Errors map to the one catalogue in
// webui/httpkit.
package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// Server is the /api/v1 handler set.
type Server struct {
	msgs     sender
	inbox    inbox
	contacts contacts
	health   health
	events   events
	hooks    Webhooks
	admin    admin
	bulk     Bulk
	sh       *httpkit.Shared
	routes   []httpkit.Route
}

// New builds the API over the core and the webhook registry.
func New(core *gateway.Service, hooks Webhooks, sh *httpkit.Shared) *Server {
	return &Server{msgs: core, inbox: core, contacts: core, health: core, events: core, hooks: hooks, admin: core, bulk: core, sh: sh}
}

// Routes lists the routes Mount registered, with their scopes.
func (s *Server) Routes() []httpkit.Route { return s.routes }

// Mount registers /api/v1 on e.
func (s *Server) Mount(e *gin.Engine) {
	api := e.Group("/api/v1", s.validQuery)
	api.GET("/openapi.json", s.openapi)
	authed := api.Group("", s.bearerAuth)
	add := func(method, path, scope string, h gin.HandlerFunc) {
		s.routes = append(s.routes, httpkit.Route{Method: method, Path: "/api/v1" + path, Scope: scope})
		authed.Handle(method, path, s.require(scope), h)
	}
	add(http.MethodPost, "/messages", httpkit.ScopeSend, s.postMessages)
	add(http.MethodGet, "/messages", httpkit.ScopeRead, s.listMessages)
	add(http.MethodGet, "/messages/:id", httpkit.ScopeRead, s.getMessage)
	add(http.MethodPost, "/messages/:id/retry", httpkit.ScopeSend, s.retryMessage)
	add(http.MethodDelete, "/messages/:id", httpkit.ScopeSend, s.cancelMessage)
	add(http.MethodGet, "/conversations", httpkit.ScopeRead, s.listConversations)
	add(http.MethodGet, "/conversations/:number/messages", httpkit.ScopeRead, s.conversationMessages)
	add(http.MethodPost, "/conversations/:number/read", httpkit.ScopeRead, s.markRead)
	add(http.MethodGet, "/notifications", httpkit.ScopeRead, s.listNotifications)
	add(http.MethodDelete, "/notifications", httpkit.ScopeRead, s.clearNotifications)
	add(http.MethodGet, "/failures", httpkit.ScopeRead, s.listFailures)
	add(http.MethodPut, "/contacts/:number", httpkit.ScopeSend, s.putContact)
	add(http.MethodGet, "/contacts/:number", httpkit.ScopeRead, s.getContact)
	add(http.MethodDelete, "/contacts/:number", httpkit.ScopeSend, s.deleteContact)
	add(http.MethodGet, "/modems", httpkit.ScopeRead, s.listModems)
	add(http.MethodPost, "/count", httpkit.ScopeRead, s.count)
	add(http.MethodGet, "/events", httpkit.ScopeRead, s.streamEvents)
	add(http.MethodPost, "/webhooks", httpkit.ScopeAdmin, s.createWebhook)
	add(http.MethodGet, "/webhooks", httpkit.ScopeAdmin, s.listWebhooks)
	add(http.MethodGet, "/webhooks/:id", httpkit.ScopeAdmin, s.getWebhook)
	add(http.MethodDelete, "/webhooks/:id", httpkit.ScopeAdmin, s.deleteWebhook)
	add(http.MethodPost, "/webhooks/:id/deliveries/:delivery/redeliver", httpkit.ScopeAdmin, s.redeliver)
	s.mountAdmin(add)
	s.bulkRoutes(add)
}

// validQuery refuses a query string that is not valid URL encoding
// (?cursor=%%%): Go's parser drops such a parameter, and a listing would
// silently start from the top.
func (s *Server) validQuery(c *gin.Context) {
	if _, err := url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"query": c.Request.URL.RawQuery}, "the query string is not valid URL encoding: %v", err))
		return
	}
	c.Next()
}
