// Package webui owns gsmgate's HTTP surface: the JSON API under /api/v1 (with
// its OpenAPI document), the SMSGate-compatible API under /3rdparty/v1,
// server-sent events, /healthz, /readyz and /metrics. Handlers are thin: they
// parse and check the request, call the gateway, and render; errors map to the
// one catalogue in errors.go.
//
// It never touches the database or a modem directly and never decides who
// may see a message: the gateway enforces visibility, webui passes it the
// acting user. A *gin.Context never leaves its request: workers get plain
// values and the request's context.
package webui

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are the API's limits and knobs.
type Options struct {
	// MaxBodyBytes bounds a request body (default 4 MiB).
	MaxBodyBytes int64
	// MaxRecipients bounds the recipients of one send (default 10,000).
	MaxRecipients int
	// MaxTextChars bounds the text of one message in characters (default
	// 1600, ten concatenated GSM parts).
	MaxTextChars int
	// RatePerSecond and RateBurst set each token's bucket (defaults 50, 100).
	RatePerSecond float64
	RateBurst     int
	// Logger receives request errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registry receives the metrics (default a new registry, served on
	// /metrics with the Go and process collectors).
	Registry *prometheus.Registry
	// UI, when set, mounts the staff web UI (package webui/ui) on the
	// engine: "/", the pages and their static files.
	UI interface{ Register(gin.IRouter) }
}

func (o *Options) defaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	if o.MaxRecipients <= 0 {
		o.MaxRecipients = 10000
	}
	if o.MaxTextChars <= 0 {
		o.MaxTextChars = 1600
	}
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 50
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 100
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is the HTTP API. Build it with New and serve Handler().
type Server struct {
	gw       Gateway
	auth     Authenticator
	hooks    Webhooks
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	limits   *limiters
	engine   *gin.Engine
	metrics  *metrics
	draining atomic.Bool
	routes   []route
	// streams is closed by CloseStreams to end SSE streams, which would
	// otherwise keep http.Server.Shutdown waiting.
	streams   chan struct{}
	closeOnce sync.Once
}

// route is one registered API route with the scope it needs; the OpenAPI
// test walks this table.
type route struct {
	method, path, scope string
}

// New builds the server. gw, auth and hooks are required.
func New(gw Gateway, auth Authenticator, hooks Webhooks, opts Options) *Server {
	opts.defaults()
	s := &Server{
		gw: gw, auth: auth, hooks: hooks, opts: opts, log: opts.Logger, now: opts.Now,
		limits:  newLimiters(opts.RatePerSecond, opts.RateBurst),
		streams: make(chan struct{}),
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg, gw, hooks)
	s.engine = s.router(reg)
	return s
}

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Drain makes the API refuse new work (503 shutting_down on sends) while
// reads keep working; serve calls it first on SIGTERM.
func (s *Server) Drain() { s.draining.Store(true) }

// CloseStreams ends the server-sent event streams (clients reconnect to the
// next process); serve calls it before http.Server.Shutdown.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.streams) }) }

func (s *Server) router(reg *prometheus.Registry) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(s.recoverer)
	e.NoRoute(func(c *gin.Context) {
		s.fail(c, ErrRouteNotFound.With(nil, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		s.fail(c, ErrMethodNotAllowed.With(nil, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))

	api := e.Group("/api/v1")
	api.GET("/openapi.json", s.openapi)
	authed := api.Group("", s.bearerAuth)
	add := func(method, path, scope string, h gin.HandlerFunc) {
		s.routes = append(s.routes, route{method, "/api/v1" + path, scope})
		authed.Handle(method, path, s.require(scope), h)
	}
	add(http.MethodPost, "/messages", ScopeSend, s.postMessages)
	add(http.MethodGet, "/messages", ScopeRead, s.listMessages)
	add(http.MethodGet, "/messages/:id", ScopeRead, s.getMessage)
	add(http.MethodPost, "/messages/:id/retry", ScopeSend, s.retryMessage)
	add(http.MethodDelete, "/messages/:id", ScopeSend, s.cancelMessage)
	add(http.MethodGet, "/conversations", ScopeRead, s.listConversations)
	add(http.MethodGet, "/conversations/:number/messages", ScopeRead, s.conversationMessages)
	add(http.MethodPost, "/conversations/:number/read", ScopeRead, s.markRead)
	add(http.MethodGet, "/notifications", ScopeRead, s.listNotifications)
	add(http.MethodDelete, "/notifications", ScopeRead, s.clearNotifications)
	add(http.MethodGet, "/failures", ScopeRead, s.listFailures)
	add(http.MethodPut, "/contacts/:number", ScopeSend, s.putContact)
	add(http.MethodGet, "/contacts/:number", ScopeRead, s.getContact)
	add(http.MethodDelete, "/contacts/:number", ScopeSend, s.deleteContact)
	add(http.MethodGet, "/modems", ScopeRead, s.listModems)
	add(http.MethodPost, "/count", ScopeRead, s.count)
	add(http.MethodGet, "/events", ScopeRead, s.events)
	add(http.MethodPost, "/webhooks", ScopeAdmin, s.createWebhook)
	add(http.MethodGet, "/webhooks", ScopeAdmin, s.listWebhooks)
	add(http.MethodGet, "/webhooks/:id", ScopeAdmin, s.getWebhook)
	add(http.MethodDelete, "/webhooks/:id", ScopeAdmin, s.deleteWebhook)
	s.thirdParty(e)
	if s.opts.UI != nil {
		s.opts.UI.Register(e)
	}
	return e
}

// recoverer turns a handler panic into a 500 in our error shape and logs it.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("webui: handler panic", "path", c.Request.URL.Path, "panic", v)
			if !c.Writer.Written() {
				s.fail(c, ErrInternal)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// fail answers with err mapped through the catalogue and stops the chain.
func (s *Server) fail(c *gin.Context, err error) {
	ae, known := errorFor(err, s.gwErrors)
	if !known || ae.Status >= 500 {
		s.log.Error("webui: request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	}
	c.AbortWithStatusJSON(ae.Status, errorBody{Error: ae})
}

// gwErrors maps the gateway's errors (see gateway.go).
func (s *Server) gwErrors(err error) *APIError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ErrUnavailable.With(nil, "the request was cancelled or timed out")
	}
	return mapGatewayError(err)
}

// bind reads and decodes a JSON body into dst.
func (s *Server) bind(c *gin.Context, dst any) bool {
	body, err := readBody(c.Request, s.opts.MaxBodyBytes)
	if err == nil {
		err = decodeJSON(body, dst)
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "shutting down"})
		return
	}
	if err := s.gw.Ready(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// writeJSON renders v with status; used where gin's renderer would escape
// HTML characters in message texts.
func writeJSON(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
