package modem

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.bug.st/serial/enumerator"
)

// PortInfo is one serial port the system enumerates.
type PortInfo struct {
	// Path is the stable /dev/serial/by-id/... name when there is one, else
	// the device name (/dev/ttyUSB2): open this.
	Path string
	// Device is the kernel's name (/dev/ttyUSB2), which changes after a USB reset.
	Device       string
	USB          bool
	VID, PID     string // lower-case hex, "12d1"
	SerialNumber string
	Manufacturer string
	Product      string
	// Interface is the USB interface number from the by-id name ("02"), "" if unknown.
	Interface string
}

// modemVendors are USB vendor IDs of modem makers and of the USB-UART
// bridges that SIM800-style boards use. ScanUSB probes only these unless
// told otherwise: sending AT to a stranger's microcontroller is rude.
var modemVendors = map[string]string{
	"12d1": "Huawei", "2c7c": "Quectel", "1e0e": "SIMCom", "05c6": "Qualcomm", "19d2": "ZTE",
	"1199": "Sierra Wireless", "1bc7": "Telit", "2cb7": "Fibocom", "0bdb": "Ericsson", "1410": "Novatel",
	"413c": "Dell (Sierra)", "03f0": "HP", "0421": "Nokia", "22de": "WeTelecom", "2dee": "MeiG",
	"305a": "GosunCn", "1508": "Fibocom", "2020": "Neoway", "1782": "Spreadtrum/Unisoc",
	"1a86": "QinHeng CH340 (USB-UART)", "10c4": "Silicon Labs CP210x (USB-UART)",
	"0403": "FTDI (USB-UART)", "067b": "Prolific PL2303 (USB-UART)",
}

// VendorName names a USB vendor id if it is a known modem or USB-UART maker.
func VendorName(vid string) string { return modemVendors[strings.ToLower(vid)] }

var byIDInterface = regexp.MustCompile(`-if([0-9a-fA-F]{2})`)

// ListPorts enumerates serial ports with go.bug.st/serial's enumerator and
// maps each to its stable /dev/serial/by-id name.
func ListPorts() ([]PortInfo, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("modem: enumerate serial ports: %w", err)
	}
	return portInfos(list, stableNames("/dev/serial/by-id")), nil
}

// portInfos turns the enumerator's ports into PortInfos, each under its
// stable name from byID (device path → by-id link) when it has one, sorted
// by path.
func portInfos(list []*enumerator.PortDetails, byID map[string]string) []PortInfo {
	var out []PortInfo
	for _, d := range list {
		pi := PortInfo{
			Path: d.Name, Device: d.Name, USB: d.IsUSB,
			VID: strings.ToLower(d.VID), PID: strings.ToLower(d.PID), SerialNumber: d.SerialNumber,
			Manufacturer: d.Manufacturer, Product: d.Product,
		}
		if stable, ok := byID[d.Name]; ok {
			pi.Path = stable
			if m := byIDInterface.FindStringSubmatch(filepath.Base(stable)); m != nil {
				pi.Interface = m[1]
			}
		}
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// LookupPort describes a port given by path: its USB details when the
// enumerator knows the device (also through a /dev/serial/by-id link), else
// just the path (a pty, tcp://host:port).
func LookupPort(path string) PortInfo {
	pi := PortInfo{Path: path, Device: path}
	if strings.HasPrefix(path, "tcp://") {
		return pi
	}
	dev, err := filepath.EvalSymlinks(path)
	if err != nil {
		return pi
	}
	ports, err := ListPorts()
	if err != nil {
		return pi
	}
	for _, p := range ports {
		if p.Device == dev {
			p.Path = path
			return p
		}
	}
	return pi
}

// stableNames maps device paths to the symlinks in dir that point at them.
func stableNames(dir string) map[string]string {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		link := filepath.Join(dir, e.Name())
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			continue
		}
		out[target] = link
	}
	return out
}

// ScanUSB lists the USB serial ports of known modem and USB-UART vendors,
// by stable path: the usual PoolConfig.Scan.
func ScanUSB(context.Context) ([]string, error) {
	ports, err := ListPorts()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range worthProbing(ports, false) {
		out = append(out, p.Path)
	}
	return out, nil
}

// worthProbing keeps the USB ports of known modem and USB-UART vendors, or
// every USB port when all is set: a built-in UART (ttyS0, a Pi's ttyAMA0)
// is never probed unless given by path.
func worthProbing(ports []PortInfo, all bool) []PortInfo {
	var out []PortInfo
	for _, p := range ports {
		if p.USB && (all || VendorName(p.VID) != "") {
			out = append(out, p)
		}
	}
	return out
}

// Found is what probing one port found.
type Found struct {
	Port   PortInfo
	Info   Info
	Health Health
	// Err says why the port is not a usable modem (not answering AT, no
	// SIM, ...). Info holds what was learned before.
	Err error
	// SameAs is the Path of an earlier port in the list that answered with
	// the same IMEI: many sticks answer AT on two of their ports, and this
	// one is the same modem, not a second one.
	SameAs string
}

// Probe opens a port, reads identity, SIM and network state, and closes it.
// It changes nothing on the modem beyond verbose results (ATV1), echo and error reporting, and
// never enters a PIN. A modem whose SIM is missing or locked is reported
// with its Info and Health and an error (ErrNoSIM, ErrPINRequired, ...).
func Probe(ctx context.Context, cfg Config, log *slog.Logger) (Info, Health, error) {
	m, err := dial(ctx, cfg, log)
	if err != nil {
		return Info{Port: cfg.Port}, Health{}, err
	}
	defer m.Close()
	if err := m.identify(ctx); err != nil {
		return m.Info(), Health{}, err
	}
	h, err := m.Health(ctx)
	if err != nil {
		return m.Info(), h, err
	}
	switch h.SIM {
	case SIMAbsent:
		return m.Info(), h, ErrNoSIM
	case SIMFailed:
		return m.Info(), h, ErrSIMFailure
	case SIMPIN:
		return m.Info(), h, ErrPINRequired
	case SIMPUK:
		return m.Info(), h, ErrPUKRequired
	}
	if h.SIM == SIMReady {
		if lines, err := m.exec(ctx, "AT+CIMI"); err == nil {
			if d, ok := parseDigits(lines, 6); ok {
				m.mu.Lock()
				m.info.IMSI = d
				m.mu.Unlock()
			}
		}
		if lines, err := m.exec(ctx, "AT+CNUM"); err == nil {
			m.mu.Lock()
			m.info.OwnNumber = parseCNUM(lines)
			m.mu.Unlock()
		}
		if lines, err := m.exec(ctx, "AT+CSCA?"); err == nil {
			if v, ok := infoLine(lines, "+CSCA:"); ok {
				if f := fields(v); len(f) > 0 {
					m.mu.Lock()
					m.info.SMSC = f[0]
					m.mu.Unlock()
				}
			}
		}
		if lines, err := m.exec(ctx, "AT+CPMS?"); err == nil {
			if used, total, err := parseCPMSSet(lines); err == nil {
				m.mu.Lock()
				m.info.StorageUsed, m.info.StorageTotal = used, total
				m.mu.Unlock()
			}
		}
	}
	return m.Info(), h, nil
}

// Discover probes ports concurrently (each with tmpl's settings) and
// reports each, in the order given. USBPorts lists the usual candidates.
// With tmpl.Trace set, each trace line starts with its port, and the probes'
// lines are written one at a time: they run at once and share the writer.
func Discover(ctx context.Context, tmpl Config, ports []PortInfo, log *slog.Logger) []Found {
	out := make([]Found, len(ports))
	var wg sync.WaitGroup
	var traceMu sync.Mutex
	for i, pi := range ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := tmpl
			c.Port = pi.Path
			if tmpl.Trace != nil {
				c.Trace = &portTrace{mu: &traceMu, w: tmpl.Trace, port: pi.Path}
			}
			info, h, err := Probe(ctx, c, log)
			out[i] = Found{Port: pi, Info: info, Health: h, Err: err}
		}()
	}
	wg.Wait()
	markSameModem(out)
	return out
}

// markSameModem sets SameAs on each port whose IMEI an earlier one had.
func markSameModem(found []Found) {
	first := map[string]string{}
	for i := range found {
		id := found[i].Info.IMEI
		if id == "" {
			continue
		}
		if p, ok := first[id]; ok {
			found[i].SameAs = p
			continue
		}
		first[id] = found[i].Port.Path
	}
}

// USBPorts returns the enumerated ports worth probing: known modem vendors,
// or every USB serial port when all is set.
func USBPorts(all bool) ([]PortInfo, error) {
	ports, err := ListPorts()
	if err != nil {
		return nil, err
	}
	return worthProbing(ports, all), nil
}

// portTrace prefixes each trace line (modem/at writes one per Write) with
// the port, and serialises writers sharing w.
type portTrace struct {
	mu   *sync.Mutex
	w    io.Writer
	port string
}

func (t *portTrace) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := io.WriteString(t.w, t.port+" "); err != nil {
		return 0, err
	}
	return t.w.Write(p)
}
