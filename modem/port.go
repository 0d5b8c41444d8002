package modem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"go.bug.st/serial"
)

// FlowControl selects the serial line's flow control.
type FlowControl string

const (
	FlowNone   FlowControl = "none"   // no flow control (the default; USB CDC modems ignore it)
	FlowRTSCTS FlowControl = "rtscts" // hardware flow control, for modems on a real UART
)

// OpenPort opens the byte stream to a modem without talking to it: a serial
// device (a /dev/ttyUSBn, /dev/ttyACMn, /dev/serial/by-id/... path or a pty),
// or "tcp://host:port" for a modem behind ser2net and similar.
func OpenPort(ctx context.Context, port string, baud int, flow FlowControl) (io.ReadWriteCloser, error) {
	if addr, ok := strings.CutPrefix(port, "tcp://"); ok {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("modem: open %s: %w", port, err)
		}
		if tc, ok := c.(*net.TCPConn); ok {
			// A ser2net link idles for minutes between SMS: keepalives
			// notice a dead peer.
			_ = tc.SetKeepAlive(true)
			_ = tc.SetKeepAlivePeriod(30 * time.Second)
		}
		return c, nil
	}
	if port == "" {
		return nil, fmt.Errorf("modem: open: no port given")
	}
	if baud <= 0 {
		baud = 115200
	}
	mode := &serial.Mode{
		BaudRate: baud,
		// DTR and RTS asserted: many modems ignore commands while DTR is low.
		InitialStatusBits: &serial.ModemOutputBits{DTR: true, RTS: true},
	}
	p, err := serial.Open(port, mode)
	if err != nil {
		// A pty (and some USB-UART drivers) cannot set the modem lines:
		// open without touching them.
		mode.InitialStatusBits = nil
		p, err = serial.Open(port, mode)
	}
	if err != nil {
		var pe *serial.PortError
		if errors.As(err, &pe) {
			switch pe.Code() {
			case serial.PortBusy:
				return nil, fmt.Errorf("modem: open %s: %w (is gsmgate serve or ModemManager holding it?)", port, ErrPortBusy)
			case serial.PermissionDenied:
				return nil, fmt.Errorf("modem: open %s: %w (add the user to the dialout group)", port, fs.ErrPermission)
			}
		}
		return nil, fmt.Errorf("modem: open %s: %w", port, err)
	}
	if busy, err := lockPort(p); busy {
		p.Close()
		return nil, fmt.Errorf("modem: open %s: %w (is gsmgate serve or ModemManager holding it?)", port, ErrPortBusy)
	} else if err != nil {
		p.Close()
		return nil, fmt.Errorf("modem: open %s: lock: %w", port, err)
	}
	switch flow {
	case "", FlowNone:
	case FlowRTSCTS:
		if err := setHardwareFlow(p, true); err != nil {
			p.Close()
			return nil, fmt.Errorf("modem: open %s: hardware flow control: %w", port, err)
		}
	default:
		p.Close()
		return nil, fmt.Errorf("modem: open %s: unknown flow control %q (want none or rtscts)", port, flow)
	}
	return p, nil
}
