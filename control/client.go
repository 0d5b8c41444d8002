package control

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"syscall"
)

// ErrNoDaemon: nothing listens on the socket (the daemon is not running,
// or runs on another data directory).
var ErrNoDaemon = errors.New("control: the gsmgate daemon is not running (no control socket)")

// RemoteError is an error the daemon answered with.
type RemoteError struct {
	Op  string
	Msg string
}

func (e *RemoteError) Error() string { return e.Msg }

// ErrIncomplete: a stream ended without its trailer (the daemon stopped or
// the connection broke mid-way); what was received is not the whole.
var ErrIncomplete = errors.New("control: the stream was cut off before its end")

// Client calls a daemon's control socket.
type Client struct {
	Path string
}

// NewClient returns a client of the socket at path.
func NewClient(path string) *Client { return &Client{Path: path} }

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: %s", ErrNoDaemon, c.Path)
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("control: %s: %w (run as root or as a member of the daemon's group)", c.Path, err)
		}
		return nil, fmt.Errorf("control: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	context.AfterFunc(ctx, func() { conn.Close() })
	return conn, nil
}

func (c *Client) do(ctx context.Context, op string, args any) (net.Conn, *bufio.Reader, header, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, nil, header{}, err
	}
	req := Request{Op: op}
	if args != nil {
		if req.Args, err = json.Marshal(args); err != nil {
			conn.Close()
			return nil, nil, header{}, fmt.Errorf("control: encode %s args: %w", op, err)
		}
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		conn.Close()
		return nil, nil, header{}, fmt.Errorf("control: send %s: %w", op, err)
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil {
		conn.Close()
		return nil, nil, header{}, fmt.Errorf("control: %s: no reply: %w", op, err)
	}
	var h header
	if err := json.Unmarshal(line, &h); err != nil {
		conn.Close()
		return nil, nil, header{}, fmt.Errorf("control: %s: bad reply: %w", op, err)
	}
	if !h.OK {
		conn.Close()
		return nil, nil, h, &RemoteError{Op: op, Msg: h.Error}
	}
	return conn, br, h, nil
}

// Call sends op with args (any JSON-encodable value, or nil) and decodes
// the reply's data into out (unless out is nil).
func (c *Client) Call(ctx context.Context, op string, args, out any) error {
	conn, _, h, err := c.do(ctx, op, args)
	if err != nil {
		return err
	}
	defer conn.Close()
	if out != nil && len(h.Data) > 0 {
		if err := json.Unmarshal(h.Data, out); err != nil {
			return fmt.Errorf("control: %s: decode reply: %w", op, err)
		}
	}
	return nil
}

// Stream sends op and copies the stream of its reply to w. It returns the
// bytes copied; ErrIncomplete (wrapped) when the stream was cut off, or a
// *RemoteError when the daemon reported a failure part-way.
func (c *Client) Stream(ctx context.Context, op string, args any, w io.Writer, out any) (int64, error) {
	conn, br, h, err := c.do(ctx, op, args)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if out != nil && len(h.Data) > 0 {
		if err := json.Unmarshal(h.Data, out); err != nil {
			return 0, fmt.Errorf("control: %s: decode reply: %w", op, err)
		}
	}
	if !h.Stream {
		return 0, fmt.Errorf("control: %s: the reply has no stream", op)
	}
	var n int64
	for {
		var l [4]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return n, fmt.Errorf("%w (%s, after %d bytes: %v)", ErrIncomplete, op, n, err)
		}
		size := binary.BigEndian.Uint32(l[:])
		if size == 0 {
			break
		}
		ew := &errWriter{w: w}
		k, err := io.CopyN(ew, br, int64(size))
		n += k
		if err != nil {
			if ew.err != nil {
				return n, fmt.Errorf("control: %s: writing: %w", op, err)
			}
			return n, fmt.Errorf("%w (%s, after %d bytes: %v)", ErrIncomplete, op, n, err)
		}
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return n, fmt.Errorf("%w (%s: no trailer: %v)", ErrIncomplete, op, err)
	}
	var tr trailer
	if err := json.Unmarshal(line, &tr); err != nil {
		return n, fmt.Errorf("%w (%s: bad trailer: %v)", ErrIncomplete, op, err)
	}
	if tr.Error != "" {
		return n, &RemoteError{Op: op, Msg: tr.Error}
	}
	return n, nil
}

// errWriter remembers a write error, to tell it from a read error in a copy.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
