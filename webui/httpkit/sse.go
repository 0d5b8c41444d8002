package httpkit

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// SSE writes a server-sent event stream on one response. It is used in the
// request's goroutine only (a gin.Context never leaves its request).
type SSE struct {
	w   gin.ResponseWriter
	f   http.Flusher
	seq uint64
}

// StartSSE sends the stream's headers (no caching, no proxy buffering) and
// a preamble comment with the reconnection delay; after it returns, a client
// holds an open stream. ok is false when the connection cannot stream.
func StartSSE(c *gin.Context, comment string) (*SSE, bool) {
	f, ok := c.Writer.(http.Flusher)
	if !ok {
		return nil, false
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	fmt.Fprintf(c.Writer, ": %s\nretry: 3000\n\n", comment)
	f.Flush()
	return &SSE{w: c.Writer, f: f}, true
}

// Event writes one event with the next id.
func (s *SSE) Event(name string, data []byte) error {
	s.seq++
	if _, err := fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", s.seq, name, data); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

// Ping writes a comment that keeps proxies from closing an idle stream.
func (s *SSE) Ping() error {
	if _, err := fmt.Fprint(s.w, ": ping\n\n"); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}
