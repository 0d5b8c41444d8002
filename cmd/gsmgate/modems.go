package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gsmgate/gsmgate/modem"
)

func runModems(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return modemsMain(ctx, args, stdout, stderr)
}

// modemsMain lists the modems discovery finds: the first command a person
// runs after plugging a stick into a Pi. It only reads: it never enters a
// PIN nor changes the modem's settings beyond verbose results, echo and error format.
func modemsMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gsmgate modems", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		ports   listFlag
		all     bool
		asJSON  bool
		baud    int
		timeout time.Duration
		trace   bool
	)
	fs.Var(&ports, "port", "probe this port instead of discovering USB modems: a device path or tcp://host:port (repeatable)")
	fs.BoolVar(&all, "all", false, "probe every USB serial port, not only those of known modem and USB-UART vendors")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	fs.IntVar(&baud, "baud", 115200, "serial line speed")
	fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long one AT command may take")
	fs.BoolVar(&trace, "trace", false, "print every byte exchanged with the modems to stderr (PINs redacted)")
	setUsage(fs, stderr,
		"usage: gsmgate modems [--port PATH|tcp://HOST:PORT]... [--all] [--json]",
		"\nFinds GSM modems (USB serial ports answering AT, or the ports given) and lists",
		"port, USB vendor/product, model, IMEI, SIM, operator and signal. Read-only.",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gsmgate modems: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	tmpl := modem.Config{Baud: baud, CommandTimeout: timeout}
	if trace {
		tmpl.Trace = stderr
	}
	var candidates []modem.PortInfo
	if len(ports) > 0 {
		for _, p := range ports {
			candidates = append(candidates, modem.LookupPort(p))
		}
	} else {
		list, err := modem.USBPorts(all)
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate modems: %v\n", err)
			return 1
		}
		candidates = list
	}
	if len(candidates) == 0 {
		fmt.Fprintln(stderr, "gsmgate modems: no USB serial ports of known modem vendors found (try --all, or --port PATH)")
		return 1
	}
	found := modem.Discover(ctx, tmpl, candidates, slog.New(slog.DiscardHandler))
	if asJSON {
		return printModemsJSON(stdout, stderr, found)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PORT\tUSB\tMODEL\tIMEI\tSIM (ICCID / IMSI)\tOPERATOR\tSIGNAL\tSTATUS")
	usable := 0
	for _, f := range found {
		status := "ok"
		switch {
		case f.Err != nil:
			status = problem(f.Err)
		case f.SameAs != "":
			status = "ok, same modem as " + f.SameAs
		default:
			usable++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			f.Port.Path, usbText(f.Port), dash(strings.TrimSpace(f.Info.Manufacturer+" "+f.Info.Model)), dash(f.Info.IMEI),
			simText(f), dash(f.Health.Operator), signalText(f), status)
	}
	w.Flush()
	if usable == 0 {
		return 1
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func usbText(p modem.PortInfo) string {
	if p.VID == "" {
		return "-"
	}
	s := p.VID + ":" + p.PID
	if p.Interface != "" {
		s += " if" + p.Interface
	}
	if v := modem.VendorName(p.VID); v != "" {
		s += " (" + v + ")"
	}
	return s
}

func simText(f modem.Found) string {
	switch {
	case f.Info.ICCID == "" && f.Info.IMSI == "":
		if f.Health.SIM != modem.SIMUnknown && f.Health.SIM != modem.SIMReady {
			return strings.ToLower(string(f.Health.SIM))
		}
		return "-"
	case f.Info.IMSI == "":
		return f.Info.ICCID
	}
	return f.Info.ICCID + " / " + f.Info.IMSI
}

func signalText(f modem.Found) string {
	s := f.Health.Signal
	if f.Info.IMEI == "" || !s.Known() {
		return "-"
	}
	return fmt.Sprintf("%d dBm (%d/4) %s", s.DBm, s.Bars, f.Health.Registration)
}

// problem says in a few words why a port is not usable.
func problem(err error) string {
	switch {
	case errors.Is(err, modem.ErrNotAModem):
		return "no answer to AT (not the modem's AT port?)"
	case errors.Is(err, modem.ErrPortBusy):
		return "port in use (gsmgate serve or ModemManager?)"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied (dialout group?)"
	case errors.Is(err, modem.ErrNoSIM):
		return "no SIM"
	case errors.Is(err, modem.ErrPINRequired):
		return "SIM locked with a PIN (configure it)"
	case errors.Is(err, modem.ErrPUKRequired):
		return "SIM blocked: needs its PUK"
	}
	return err.Error()
}

type modemJSON struct {
	Port         string `json:"port"`
	Device       string `json:"device,omitempty"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	Interface    string `json:"interface,omitempty"`
	Serial       string `json:"usb_serial,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	Revision     string `json:"revision,omitempty"`
	IMEI         string `json:"imei,omitempty"`
	ICCID        string `json:"iccid,omitempty"`
	IMSI         string `json:"imsi,omitempty"`
	OwnNumber    string `json:"own_number,omitempty"`
	SIM          string `json:"sim,omitempty"`
	Operator     string `json:"operator,omitempty"`
	Registration string `json:"registration,omitempty"`
	SignalDBm    *int   `json:"signal_dbm,omitempty"`
	SignalBars   *int   `json:"signal_bars,omitempty"`
	Error        string `json:"error,omitempty"`
	SameAs       string `json:"same_as,omitempty"`
}

func printModemsJSON(stdout, stderr io.Writer, found []modem.Found) int {
	out := make([]modemJSON, 0, len(found))
	usable := 0
	for _, f := range found {
		j := modemJSON{
			Port: f.Port.Path, Device: f.Port.Device, VID: f.Port.VID, PID: f.Port.PID, Interface: f.Port.Interface,
			Serial: f.Port.SerialNumber, Manufacturer: f.Info.Manufacturer, Model: f.Info.Model, Revision: f.Info.Revision,
			IMEI: f.Info.IMEI, ICCID: f.Info.ICCID, IMSI: f.Info.IMSI, OwnNumber: f.Info.OwnNumber,
			SIM: string(f.Health.SIM), Operator: f.Health.Operator, SameAs: f.SameAs,
		}
		if f.Info.IMEI != "" {
			j.Registration = f.Health.Registration.String()
		}
		if s := f.Health.Signal; s.Known() {
			j.SignalDBm, j.SignalBars = &s.DBm, &s.Bars
		}
		if f.Err != nil {
			j.Error = f.Err.Error()
		} else if f.SameAs == "" {
			usable++
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stderr, "gsmgate modems: %v\n", err)
		return 1
	}
	if usable == 0 {
		return 1
	}
	return 0
}
