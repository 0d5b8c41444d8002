package at

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// peer is a scripted fake modem on the far end of a pipe. Everything it sends
// is cut into chunks at random byte boundaries, so the engine sees every
// possible split of lines, prompts and final results.
type peer struct {
	t    testing.TB
	conn io.ReadWriteCloser

	mu       sync.Mutex // serialises sends and guards the fields below
	rng      *rand.Rand
	echo     bool
	echoPDU  bool
	inPrompt bool
	log      []string // every command received; "<ESC>" for ESC, "<PDU:...>" for a PDU

	// script answers one command line (without CR); it runs on the peer's
	// read goroutine. sms answers a PDU ended by Ctrl-Z.
	script func(p *peer, cmd string)
	sms    func(p *peer, pdu string)
	// onESC runs when ESC arrives while a prompt is open.
	onESC func(p *peer)

	got  chan string // copy of log entries, for tests that wait on them
	done chan struct{}
}

func newPeer(t testing.TB, conn io.ReadWriteCloser, seed uint64, script func(p *peer, cmd string)) *peer {
	p := &peer{
		t: t, conn: conn, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		script: script, got: make(chan string, 1024), done: make(chan struct{}),
	}
	return p
}

func (p *peer) start() { go p.loop() }

func (p *peer) record(s string) {
	p.mu.Lock()
	p.log = append(p.log, s)
	p.mu.Unlock()
	select {
	case p.got <- s:
	default:
	}
}

func (p *peer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// send writes s in random-sized chunks (1 byte up to all of it).
func (p *peer) send(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := []byte(s)
	for len(b) > 0 {
		n := 1 + p.rng.IntN(len(b))
		if _, err := p.conn.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
	}
}

// prompt opens the SMS prompt: "\r\n> " or "\r\n>" (no line end either way).
func (p *peer) prompt(space bool) {
	p.mu.Lock()
	p.inPrompt = true
	p.mu.Unlock()
	if space {
		p.send("\r\n> ")
	} else {
		p.send("\r\n>")
	}
}

func (p *peer) setEcho(on bool) {
	p.mu.Lock()
	p.echo = on
	p.mu.Unlock()
}

func (p *peer) loop() {
	defer close(p.done)
	var line, pdu []byte
	buf := make([]byte, 512)
	for {
		n, err := p.conn.Read(buf)
		for _, b := range buf[:n] {
			p.mu.Lock()
			inPrompt, echo, echoPDU := p.inPrompt, p.echo, p.echoPDU
			p.mu.Unlock()
			switch {
			case inPrompt && b == 0x1a:
				p.mu.Lock()
				p.inPrompt = false
				p.mu.Unlock()
				s := string(pdu)
				pdu = pdu[:0]
				if echoPDU {
					p.send(s + "\x1a")
				}
				p.record("<PDU:" + s + ">")
				if p.sms != nil {
					p.sms(p, s)
				}
			case inPrompt && b == 0x1b:
				p.mu.Lock()
				p.inPrompt = false
				p.mu.Unlock()
				pdu = pdu[:0]
				p.record("<ESC>")
				if p.onESC != nil {
					p.onESC(p)
				}
			case inPrompt:
				pdu = append(pdu, b)
			case b == 0x1b:
				p.record("<ESC>")
			case b == '\r':
				cmd := strings.TrimSpace(string(line))
				line = line[:0]
				if cmd == "" {
					continue
				}
				if echo {
					p.send(cmd + "\r")
				}
				p.record(cmd)
				if p.script != nil {
					p.script(p, cmd)
				}
			default:
				line = append(line, b)
			}
		}
		if err != nil {
			return
		}
	}
}

// rig wires an engine to a scripted peer over net.Pipe.
type rig struct {
	e    *Engine
	p    *peer
	urcs chan URC
}

func newRig(t testing.TB, seed uint64, script func(p *peer, cmd string), opts ...Option) *rig {
	t.Helper()
	a, b := net.Pipe()
	p := newPeer(t, b, seed, script)
	r := &rig{p: p, urcs: make(chan URC, 1024)}
	opts = append([]Option{WithURCHandler(func(u URC) { r.urcs <- u })}, opts...)
	r.e = New(a, opts...)
	p.start()
	t.Cleanup(func() {
		r.e.Close()
		b.Close()
		<-p.done
		<-r.e.readerDone
		<-r.e.dispatchDone
	})
	return r
}

// nextURC waits for the next URC; the limit only turns a hang into a failure.
func (r *rig) nextURC(t testing.TB) URC {
	t.Helper()
	select {
	case u := <-r.urcs:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no URC arrived")
		return URC{}
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// syncBuffer is a bytes.Buffer safe for the trace writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the peer has received want.
func (p *peer) waitFor(t testing.TB, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-p.got:
			if s == want {
				return
			}
		case <-deadline:
			t.Fatalf("peer never received %q; got %q", want, p.received())
		}
	}
}
