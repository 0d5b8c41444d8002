package modem

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// silentPort is a pty nobody answers on: the diagnostic or GPS port of a
// multi-port stick.
func silentPort(t *testing.T) string {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return slave.Name()
}

// multiPortStick is one virtual huawei answering AT on two ports (a pty
// and TCP, as host:port) next to a silent port, like a three-port stick.
func multiPortStick(t *testing.T, ctx context.Context) (sm *sim.Modem, silent, ptyPath, tcp string) {
	t.Helper()
	sm, err := sim.NewNetwork(sim.NetworkOptions{}).AddModem(sim.ModemOptions{Profile: "huawei"})
	if err != nil {
		t.Fatal(err)
	}
	if ptyPath, err = sm.ServePTY(ctx); err != nil {
		t.Fatal(err)
	}
	if tcp, err = sm.ServeTCP(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return sm, silentPort(t), ptyPath, tcp
}

func runPool(t *testing.T, ctx context.Context, p *Pool) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = p.Run(ctx) }()
	t.Cleanup(wg.Wait)
}

func TestProbeSilentPort(t *testing.T) {
	_, _, err := Probe(context.Background(), Config{Port: silentPort(t), CommandTimeout: 300 * time.Millisecond}, nil)
	if !errors.Is(err, ErrNotAModem) {
		t.Errorf("Probe of a silent port: %v, want ErrNotAModem", err)
	}
}

// TestSimPoolMultiPort: of a stick's ports, one is silent and two answer AT
// for the same modem (as many sticks do); the pool runs the modem once.
func TestSimPoolMultiPort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm, silent, ptyPath, tcp := multiPortStick(t, ctx)
	tmpl := testConfig("")
	tmpl.CommandTimeout = 300 * time.Millisecond
	p := NewPool(PoolConfig{
		Modem:          tmpl,
		Scan:           func(context.Context) ([]string, error) { return []string{silent, ptyPath}, nil },
		RescanInterval: 20 * time.Millisecond,
		RetryMin:       10 * time.Millisecond,
		RetryMax:       50 * time.Millisecond,
	}, testLog(t))
	if err := p.Add(Config{Port: "tcp://" + tcp}); err != nil {
		t.Fatal(err)
	}
	runPool(t, ctx, p)
	actx, acancel := context.WithTimeout(ctx, 20*time.Second)
	defer acancel()
	m, release, err := p.Acquire(actx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID() != sm.IMEI() {
		t.Errorf("modem %q, want %q", m.ID(), sm.IMEI())
	}
	// Hold the lease: a second Acquire must wait, as there is one modem.
	short, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	if m2, _, err := p.Acquire(short, nil); err == nil {
		t.Errorf("second Acquire got %q while the only modem is leased", m2.ID())
	}
	if mods := p.Modems(); len(mods) != 1 || !mods[0].Leased {
		t.Errorf("Modems() = %+v, want the one modem, leased", mods)
	}
	release()
	// The silent port takes a while to give up on, and a port may fail in
	// passing (a probe timing out on a loaded machine) before it settles:
	// wait for the verdict on every port.
	var ports []PortStatus
	verdict := func() (running, failing int) {
		for _, ps := range ports {
			switch {
			case ps.ModemID == sm.IMEI():
				running++
			case ps.Port == silent && strings.Contains(ps.LastError, "does not answer AT"),
				ps.Port != silent && strings.Contains(ps.LastError, "another port of modem "+sm.IMEI()):
				failing++
			}
		}
		return running, failing
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ports = p.Ports()
		if running, failing := verdict(); len(ports) == 3 && running == 1 && failing == 2 {
			break
		}
	}
	if running, failing := verdict(); len(ports) != 3 || running != 1 || failing != 2 {
		t.Errorf("Ports() = %+v, want the modem running on one port, the other failing as its second port and the silent one as not answering", ports)
	}
	if _, release2, err := p.Acquire(actx, func(s Status) bool { return s.ID == sm.IMEI() }); err != nil {
		t.Errorf("Acquire after release: %v", err)
	} else {
		release2()
	}
}

// TestSimPoolStableLink: a port configured as a stable name (a udev
// /dev/serial/by-id style symlink) that moves to a new pty on replug.
func TestSimPoolStableLink(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	link := filepath.Join(t.TempDir(), "usb-gsmgate-modem-if02-port0")
	n := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := n.AddModem(sim.ModemOptions{Profile: "sim800", PTYLink: link})
	if err != nil {
		t.Fatal(err)
	}
	first, err := sm.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPool(PoolConfig{Modem: testConfig(""), RescanInterval: 20 * time.Millisecond, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond}, testLog(t))
	if err := p.Add(Config{Port: link}); err != nil {
		t.Fatal(err)
	}
	runPool(t, ctx, p)
	waitState(t, p.Events(), sm.IMEI(), StateReady, "")
	sm.Unplug()
	waitState(t, p.Events(), sm.IMEI(), StateDisconnected, "")
	second, err := sm.Replug(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if target, _ := os.Readlink(link); second == first || target != second {
		t.Fatalf("link points at %q; replugged at %q (was %q)", target, second, first)
	}
	waitState(t, p.Events(), sm.IMEI(), StateReady, "")
	if m := p.Modem(sm.IMEI()); m == nil || m.Info().Port != link {
		t.Errorf("modem after replug: %+v", m)
	}
}
