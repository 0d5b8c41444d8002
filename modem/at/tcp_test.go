package at

import (
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
)

// TestOverTCP: a modem behind ser2net is a TCP connection; the far end
// hanging up is EOF and closes the engine with that cause.
func TestOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *peer, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p := newPeer(t, c, 12, answers(map[string]string{
			"AT+CGSN": "\r\n867584030000000\r\n\r\nOK\r\n",
		}))
		p.start()
		accepted <- p
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	e := New(conn)
	defer e.Close()
	p := <-accepted
	lines, err := e.Exec(ctx(t), "AT+CGSN")
	if err != nil || !reflect.DeepEqual(lines, []string{"867584030000000"}) {
		t.Fatalf("CGSN: %q, %v", lines, err)
	}
	p.conn.Close()
	<-p.done
	<-e.Done()
	if err := e.Err(); !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
		t.Errorf("Err() = %v, want ErrClosed wrapping io.EOF", err)
	}
}
