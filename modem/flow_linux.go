package modem

import (
	"fmt"
	"reflect"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// setHardwareFlow turns CRTSCTS on or off. go.bug.st/serial 1.8 always opens
// with RTS/CTS off and does not expose the descriptor, so we read it from the
// port value; if its layout changes this fails loudly instead of guessing.
func setHardwareFlow(p serial.Port, on bool) error {
	v := reflect.ValueOf(p)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("unsupported serial port type %T", p)
	}
	h := v.FieldByName("handle")
	if !h.IsValid() || h.Kind() != reflect.Int {
		return fmt.Errorf("unsupported serial port type %T", p)
	}
	fd := int(h.Int())
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
