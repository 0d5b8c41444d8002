package modem

import (
	"errors"
	"fmt"
	"reflect"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// setHardwareFlow turns CRTSCTS on or off. go.bug.st/serial 1.8 always opens
// with RTS/CTS off and does not expose the descriptor, so we read it from the
// port value; if its layout changes this fails loudly instead of guessing.
func setHardwareFlow(p serial.Port, on bool) error {
	fd, err := portFD(p)
	if err != nil {
		return err
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	if on {
		t.Cflag |= unix.CRTSCTS
	} else {
		t.Cflag &^= unix.CRTSCTS
	}
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// portFD is the descriptor of a go.bug.st/serial port.
func portFD(p serial.Port) (int, error) {
	v := reflect.ValueOf(p)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return -1, fmt.Errorf("unsupported serial port type %T", p)
	}
	h := v.FieldByName("handle")
	if !h.IsValid() || h.Kind() != reflect.Int {
		return -1, fmt.Errorf("unsupported serial port type %T", p)
	}
	return int(h.Int()), nil
}

// lockPort takes an exclusive advisory lock (flock) on the port, held until
// it is closed. go.bug.st/serial sets TIOCEXCL, which root ignores; gsmgate
// often runs as root on an appliance, and `gsmgate modems` run beside
// `gsmgate serve` would otherwise talk on the same port and steal answers.
// busy reports that another process holds the lock.
func lockPort(p serial.Port) (busy bool, err error) {
	fd, err := portFD(p)
	if err != nil {
		return false, err
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK), err
	}
	return false, nil
}
