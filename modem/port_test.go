package modem

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem/sim"
	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

func TestOpenPortFlowControlOnPTY(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, path := lonePTYModem(t, ctx, sim.ModemOptions{})
	for _, tc := range []struct {
		flow FlowControl
		want bool
	}{{FlowNone, false}, {FlowRTSCTS, true}} {
		rwc, err := OpenPort(ctx, path, 9600, tc.flow)
		if err != nil {
			t.Fatalf("OpenPort(%s): %v", tc.flow, err)
		}
		fd := int(reflect.ValueOf(rwc.(serial.Port)).Elem().FieldByName("handle").Int())
		tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if got := tio.Cflag&unix.CRTSCTS != 0; got != tc.want {
			t.Errorf("flow %s: CRTSCTS = %v", tc.flow, got)
		}
		rwc.Close()
	}
	if _, err := OpenPort(ctx, path, 9600, "xonxoff"); err == nil || !strings.Contains(err.Error(), "unknown flow control") {
		t.Errorf("unknown flow control: %v", err)
	}
}

func TestOpenPortErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenPort(ctx, "/dev/does-not-exist-gsmgate", 0, ""); err == nil || !strings.Contains(err.Error(), "/dev/does-not-exist-gsmgate") {
		t.Errorf("missing device: %v", err)
	}
	if _, err := OpenPort(ctx, "tcp://127.0.0.1:1", 0, ""); err == nil {
		t.Errorf("closed TCP port opened")
	}
	if _, err := OpenPort(ctx, "", 0, ""); err == nil {
		t.Errorf("empty port opened")
	}
	_, err := Open(ctx, Config{Port: "tcp://127.0.0.1:1", CommandTimeout: time.Second}, nil)
	var oe *OpenError
	if !errorsAs(err, &oe) || oe.Step != "open port" {
		t.Errorf("Open on a closed port: %v", err)
	}
}

// BenchmarkSendPartPTY measures one AT+CMGS round trip to the virtual modem
// over a real pty, the network answering at once.
func BenchmarkSendPartPTY(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, path := lonePTYModem(b, ctx, sim.ModemOptions{Latency: time.Microsecond})
	m, err := Open(ctx, Config{Port: path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	tpdu := []byte{0x01, 0x00, 0x0b, 0x91, 0x44, 0x77, 0x00, 0x09, 0x05, 0xf5, 0x00, 0x00, 0x02, 0xe8, 0x34}
	b.ResetTimer()
	for range b.N {
		if _, err := m.SendPart(ctx, tpdu); err != nil {
			b.Fatal(err)
		}
	}
}
