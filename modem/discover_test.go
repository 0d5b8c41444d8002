package modem

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.bug.st/serial/enumerator"
)

// TestPortInfos: what the enumerator reports for a three-port Huawei stick,
// a Quectel (upper-case ids), an FTDI cable without by-id link and a
// built-in UART becomes PortInfos under their stable names with the USB
// interface number, and only the USB ports of known vendors are probed.
func TestPortInfos(t *testing.T) {
	const byID = "/dev/serial/by-id/"
	list := []*enumerator.PortDetails{
		{Name: "/dev/ttyUSB2", IsUSB: true, VID: "12d1", PID: "1506", SerialNumber: "0123456789ABCDEF", Product: "HUAWEI Mobile"},
		{Name: "/dev/ttyUSB0", IsUSB: true, VID: "12d1", PID: "1506", SerialNumber: "0123456789ABCDEF", Product: "HUAWEI Mobile"},
		{Name: "/dev/ttyUSB1", IsUSB: true, VID: "12d1", PID: "1506", SerialNumber: "0123456789ABCDEF", Product: "HUAWEI Mobile"},
		{Name: "/dev/ttyUSB5", IsUSB: true, VID: "2C7C", PID: "0125", SerialNumber: "", Product: "EC25"},
		{Name: "/dev/ttyUSB9", IsUSB: true, VID: "0403", PID: "6001", SerialNumber: "A50285BI"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "2341", PID: "0043", SerialNumber: "arduino"},
		{Name: "/dev/ttyS0"},
	}
	links := map[string]string{
		"/dev/ttyUSB0": byID + "usb-HUAWEI_Mobile_0123456789ABCDEF-if00-port0",
		"/dev/ttyUSB1": byID + "usb-HUAWEI_Mobile_0123456789ABCDEF-if01-port0",
		"/dev/ttyUSB2": byID + "usb-HUAWEI_Mobile_0123456789ABCDEF-if02-port0",
		"/dev/ttyUSB5": byID + "usb-Quectel_EC25-if0A-port0",
	}
	got := portInfos(list, links)
	type row struct{ path, device, vid, iface string }
	var rows []row
	for _, p := range got {
		rows = append(rows, row{p.Path, p.Device, p.VID, p.Interface})
	}
	want := []row{
		{"/dev/serial/by-id/usb-HUAWEI_Mobile_0123456789ABCDEF-if00-port0", "/dev/ttyUSB0", "12d1", "00"},
		{"/dev/serial/by-id/usb-HUAWEI_Mobile_0123456789ABCDEF-if01-port0", "/dev/ttyUSB1", "12d1", "01"},
		{"/dev/serial/by-id/usb-HUAWEI_Mobile_0123456789ABCDEF-if02-port0", "/dev/ttyUSB2", "12d1", "02"},
		{"/dev/serial/by-id/usb-Quectel_EC25-if0A-port0", "/dev/ttyUSB5", "2c7c", "0A"},
		{"/dev/ttyACM0", "/dev/ttyACM0", "2341", ""},
		{"/dev/ttyS0", "/dev/ttyS0", "", ""},
		{"/dev/ttyUSB9", "/dev/ttyUSB9", "0403", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("portInfos:\n got %v\nwant %v", rows, want)
	}

	paths := func(ps []PortInfo) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Device)
		}
		return out
	}
	for _, tc := range []struct {
		all  bool
		want []string
	}{
		// The Arduino (2341) is no modem maker; ttyS0 is no USB port.
		{false, []string{"/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB5", "/dev/ttyUSB9"}},
		{true, []string{"/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2", "/dev/ttyUSB5", "/dev/ttyACM0", "/dev/ttyUSB9"}},
	} {
		if g := paths(worthProbing(got, tc.all)); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("worthProbing(all=%v) = %v, want %v", tc.all, g, tc.want)
		}
	}
}

func TestVendorName(t *testing.T) {
	for vid, want := range map[string]string{"12d1": "Huawei", "2C7C": "Quectel", "1a86": "QinHeng CH340 (USB-UART)", "2341": "", "": ""} {
		if got := VendorName(vid); got != want {
			t.Errorf("VendorName(%q) = %q, want %q", vid, got, want)
		}
	}
}

// TestStableNames: by-id links are resolved to the devices they point at;
// a dangling link is skipped.
func TestStableNames(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "ttyUSB3")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	byID := filepath.Join(dir, "by-id")
	if err := os.Mkdir(byID, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(byID, "usb-ZTE_MF833-if02-port0")
	if err := os.Symlink("../ttyUSB3", link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(byID, "usb-gone-if00-port0")); err != nil {
		t.Fatal(err)
	}
	if got := stableNames(byID); !reflect.DeepEqual(got, map[string]string{dev: link}) {
		t.Errorf("stableNames = %v", got)
	}
	if got := stableNames(filepath.Join(dir, "missing")); len(got) != 0 {
		t.Errorf("stableNames of a missing dir = %v", got)
	}
}

// TestDiscoverMultiPortStick: of a stick's three ports one is silent (a
// diagnostic port) and two answer AT for the same modem; Discover says
// which answers, identifies the modem by IMEI and marks the second AT port
// as the same modem.
func TestDiscoverMultiPortStick(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm, silent, ptyPath, tcp := multiPortStick(t, ctx)
	ports := []PortInfo{{Path: silent}, {Path: ptyPath}, {Path: "tcp://" + tcp}}
	// The timeout is what the silent port costs; the answering ports must
	// not run into it on a loaded machine (300 ms could be).
	found := Discover(ctx, Config{CommandTimeout: 1500 * time.Millisecond}, ports, nil)
	if len(found) != 3 {
		t.Fatalf("found %d", len(found))
	}
	if !errors.Is(found[0].Err, ErrNotAModem) || found[0].SameAs != "" {
		t.Errorf("silent port: err %v, same as %q", found[0].Err, found[0].SameAs)
	}
	if found[1].Err != nil || found[1].Info.IMEI != sm.IMEI() || found[1].SameAs != "" {
		t.Errorf("first AT port: %+v", found[1])
	}
	if found[2].Err != nil || found[2].Info.IMEI != sm.IMEI() || found[2].SameAs != ptyPath {
		t.Errorf("second AT port: err %v, IMEI %q, same as %q", found[2].Err, found[2].Info.IMEI, found[2].SameAs)
	}
}
