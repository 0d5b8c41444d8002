package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gsmgate/gsmgate/modem/sim"
)

// simFlags are the sim subcommand's settings.
type simFlags struct {
	listen, link, profile, control, pin, number string
	pty                                         bool
	modems                                      int
	latency                                     latencyFlag
}

// latencyProfiles are the names --latency takes: sends as fast as tests
// want them, or as slow as a real network makes them.
var latencyProfiles = map[string]latencyFlag{
	"none": {},
	"test": {min: 50 * time.Millisecond},
	"real": {min: 2 * time.Second, max: 6 * time.Second},
}

// latencyFlag is --latency: a profile name, a duration ("3s") or a range
// ("2s-6s", each send a uniformly random time within it).
type latencyFlag struct{ min, max time.Duration }

func (l *latencyFlag) String() string {
	if l.max > l.min {
		return l.min.String() + "-" + l.max.String()
	}
	return l.min.String()
}

func (l *latencyFlag) Set(s string) error {
	if p, found := latencyProfiles[s]; found {
		*l = p
		return nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	from, err := time.ParseDuration(lo)
	if err != nil || from < 0 {
		return fmt.Errorf("want none, test (50ms), real (2s-6s), a duration (3s) or a range (2s-6s)")
	}
	to := from
	if isRange {
		if to, err = time.ParseDuration(hi); err != nil || to < from {
			return fmt.Errorf("range %q: want MIN-MAX with MIN <= MAX", s)
		}
	}
	*l = latencyFlag{min: from, max: to}
	return nil
}

func runSim(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return simMain(ctx, args, stdout, stderr, nil)
}

// simMain runs the virtual modem until ctx ends. ready, if not nil, gets
// the control endpoint's address once everything is serving (tests use it;
// the addresses are also printed).
func simMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("gsmgate sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f simFlags
	fs.StringVar(&f.listen, "listen", "", "serve the modem on raw TCP, as ser2net does (tcp://127.0.0.1:7001)")
	fs.BoolVar(&f.pty, "pty", false, "serve the modem on a pseudo-terminal and print its path")
	fs.StringVar(&f.link, "link", "", "keep a symlink at this path pointing at the pty (implies --pty)")
	fs.StringVar(&f.profile, "profile", "generic", "quirk profile: "+strings.Join(sim.Profiles(), ", "))
	fs.StringVar(&f.control, "control", "", "serve the JSON control endpoint on this loopback address (127.0.0.1:7002)")
	fs.StringVar(&f.pin, "pin", "", "lock the SIM with this PIN")
	fs.StringVar(&f.number, "number", "+447700900123", "the modem's own number (with --modems N, the first; the others count up from it)")
	fs.IntVar(&f.modems, "modems", 1, "how many modems to serve on one simulated network, each with its own IMEI, IMSI and number (they can text each other)")
	fs.Var(&f.latency, "latency", "how long each send takes: none, test (50ms), real (2s-6s, random), a duration (3s) or a range (1s-4s)")
	setUsage(fs, stderr,
		"usage: gsmgate sim [--pty] [--link PATH] [--listen tcp://HOST:PORT] [--profile NAME] [--control HOST:PORT]",
		"\nRuns a virtual GSM modem and its network until interrupted. See the README, \"The virtual modem\".",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gsmgate sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if f.link != "" {
		f.pty = true
	}
	if f.modems < 1 || f.modems > 32 {
		fmt.Fprintf(stderr, "gsmgate sim: --modems %d: want 1 to 32\n", f.modems)
		return 2
	}
	numbers, err := countUp(f.number, f.modems)
	if err != nil {
		fmt.Fprintf(stderr, "gsmgate sim: --number: %v\n", err)
		return 2
	}
	if !f.pty && f.listen == "" {
		fmt.Fprintln(stderr, "gsmgate sim: give --pty, --listen or both")
		return 2
	}
	tcpAddr := ""
	if f.listen != "" {
		a, found := strings.CutPrefix(f.listen, "tcp://")
		if !found {
			fmt.Fprintf(stderr, "gsmgate sim: --listen %q: want tcp://HOST:PORT\n", f.listen)
			return 2
		}
		tcpAddr = a
	}
	if f.control != "" {
		if err := checkLoopback(f.control); err != nil {
			fmt.Fprintf(stderr, "gsmgate sim: --control: %v\n", err)
			return 2
		}
	}

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	network := sim.NewNetwork(sim.NetworkOptions{Logger: log})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var modems []*sim.Modem
	for i, number := range numbers {
		link := f.link
		if link != "" && i > 0 {
			link = fmt.Sprintf("%s%d", f.link, i+1)
		}
		m, err := network.AddModem(sim.ModemOptions{Profile: f.profile, PIN: f.pin, OwnNumber: number, Latency: f.latency.min, LatencyMax: f.latency.max, PTYLink: link})
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate sim: %v\n", err)
			return 2
		}
		modems = append(modems, m)
		if f.pty {
			path, err := m.ServePTY(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "gsmgate sim: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "pty %s\n", path)
			if link != "" {
				fmt.Fprintf(stdout, "link %s\n", link)
			}
		}
		if tcpAddr != "" {
			a, err := m.ServeTCP(ctx, nthPort(tcpAddr, i))
			if err != nil {
				fmt.Fprintf(stderr, "gsmgate sim: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "tcp %s\n", a)
		}
	}
	controlAddr := ""
	if f.control != "" {
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, "tcp", f.control)
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate sim: control: %v\n", err)
			return 1
		}
		controlAddr = l.Addr().String()
		// The root drives the first modem (as with one modem); /modems/N/
		// drives the N-th.
		mux := http.NewServeMux()
		mux.Handle("/", network.ControlHandler(ctx, modems[0]))
		for i, m := range modems {
			prefix := fmt.Sprintf("/modems/%d", i+1)
			mux.Handle(prefix+"/", http.StripPrefix(prefix, network.ControlHandler(ctx, m)))
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
		fmt.Fprintf(stdout, "control http://%s\n", controlAddr)
	}
	for _, m := range modems {
		fmt.Fprintf(stdout, "modem %s profile %s imei %s latency %s\n", m.Options().OwnNumber, m.Options().Profile, m.IMEI(), &f.latency)
	}
	if ready != nil {
		ready <- controlAddr
	}
	<-ctx.Done()
	return 0
}

// checkLoopback refuses a control address that is not on loopback: the
// endpoint has no authentication.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (the endpoint has no authentication)", addr)
	}
	return nil
}

// countUp is n numbers starting at first, each the previous plus one
// (+447700900123, +447700900124, ...).
func countUp(first string, n int) ([]string, error) {
	digits := strings.TrimPrefix(first, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return nil, fmt.Errorf("%q: want digits, optionally after a +", first)
	}
	out := []string{first}
	cur := []byte(digits)
	for len(out) < n {
		i := len(cur) - 1
		for ; i >= 0 && cur[i] == '9'; i-- {
			cur[i] = '0'
		}
		if i < 0 {
			return nil, fmt.Errorf("%q: cannot count up %d numbers from it", first, n)
		}
		cur[i]++
		out = append(out, strings.TrimSuffix(first, digits)+string(cur))
	}
	return out, nil
}

// nthPort is addr with its port moved up by i (port 0 stays 0: each modem
// gets a free port).
func nthPort(addr string, i int) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || i == 0 {
		return addr
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return addr
	}
	return net.JoinHostPort(host, strconv.Itoa(p+i))
}
