// Package webui is gsmgate's HTTP server: one Gin engine that serves
// /healthz, /readyz and /metrics and mounts the packages below it: webui/api
// (/api/v1 and its OpenAPI document), webui/smsgate (/3rdparty/v1) and
// webui/ui (the staff web UI), which share webui/httpkit (error catalogue,
// body binding, rate limits, the SSE writer, Principal).
//
// No web package touches the database or a modem or decides who may see a
// message: they call the core (package gateway) with the acting user, and
// the core applies the rules (TestLayering keeps it so). A *gin.Context never
// leaves its request: workers get plain values and the request's context.
package webui

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/api"
	"github.com/gsmgate/gsmgate/webui/httpkit"
	"github.com/gsmgate/gsmgate/webui/smsgate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options are the server's limits and knobs.
type Options struct {
	// MaxBodyBytes bounds a request body (default 4 MiB). The limits on
	// recipients and text are the core's (gateway.Options).
	MaxBodyBytes int64
	// RatePerSecond and RateBurst set each token's bucket (defaults 50, 100).
	RatePerSecond float64
	RateBurst     int
	// Limits, when set, are the rate-limit buckets to use (and share with
	// the UI's sessions, ui.Options.Limits); RatePerSecond and RateBurst
	// are then those it was made with.
	Limits *httpkit.Limiters
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
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = 50
	}
	if o.RateBurst <= 0 {
		o.RateBurst = 100
	}
	if o.Limits == nil {
		o.Limits = httpkit.NewLimiters(o.RatePerSecond, o.RateBurst)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Server is the HTTP server. Build it with New and serve Handler().
type Server struct {
	core     *gateway.Service
	sh       *httpkit.Shared
	engine   *gin.Engine
	metrics  *metrics
	api      *api.Server
	smsgate  *smsgate.Server
	ui       interface{ Register(gin.IRouter) }
	draining atomic.Bool
	// streams is closed by CloseStreams to end SSE streams, which would
	// otherwise keep http.Server.Shutdown waiting.
	streams   chan struct{}
	closeOnce sync.Once
}

// New builds the server over the core and the webhook registry, both
// required.
func New(core *gateway.Service, hooks Webhooks, opts Options) *Server {
	opts.defaults()
	s := &Server{core: core, streams: make(chan struct{}), ui: opts.UI}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg, core, hooks)
	s.sh = &httpkit.Shared{
		Log: opts.Logger, Now: opts.Now, MaxBodyBytes: opts.MaxBodyBytes, Auth: core,
		Limits:   opts.Limits,
		Draining: s.draining.Load,
		Accepted: func(n int) { s.metrics.accepted.Add(float64(n)) },
		Closing:  s.streams,
	}
	s.api = api.New(core, hooks, s.sh)
	s.smsgate = smsgate.New(core, hooks, s.sh)
	s.engine = s.router(reg)
	return s
}

// Webhooks is what the mounted packages need from the webhook sender.
type Webhooks interface {
	api.Webhooks
	smsgate.Webhooks
}

// Handler returns the root HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Drain makes the server refuse new work (503 shutting_down on sends) while
// reads keep working; serve calls it first on SIGTERM.
func (s *Server) Drain() { s.draining.Store(true) }

// CloseStreams ends the server-sent event streams (clients reconnect to the
// next process); serve calls it before http.Server.Shutdown.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.streams) }) }

// routes lists every authenticated route with its scope.
func (s *Server) routes() []httpkit.Route {
	return append(append([]httpkit.Route{}, s.api.Routes()...), s.smsgate.Routes()...)
}

func (s *Server) router(reg *prometheus.Registry) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(s.recoverer)
	e.NoRoute(func(c *gin.Context) {
		s.sh.Fail(c, httpkit.ErrRouteNotFound.With(nil, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		s.sh.Fail(c, httpkit.ErrMethodNotAllowed.With(nil, "%s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	s.api.Mount(e)
	s.smsgate.Mount(e)
	if s.ui != nil {
		s.ui.Register(e)
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
			s.sh.Log.Error("webui: handler panic", "path", c.Request.URL.Path, "panic", v)
			if !c.Writer.Written() {
				s.sh.Fail(c, httpkit.ErrInternal)
			}
			c.Abort()
		}
	}()
	c.Next()
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": "shutting down"})
		return
	}
	if err := s.core.Ready(c.Request.Context()); err != nil {
		body := gin.H{"status": "not ready", "reason": err.Error()}
		if errors.Is(err, gateway.ErrStorageFull) {
			body["code"] = httpkit.ErrStorageFull.Code // for the UI's "out of space" banner
		}
		c.JSON(http.StatusServiceUnavailable, body)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
