package httpkit

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// Shared is what the web packages mounted on one server share: set once by
// the server (package webui), read by the handlers of /api/v1,
// /3rdparty/v1 and the UI.
type Shared struct {
	Log *slog.Logger
	Now func() time.Time
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
	Auth         Authenticator
	Limits       *Limiters
	// Draining is true once the server refuses new work (SIGTERM).
	Draining func() bool
	// Accepted counts messages (one per recipient) accepted for sending.
	Accepted func(n int)
	// Closing is closed when long-lived responses (event streams) must end.
	Closing <-chan struct{}
}

// Route is one registered route with the scope it needs; the OpenAPI test
// walks the table.
type Route struct {
	Method, Path, Scope string
}

// WriteJSON renders v with status without escaping HTML characters (message
// texts are shown as sent).
func WriteJSON(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Fail answers err in the API's error shape, through the catalogue, and
// stops the chain; unknown and 5xx errors are logged.
func (sh *Shared) Fail(c *gin.Context, err error) {
	ae, known := ErrorFor(err)
	if !known || ae.Status >= 500 {
		sh.Log.Error("webui: request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "error", err)
	}
	c.AbortWithStatusJSON(ae.Status, ErrorBody{Error: ae})
}

// Bind reads and decodes a JSON body into dst (strictly: unknown fields are
// refused), answering a bad one; false means the answer is sent.
func (sh *Shared) Bind(c *gin.Context, dst any) bool {
	body, err := ReadBody(c.Request, sh.MaxBodyBytes)
	if err == nil {
		err = DecodeJSON(body, dst)
	}
	if err != nil {
		sh.Fail(c, err)
		return false
	}
	return true
}
