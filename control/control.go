// Package control is the daemon's local control socket: a Unix stream
// socket in the data directory through which the gsmgate command talks to
// the running daemon (backup today; user and token commands later). Who may
// connect is decided by the socket file's permissions (0660, owner and group
// of the daemon), as for the database file beside it: there are no
// passwords on this path.
//
// One connection carries one request and its reply. The request is one
// JSON line {"op": "...", "args": {...}}. The reply is one JSON line
// {"ok": true, "data": {...}} or {"ok": false, "error": "..."}; when
// "stream" is true it is followed by a framed byte stream (a backup) that
// ends with a trailer saying whether the stream is complete, so a client
// never mistakes a cut-off stream for a whole one.
//
// It knows nothing of the gateway: handlers are registered by the daemon.
package control

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// SocketName is the socket's file name inside the data directory.
const SocketName = "control.sock"

// maxRequest bounds a request line: requests are small JSON documents.
const maxRequest = 1 << 20

// Request is one call.
type Request struct {
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// header is the reply's first line.
type header struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
	Stream bool            `json:"stream,omitempty"`
}

// trailer ends a stream.
type trailer struct {
	Error string `json:"error,omitempty"`
}

// Reply is what a handler answers: Data (any JSON-encodable value, may be
// nil) and, optionally, Stream, which writes the stream that follows (a
// backup). Stream runs after the header has been sent.
type Reply struct {
	Data   any
	Stream func(ctx context.Context, w io.Writer) error
}

// Handler serves one op. args is the request's raw "args" (nil if absent).
// An error is sent to the client as the reply's "error", in the words the
// handler chose.
type Handler func(ctx context.Context, args json.RawMessage) (Reply, error)

// Server serves the control socket.
type Server struct {
	log      *slog.Logger
	mu       sync.Mutex
	handlers map[string]Handler
}

// NewServer returns a server with no handlers.
func NewServer(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{log: log, handlers: map[string]Handler{}}
}

// Handle registers h for op, replacing any earlier one.
func (s *Server) Handle(op string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[op] = h
}

// Listen creates the socket at path with mode perm (0660: the daemon's user
// and group). A socket file left by a daemon that died is replaced; one a
// live process still answers on is not (ErrInUse).
func Listen(path string, perm os.FileMode) (*net.UnixListener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control: %s: %w", path, ErrInUse)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control: remove stale socket: %w", err)
		}
	}
	// The socket is created with the process umask; tighten it before
	// anyone can connect: create it under a umask that leaves 0660 at
	// most, then chmod to exactly perm.
	old := syscall.Umask(0o117)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control: listen: %w", err)
	}
	if err := os.Chmod(path, perm); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: chmod socket: %w", err)
	}
	return ln, nil
}

// ErrInUse: another process answers on the socket.
var ErrInUse = errors.New("another process is serving this control socket")

// Serve accepts connections until ctx ends, then closes ln (removing the
// socket file) and waits for the calls under way (their ctx ends too).
func (s *Server) Serve(ctx context.Context, ln *net.UnixListener) error {
	ln.SetUnlinkOnClose(true)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			s.serveConn(ctx, c)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A client that hangs up mid-stream ends the handler's ctx: the write
	// fails, and ctxWriter-style handlers stop.
	br := bufio.NewReaderSize(io.LimitReader(c, maxRequest), 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadBytes('\n')
	if err != nil {
		s.log.Warn("control: reading request", "error", err)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		writeHeader(c, header{Error: "control: request is not JSON: " + err.Error()})
		return
	}
	s.mu.Lock()
	h := s.handlers[req.Op]
	s.mu.Unlock()
	if h == nil {
		writeHeader(c, header{Error: fmt.Sprintf("control: unknown op %q (is the daemon older than this command?)", req.Op)})
		return
	}
	rep, err := h(ctx, req.Args)
	if err != nil {
		writeHeader(c, header{Error: err.Error()})
		return
	}
	hd := header{OK: true, Stream: rep.Stream != nil}
	if rep.Data != nil {
		if hd.Data, err = json.Marshal(rep.Data); err != nil {
			writeHeader(c, header{Error: "control: encoding reply: " + err.Error()})
			return
		}
	}
	if err := writeHeader(c, hd); err != nil || rep.Stream == nil {
		return
	}
	bw := bufio.NewWriterSize(c, 64<<10)
	fw := &frameWriter{w: bw}
	serr := rep.Stream(ctx, fw)
	if serr == nil {
		serr = fw.err
	}
	if fw.err != nil {
		// The client is gone; nothing more can be said to it.
		s.log.Warn("control: stream cut off", "op", req.Op, "error", fw.err)
		return
	}
	var tr trailer
	if serr != nil {
		tr.Error = serr.Error()
		s.log.Warn("control: stream failed", "op", req.Op, "error", serr)
	}
	var zero [4]byte
	_, _ = bw.Write(zero[:])
	b, _ := json.Marshal(tr)
	_, _ = bw.Write(append(b, '\n'))
	_ = bw.Flush()
}

func writeHeader(w io.Writer, h header) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// frameWriter writes each Write as a frame: a 4-octet big-endian length and
// the bytes. A zero length ends the stream (then the trailer line).
type frameWriter struct {
	w   io.Writer
	err error
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), 1<<20)
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(n))
		if _, err := f.w.Write(l[:]); err != nil {
			f.err = err
			return written, err
		}
		if _, err := f.w.Write(p[:n]); err != nil {
			f.err = err
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}
