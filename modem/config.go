package modem

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Config says how to reach and drive one modem. The zero value of every
// field except Port is usable: Defaults fills it in.
type Config struct {
	// Port is a device path (/dev/ttyUSB2, /dev/serial/by-id/usb-...-if02-port0,
	// a pty) or tcp://host:port.
	Port string
	// Baud is the serial line speed (default 115200; ignored for tcp://).
	Baud int
	// Flow is the serial flow control (default FlowNone).
	Flow FlowControl
	// PIN unlocks the SIM when it asks for one. A PIN the SIM rejects is
	// never entered a second time: Open fails with ErrWrongPIN.
	PIN string
	// CNMI forces the new-message indication setting, e.g. "2,2,0,1,0" for
	// direct delivery (+CMT/+CDS acknowledged with +CNMA) on a modem whose
	// storage misbehaves. Default: chosen from what +CNMI=? offers,
	// preferring store-and-indicate (+CMTI), with fallbacks.
	CNMI string
	// SMSC overrides the SIM's service centre for sending ("" = the SIM's).
	SMSC string
	// DirectSend turns store-and-send off: parts are sent with AT+CMGS even
	// when the modem can store them first (AT+CMGW, AT+CMSS). Default
	// false: store-and-send where the modem offers it, so that a send cut
	// short by a crash is resolved from the stored copy's status.
	DirectSend bool

	// CommandTimeout bounds an ordinary command (default 10s).
	CommandTimeout time.Duration
	// SendTimeout bounds AT+CMGS, which waits for the network (default 60s).
	SendTimeout time.Duration
	// ProbeInterval is how often a running modem's liveness, signal and
	// registration are checked (default 30s).
	ProbeInterval time.Duration
	// PollInterval is how often the modem's storages are listed with
	// AT+CMGL as a safety net for lost indications (default 3m).
	PollInterval time.Duration
	// RedeliverAfter: an inbound message delivered but not yet committed is
	// delivered again by a later poll once this long has passed (default 10m).
	RedeliverAfter time.Duration
	// RoomWait bounds how long MakeRoom waits for the reader to free a slot
	// in a full storage before store-and-send gives up on a part and sends
	// it with AT+CMGS (default 5s).
	RoomWait time.Duration
	// SIMWait bounds how long Open waits for a SIM that answers "busy" or is
	// still initialising after the PIN (default 20s).
	SIMWait time.Duration
	// ResetWait is how long recovery waits for the modem to come back after
	// AT+CFUN=1,1 (default 30s).
	ResetWait time.Duration

	// Trace, when set, receives every byte exchanged with the modem with
	// time stamps (PINs redacted by modem/at).
	Trace io.Writer
}

// Defaults returns c with every unset knob at its documented default.
func (c Config) Defaults() Config {
	if c.Baud == 0 {
		c.Baud = 115200
	}
	if c.Flow == "" {
		c.Flow = FlowNone
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CommandTimeout, 10*time.Second)
	def(&c.SendTimeout, 60*time.Second)
	def(&c.ProbeInterval, 30*time.Second)
	def(&c.PollInterval, 3*time.Minute)
	def(&c.RedeliverAfter, 10*time.Minute)
	def(&c.RoomWait, 5*time.Second)
	def(&c.SIMWait, 20*time.Second)
	def(&c.ResetWait, 30*time.Second)
	return c
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if c.Port == "" {
		return fmt.Errorf("modem: config: port is empty")
	}
	if strings.HasPrefix(c.Port, "tcp://") && !strings.Contains(strings.TrimPrefix(c.Port, "tcp://"), ":") {
		return fmt.Errorf("modem: config: port %q: want tcp://host:port", c.Port)
	}
	if c.Baud < 0 {
		return fmt.Errorf("modem: config: baud %d is negative", c.Baud)
	}
	switch c.Flow {
	case "", FlowNone, FlowRTSCTS:
	default:
		return fmt.Errorf("modem: config: flow %q: want none or rtscts", c.Flow)
	}
	for _, r := range c.PIN {
		if r < '0' || r > '9' {
			return fmt.Errorf("modem: config: pin must be digits")
		}
	}
	if c.PIN != "" && (len(c.PIN) < 4 || len(c.PIN) > 8) {
		return fmt.Errorf("modem: config: pin must have 4 to 8 digits")
	}
	return nil
}
