//go:build !linux

package modem

import (
	"errors"

	"go.bug.st/serial"
)

func setHardwareFlow(serial.Port, bool) error {
	return errors.New("only supported on Linux")
}

func lockPort(serial.Port) (bool, error) { return false, nil }
