package at

import (
	"context"
	"io"
	"net"
	"testing"
)

// BenchmarkExec measures one command round trip over net.Pipe against a
// minimal responder (no random splitting: the engine's cost, not the fake's).
func BenchmarkExec(b *testing.B) {
	for _, bc := range []struct {
		name  string
		reply string
	}{
		{"OK", "\r\nOK\r\n"},
		{"CSQ", "\r\n+CSQ: 20,99\r\n\r\nOK\r\n"},
		{"CMGR", "\r\n+CMGR: 0,,37\r\n" + pdu1 + "\r\n\r\nOK\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a, m := net.Pipe()
			e := New(a)
			defer e.Close()
			defer m.Close()
			go answerEachCR(m, []byte(bc.reply))
			benchCSQ(b, e)
		})
	}
}

// BenchmarkFramer measures framing throughput of a typical +CMGL listing.
func BenchmarkFramer(b *testing.B) {
	data := []byte{}
	for i := 0; i < 20; i++ {
		data = append(data, "\r\n+CMGL: 1,1,,37\r\n"+pdu1+"\r\n"...)
	}
	data = append(data, "\r\nOK\r\n"...)
	b.SetBytes(int64(len(data)))
	f := newFramer()
	n := 0
	for b.Loop() {
		f.feed(data, func(token) { n++ })
	}
}

// BenchmarkExecPty is the same round trip over a raw-mode pty, the closest
// stand-in for a USB serial port without hardware.
func BenchmarkExecPty(b *testing.B) {
	tty, m := openPty(b)
	e := New(tty)
	defer e.Close()
	defer m.Close()
	go answerEachCR(m, []byte("\r\n+CSQ: 20,99\r\n\r\nOK\r\n"))
	benchCSQ(b, e)
}

// answerEachCR plays a modem that answers every command line with reply.
func answerEachCR(m io.ReadWriter, reply []byte) {
	buf := make([]byte, 256)
	for {
		n, err := m.Read(buf)
		if err != nil {
			return
		}
		for _, c := range buf[:n] {
			if c == '\r' {
				if _, err := m.Write(reply); err != nil {
					return
				}
			}
		}
	}
}

func benchCSQ(b *testing.B, e *Engine) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Exec(ctx, "AT+CSQ"); err != nil {
			b.Fatal(err)
		}
	}
}
