package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyPort is the pseudo-terminal a modem is served on. The sim keeps the
// slave side open too, so that a client closing and reopening the port (as
// drivers do) does not hang up the master.
type ptyPort struct {
	master, slave *os.File
	path          string
}

func (p *ptyPort) close() {
	p.master.Close()
	p.slave.Close()
}

// openPTY opens a raw pseudo-terminal whose slave path differs from avoid,
// so that a replugged modem appears at a new path as a re-enumerated USB
// device does.
func openPTY(avoid string) (*ptyPort, error) {
	var spare []*ptyPort
	defer func() {
		for _, p := range spare {
			p.close()
		}
	}()
	for range 4 {
		master, slave, err := pty.Open()
		if err != nil {
			return nil, fmt.Errorf("sim: open pty: %w", err)
		}
		if master, err = pollable(master); err != nil {
			slave.Close()
			return nil, err
		}
		p := &ptyPort{master: master, slave: slave, path: slave.Name()}
		if err := makeRaw(slave); err != nil {
			p.close()
			return nil, err
		}
		if p.path != avoid {
			return p, nil
		}
		spare = append(spare, p)
	}
	return nil, errors.New("sim: open pty: kept getting the old path")
}

// pollable returns the master side as a file the Go poller manages, so that
// Close interrupts a Read in progress (pty.Open hands it back in blocking
// mode, where a Read would block Unplug forever).
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("sim: dup pty: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("sim: pty non-blocking: %w", err)
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

// makeRaw puts the tty in raw mode before any client opens it: without
// this the line discipline would echo our own output back to us and turn
// CR into LF.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("sim: get termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("sim: set termios: %w", err)
	}
	return nil
}

// ServePTY serves the modem on a new pseudo-terminal and returns its path
// (/dev/pts/N), which a client opens like /dev/ttyUSB2. The pty closes when
// ctx ends or on Unplug.
func (m *Modem) ServePTY(ctx context.Context) (string, error) {
	m.mu.Lock()
	if m.ptyPort != nil {
		m.mu.Unlock()
		return "", errors.New("sim: modem already served on a pty")
	}
	if !m.plugged {
		m.mu.Unlock()
		return "", errUnplugged
	}
	m.ptyCtx = ctx
	m.mu.Unlock()
	return m.openServedPTY(ctx, "")
}

func (m *Modem) openServedPTY(ctx context.Context, avoid string) (string, error) {
	p, err := openPTY(avoid)
	if err != nil {
		return "", err
	}
	if m.opts.PTYLink != "" {
		tmp := m.opts.PTYLink + ".new"
		os.Remove(tmp)
		if err := os.Symlink(p.path, tmp); err != nil {
			p.close()
			return "", fmt.Errorf("sim: link pty: %w", err)
		}
		if err := os.Rename(tmp, m.opts.PTYLink); err != nil {
			p.close()
			return "", fmt.Errorf("sim: link pty: %w", err)
		}
	}
	m.mu.Lock()
	m.ptyPort = p
	m.ptyPath = p.path
	m.mu.Unlock()
	s := m.newSession(p.master)
	go func() {
		select {
		case <-ctx.Done():
			m.mu.Lock()
			if m.ptyPort == p {
				m.ptyPort = nil
			}
			m.mu.Unlock()
			p.close()
		case <-s.done:
		}
	}()
	m.mu.Lock()
	for _, l := range m.prof.boot {
		s.urc([]byte("\r\n" + l + "\r\n"))
	}
	m.mu.Unlock()
	m.net.log.Info("sim: serving on pty", "modem", m.opts.IMEI, "path", p.path)
	return p.path, nil
}

// PTYPath is the path the modem is served on now ("" if none or unplugged).
func (m *Modem) PTYPath() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptyPort == nil {
		return ""
	}
	return m.ptyPort.path
}

// ServeTCP serves the modem on a TCP address, each connection a raw AT
// stream as ser2net gives, and returns the address it listens on (useful
// with "127.0.0.1:0"). It stops listening when ctx ends.
func (m *Modem) ServeTCP(ctx context.Context, addr string) (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen: %w", err)
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if err := m.attach(ctx, c); err != nil {
				c.Close()
			}
		}
	}()
	m.net.log.Info("sim: serving on tcp", "modem", m.opts.IMEI, "addr", l.Addr().String())
	return l.Addr().String(), nil
}

// attach serves one client stream until it closes or ctx ends.
func (m *Modem) attach(ctx context.Context, rw io.ReadWriteCloser) error {
	m.mu.Lock()
	plugged := m.plugged
	m.mu.Unlock()
	if !plugged {
		return errUnplugged
	}
	s := m.newSession(rw)
	go func() {
		select {
		case <-ctx.Done():
			rw.Close()
		case <-s.done:
		}
	}()
	return nil
}

// Unplug pulls the modem out, as a USB stick: its pty closes (clients get
// an I/O error), TCP clients are disconnected and new ones refused, and the
// network keeps incoming messages until Replug. Stored messages survive.
func (m *Modem) Unplug() {
	m.mu.Lock()
	if m.plugged {
		close(m.gone)
	}
	m.plugged = false
	p := m.ptyPort
	m.ptyPort = nil
	sessions := make([]*session, 0, len(m.sessions))
	for s := range m.sessions {
		sessions = append(sessions, s)
	}
	m.mu.Unlock()
	if p != nil {
		p.close()
	}
	for _, s := range sessions {
		s.rw.Close()
	}
	if m.opts.PTYLink != "" {
		os.Remove(m.opts.PTYLink)
	}
	m.net.log.Info("sim: unplugged", "modem", m.opts.IMEI)
}

// Replug plugs the modem back in: it powers up afresh (echo on, settings
// reset, PIN asked again) and, if it was served on a pty, reappears on a new
// pty whose path is returned. Messages held by the network then arrive.
func (m *Modem) Replug(ctx context.Context) (string, error) {
	m.mu.Lock()
	if m.plugged {
		m.mu.Unlock()
		return "", errors.New("sim: modem is not unplugged")
	}
	m.plugged = true
	m.gone = make(chan struct{})
	m.hung = false
	m.powerUp()
	hadPTY := m.ptyCtx != nil
	old := m.ptyPath
	m.mu.Unlock()
	path := ""
	if hadPTY {
		var err error
		if path, err = m.openServedPTY(ctx, old); err != nil {
			return "", err
		}
	}
	m.flushHeld()
	m.net.log.Info("sim: replugged", "modem", m.opts.IMEI, "path", path)
	return path, nil
}

// session is one client stream: its own echo setting and input state, the
// modem's state shared with other sessions.
type session struct {
	m    *Modem
	rw   io.ReadWriteCloser
	out  chan []byte
	done chan struct{} // closed when the reader ends
	dead chan struct{} // closed when the writer ends: nothing more can be sent

	mu      sync.Mutex // guards the fields below
	echo    bool
	verbose bool
	busy    bool
	pending [][]byte

	// owned by the reader goroutine
	line     []byte
	lastLine string
	prompt   *prompt
}

func (m *Modem) newSession(rw io.ReadWriteCloser) *session {
	s := &session{m: m, rw: rw, out: make(chan []byte, 1024), done: make(chan struct{}), dead: make(chan struct{}), echo: true, verbose: true}
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	m.mu.Unlock()
	go s.writeLoop()
	go s.readLoop()
	if m.prof.flood {
		go s.floodLoop()
	}
	return s
}

func (s *session) writeLoop() {
	defer close(s.dead)
	for {
		select {
		case b := <-s.out:
			if _, err := s.rw.Write(b); err != nil {
				s.rw.Close()
				return
			}
		case <-s.done:
			return
		}
	}
}

// emit queues bytes for the client, waiting if the client is slow.
func (s *session) emit(b []byte) {
	select {
	case s.out <- b:
	case <-s.done:
	case <-s.dead:
	}
}

// raw queues bytes without waiting; they are lost if the client is far
// behind, as a UART's buffer overflows.
func (s *session) raw(b []byte) {
	select {
	case s.out <- b:
	default:
	}
}

// urc sends an unsolicited code now, or after the command in progress.
func (s *session) urc(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy {
		s.pending = append(s.pending, b)
		return
	}
	s.raw(b)
}

func (s *session) setBusy(b bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy = b
	if !b {
		for _, p := range s.pending {
			s.raw(p)
		}
		s.pending = nil
	}
}

func (s *session) readLoop() {
	defer func() {
		s.m.mu.Lock()
		delete(s.m.sessions, s)
		s.m.mu.Unlock()
		close(s.done)
		s.rw.Close()
	}()
	buf := make([]byte, 512)
	for {
		n, err := s.rw.Read(buf)
		for _, c := range buf[:n] {
			s.input(c)
		}
		if err != nil {
			return
		}
	}
}

// floodLoop sends the huawei ^RSSI/^BOOT/^MODE codes until the session ends.
func (s *session) floodLoop() {
	t := time.NewTicker(s.m.opts.FloodInterval)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.m.mu.Lock()
		on := s.m.st.curc && !s.m.hung && s.m.plugged
		sig := s.m.signal
		s.m.mu.Unlock()
		// Codes are dropped while earlier output waits for a reader, as
		// a modem's output is lost while nobody has the port open: a
		// client opening the port after a quiet hour meets a few codes,
		// not an hour of them.
		if !on || len(s.out) > 0 {
			continue
		}
		var code string
		switch i % 3 {
		case 0:
			code = fmt.Sprintf("^RSSI:%d", sig)
		case 1:
			code = "^BOOT:20392698,0,0,0,72"
		case 2:
			code = "^MODE:5,4"
		}
		s.urc([]byte("\r\n" + code + "\r\n"))
	}
}
