package ui_test

import (
	"bufio"
	"context"
	"github.com/gsmgate/gsmgate/gateway/model"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// TestEventStreamReplaysAndEndsWithSession: a reconnect with
// Last-Event-ID gets the notifications it missed, in order; a logout ends
// the open stream at the next heartbeat.
func TestEventStreamReplaysAndEndsWithSession(t *testing.T) {
	s := theStack
	u, pw := s.user(t, "evan", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123620"
	m := s.send(t, u, "hi", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	s.inbound(t, peer, "first")
	s.waitThread(t, u, peer, 2)

	h, err := ui.New(s.svc, ui.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Heartbeat: 50 * time.Millisecond})
	must(t, err)
	e := gin.New()
	h.Register(e)
	ts := httptest.NewServer(e)
	defer ts.Close()
	defer h.Close()
	cookie, _ := httpLogin(t, s, "evan", pw)

	open := func(lastID string) (*bufio.Reader, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/ui/events", nil)
		req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: cookie})
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return bufio.NewReader(resp.Body), func() { cancel(); resp.Body.Close() }
	}
	// next reads up to the next event with an id: its id and data.
	next := func(r *bufio.Reader) (id, data string) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("stream ended: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: ") && id != "":
				return id, line[6:]
			}
		}
	}

	r, stop := open("")
	s.inbound(t, peer, "second")
	id2, data := next(r)
	if !strings.Contains(data, "second") {
		t.Fatalf("live notification %s", data)
	}
	stop()
	// Missed while disconnected:
	s.inbound(t, peer, "third")
	s.inbound(t, peer, "fourth")
	s.waitThread(t, u, peer, 5)
	r, stop = open(id2)
	defer stop()
	_, d3 := next(r)
	_, d4 := next(r)
	if !strings.Contains(d3, "third") || !strings.Contains(d4, "fourth") {
		t.Fatalf("replayed %s then %s", d3, d4)
	}

	must(t, s.svc.Logout(context.Background(), cookie))
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, r)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("the stream outlived its session")
	}
}
