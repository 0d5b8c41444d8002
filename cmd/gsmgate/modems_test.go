package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gsmgate/gsmgate/modem/sim"
)

func TestModemsListsVirtualModems(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := sim.NewNetwork(sim.NetworkOptions{})
	a, err := n.AddModem(sim.ModemOptions{Profile: "quectel", Operator: "TestNet", Signal: 17})
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.AddModem(sim.ModemOptions{Profile: "huawei", NoSIM: true})
	if err != nil {
		t.Fatal(err)
	}
	pty, err := a.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := b.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	var out, errb bytes.Buffer
	code := run([]string{"modems", "--port", pty, "--port", "tcp://" + addr}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want header and two rows:\n%s", out.String())
	}
	for _, want := range []string{pty, "Quectel EC25", a.IMEI(), a.Options().ICCID[:18], a.Options().IMSI, "TestNet", "-79 dBm (3/4) home", "ok"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row for the quectel lacks %q:\n%s", want, lines[1])
		}
	}
	for _, want := range []string{"tcp://" + addr, b.IMEI(), "no SIM"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("row for the SIM-less huawei lacks %q:\n%s", want, lines[2])
		}
	}

	out.Reset()
	if code := run([]string{"modems", "--json", "--port", pty}, &out, &errb); code != 0 {
		t.Fatalf("--json exit %d: %s", code, errb.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 1 {
		t.Fatalf("JSON %q: %v", out.String(), err)
	}
	if got[0]["imei"] != a.IMEI() || got[0]["operator"] != "TestNet" || got[0]["signal_dbm"] != float64(-79) {
		t.Errorf("JSON row = %v", got[0])
	}
}

func TestModemsNotAModem(t *testing.T) {
	var out, errb bytes.Buffer
	// Nothing listens on port 1: the probe fails and the exit status says so.
	code := run([]string{"modems", "--timeout", "500ms", "--port", "tcp://127.0.0.1:1"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "tcp://127.0.0.1:1") {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
}

func TestModemsHelpAndBadArgs(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"modems", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--port") {
		t.Errorf("--help: exit %d, %q", code, errb.String())
	}
	if code := run([]string{"modems", "extra"}, &out, &errb); code != 2 {
		t.Errorf("stray argument: exit %d", code)
	}
}

// TestModemsTrace: --trace writes both directions with time stamps to
// stderr, each line naming its port (the probes run at once), PINs never.
func TestModemsTrace(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := sim.NewNetwork(sim.NetworkOptions{})
	var ports []string
	for range 2 {
		m, err := n.AddModem(sim.ModemOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr, err := m.ServeTCP(ctx, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, "tcp://"+addr)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"modems", "--trace", "--port", ports[0], "--port", ports[1]}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	stamp := regexp.MustCompile(`^(tcp://\S+) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (->|<-) "`)
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		m := stamp.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("trace line without port, time stamp and direction: %q", l)
		}
		seen[m[1]+" "+m[2]] = true
	}
	for _, p := range ports {
		for _, dir := range []string{"->", "<-"} {
			if !seen[p+" "+dir] {
				t.Errorf("no %s lines for %s in the trace:\n%s", dir, p, errb.String())
			}
		}
	}
}

// TestModemsSameModemOnTwoPorts: a stick answering AT on two ports is one
// modem, and the listing says so on the second row.
func TestModemsSameModemOnTwoPorts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := sim.NewNetwork(sim.NetworkOptions{}).AddModem(sim.ModemOptions{Profile: "huawei"})
	if err != nil {
		t.Fatal(err)
	}
	pty, err := m.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := m.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"modems", "--port", pty, "--port", "tcp://" + addr}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || strings.Contains(lines[1], "same modem") || !strings.Contains(lines[2], "ok, same modem as "+pty) {
		t.Errorf("listing:\n%s", out.String())
	}
}
