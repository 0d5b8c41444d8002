package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// start serves s on a socket in a temporary directory until the test ends.
func start(t *testing.T, s *Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), SocketName)
	ln, err := Listen(path, 0o660)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file left behind: %v", err)
		}
	})
	return path
}

func TestCalls(t *testing.T) {
	s := NewServer(nil)
	s.Handle("echo", func(_ context.Context, args json.RawMessage) (Reply, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(args, &in); err != nil {
			return Reply{}, err
		}
		return Reply{Data: map[string]string{"hello": in.Name}}, nil
	})
	s.Handle("fail", func(context.Context, json.RawMessage) (Reply, error) {
		return Reply{}, errors.New("the database is closed")
	})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // 4.8 MB: several frames
	s.Handle("blob", func(context.Context, json.RawMessage) (Reply, error) {
		return Reply{Data: map[string]int{"size": len(payload)}, Stream: func(_ context.Context, w io.Writer) error {
			_, err := w.Write(payload)
			return err
		}}, nil
	})
	s.Handle("halfway", func(context.Context, json.RawMessage) (Reply, error) {
		return Reply{Stream: func(_ context.Context, w io.Writer) error {
			_, _ = w.Write([]byte("partial"))
			return errors.New("disk read error")
		}}, nil
	})
	path := start(t, s)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket mode %v, want a socket with 0660", fi.Mode())
	}
	c := NewClient(path)
	ctx := context.Background()

	var out map[string]string
	if err := c.Call(ctx, "echo", map[string]string{"name": "ada"}, &out); err != nil || out["hello"] != "ada" {
		t.Errorf("echo: %v %v", out, err)
	}
	for op, want := range map[string]string{"fail": "the database is closed", "nope": `unknown op "nope"`} {
		err := c.Call(ctx, op, nil, nil)
		var re *RemoteError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, want) {
			t.Errorf("%s: got %v, want a RemoteError with %q", op, err, want)
		}
	}

	var buf bytes.Buffer
	var meta map[string]int
	n, err := c.Stream(ctx, "blob", nil, &buf, &meta)
	if err != nil || n != int64(len(payload)) || !bytes.Equal(buf.Bytes(), payload) || meta["size"] != len(payload) {
		t.Errorf("blob: n=%d err=%v meta=%v equal=%v", n, err, meta, bytes.Equal(buf.Bytes(), payload))
	}
	buf.Reset()
	_, err = c.Stream(ctx, "halfway", nil, &buf, nil)
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "disk read error" || buf.String() != "partial" {
		t.Errorf("halfway: %v, got %q", err, buf.String())
	}
}

// TestStreamCutOff: a stream that ends without its trailer (the daemon
// died) is reported as incomplete, never as a whole. The peer is a raw
// socket writing what a dying daemon would leave.
func TestStreamCutOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), SocketName)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = bufio.NewReader(c).ReadBytes('\n') // the request
		_, _ = c.Write([]byte("{\"ok\":true,\"stream\":true}\n\x00\x00\x00\x10only8oct"))
		c.Close()
	}()
	var buf bytes.Buffer
	_, err = NewClient(path).Stream(context.Background(), "backup", nil, &buf, nil)
	if !errors.Is(err, ErrIncomplete) {
		t.Errorf("got %v, want ErrIncomplete", err)
	}
}

func TestListenSocketFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SocketName)
	if err := NewClient(path).Call(context.Background(), "x", nil, nil); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("no socket: %v, want ErrNoDaemon", err)
	}
	// A stale socket file (its daemon died) is replaced.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()
	if err := NewClient(path).Call(context.Background(), "x", nil, nil); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("stale socket: %v, want ErrNoDaemon", err)
	}
	ln, err := Listen(path, 0o660)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer ln.Close()
	// A live one is not.
	if _, err := Listen(path, 0o660); !errors.Is(err, ErrInUse) {
		t.Errorf("second Listen: %v, want ErrInUse", err)
	}
}
