package at

import (
	"errors"
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPty returns a terminal in raw mode (what a serial port is) and the
// master side the fake modem talks through.
func openPty(t testing.TB) (tty, master *os.File) {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	// cfmakeraw: no echo, no CR/NL translation, no signals, byte at a time.
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	return pollable(t, tty), pollable(t, master)
}

// pollable reopens f in non-blocking mode so that the runtime poller serves
// it and Close interrupts a blocked Read, as with go.bug.st/serial ports. A
// blocking tty fd would keep a Read (and so the fd) alive after Close.
func pollable(t testing.TB, f *os.File) *os.File {
	t.Helper()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), f.Name())
}

// TestOverPty runs the engine on a real terminal device: commands, a URC
// inside a response, an SMS with a bare prompt, and the modem going away.
func TestOverPty(t *testing.T) {
	tty, master := openPty(t)
	p := newPeer(t, master, 11, func(p *peer, cmd string) {
		switch cmd {
		case "AT+CSQ":
			p.send("\r\n+CSQ: 17,99\r\n+CMTI: \"ME\",4\r\n\r\nOK\r\n")
		case "AT+CMGS=23":
			p.prompt(false)
		default:
			p.send("\r\nERROR\r\n")
		}
	})
	p.echoPDU = true
	p.setEcho(true)
	p.sms = func(p *peer, pdu string) { p.send("\r\n+CMGS: 7\r\n\r\nOK\r\n") }
	urcs := make(chan URC, 4)
	e := New(tty, WithURCHandler(func(u URC) { urcs <- u }))
	p.start()
	defer e.Close()

	lines, err := e.Exec(ctx(t), "AT+CSQ")
	if err != nil || !reflect.DeepEqual(lines, []string{"+CSQ: 17,99"}) {
		t.Fatalf("CSQ: %q, %v", lines, err)
	}
	if u := <-urcs; u.Line != `+CMTI: "ME",4` {
		t.Errorf("URC %+v", u)
	}
	lines, err = e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1)
	if err != nil || !reflect.DeepEqual(lines, []string{"+CMGS: 7"}) {
		t.Fatalf("CMGS: %q, %v", lines, err)
	}
	// Unplug: the master goes away, the tty read fails, the engine closes.
	master.Close()
	<-p.done
	<-e.Done()
	if err := e.Err(); !errors.Is(err, ErrClosed) {
		t.Errorf("Err() = %v", err)
	}
	if errors.Is(e.Err(), io.EOF) || errors.Is(e.Err(), unix.EIO) {
		t.Logf("closed with cause: %v", e.Err())
	}
}
