package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gsmgate/gsmgate/backup"
	"github.com/gsmgate/gsmgate/config"
	"github.com/gsmgate/gsmgate/control"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/systemd/sdnotify"
	"github.com/gsmgate/gsmgate/tlscert"
)

// appliance is what `gsmgate serve` does for the box it runs on, beside the
// gateway itself: it tells systemd when it is ready and healthy, serves the
// control socket (online backup), makes the nightly backups, and provides
// the HTTPS listener. serve.go calls it at a few points; everything else is
// here.
type appliance struct {
	cfg    config.Config
	svc    *gateway.Service
	log    *slog.Logger
	notify *sdnotify.Notifier
	getenv func(string) string

	// scanned is closed when the first USB scan has returned (discovery
	// only), so that readiness waits for the modems it finds.
	scanned chan struct{}
	// readyCap bounds the wait for modems before READY=1 is sent anyway:
	// a modem that never answers must not keep the web UI (which says
	// what is wrong) from starting; systemd would otherwise kill us at
	// TimeoutStartSec and try again forever.
	readyCap time.Duration
	// unhealthy is set while the health check fails: the periodic status
	// line then leaves the UNHEALTHY one in place.
	unhealthy atomic.Bool
	// stopped is set by stopping(): no status line replaces the
	// "stopping" one after it.
	stopped atomic.Bool
}

func newAppliance(cfg config.Config, log *slog.Logger, getenv func(string) string) *appliance {
	n, err := sdnotify.FromEnv(getenv)
	if err != nil {
		log.Warn("systemd notifications off", "error", err)
	}
	return &appliance{cfg: cfg, log: log, notify: n, getenv: getenv,
		scanned: make(chan struct{}), readyCap: 90 * time.Second}
}

// watchScan wraps the pool's scan so that readiness knows when the first
// scan has run.
func (a *appliance) watchScan(scan func(context.Context) ([]string, error)) func(context.Context) ([]string, error) {
	var once sync.Once
	return func(ctx context.Context) ([]string, error) {
		ports, err := scan(ctx)
		once.Do(func() { close(a.scanned) })
		return ports, err
	}
}

// listenTLS opens the HTTPS listener when tls_listen is set (nil
// otherwise), with the configured certificate or the self-signed one of the
// data directory, and prints where it is and the certificate's fingerprint.
func (a *appliance) listenTLS(stdout io.Writer) (net.Listener, error) {
	if a.cfg.TLSListen == "" {
		return nil, nil
	}
	var cert tls.Certificate
	var err error
	how := "certificate " + a.cfg.TLSCert
	if a.cfg.TLSCert != "" {
		cert, err = tlscert.Load(a.cfg.TLSCert, a.cfg.TLSKey)
	} else {
		var created bool
		cert, created, err = tlscert.SelfSigned(a.cfg.DataDir, tlscert.LocalHosts(), time.Now())
		how = "self-signed certificate " + filepath.Join(a.cfg.DataDir, tlscert.SelfCertFile)
		if created {
			how = "new " + how
		}
	}
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.TLSListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a.cfg.TLSListen, err)
	}
	fmt.Fprintf(stdout, "HTTPS on https://%s (%s, SHA-256 fingerprint %s)\n", ln.Addr(), how, tlscert.Fingerprint(cert))
	return tls.NewListener(ln, tlscert.ServerConfig(cert)), nil
}

// run starts the control socket, the nightly backup and the systemd
// readiness, status and watchdog reports, each with goRun, until ctx ends.
// gwDone is closed when the gateway's modem loops have stopped.
func (a *appliance) run(ctx context.Context, pool *modem.Pool, configured bool, gwDone <-chan struct{}, goRun func(func())) error {
	srv := control.NewServer(a.log)
	srv.Handle("backup", a.backupHandler)
	srv.Handle("check-db", a.checkDBHandler)
	handleAdminOps(srv, localOps{a.svc})
	srv.Handle("status", func(context.Context, json.RawMessage) (control.Reply, error) {
		return control.Reply{Data: daemonStatus{PID: os.Getpid(), Version: version, Modems: pool.Modems()}}, nil
	})
	sock := filepath.Join(a.cfg.DataDir, control.SocketName)
	ln, err := control.Listen(sock, 0o660)
	switch {
	case errors.Is(err, control.ErrInUse):
		return err
	case err != nil:
		// The gateway works without it (a data directory path longer
		// than a socket address allows, say); only `gsmgate backup` and
		// doctor's view through the daemon do not.
		a.log.Error("no control socket: `gsmgate backup` cannot reach this daemon", "socket", sock, "error", err)
	default:
		goRun(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				a.log.Error("control socket stopped", "error", err)
			}
		})
	}
	if a.cfg.Backup.Keep > 0 {
		h, m, _ := a.cfg.Backup.AtClock() // validated with the configuration
		n := backup.Nightly{Dir: a.backupDir(), Keep: a.cfg.Backup.Keep, Hour: h, Minute: m, Snapshot: a.svc.Backup, Log: a.log}
		goRun(func() { n.Run(ctx) })
	}
	if configured {
		close(a.scanned)
	}
	goRun(func() { a.report(ctx, pool, gwDone) })
	return nil
}

func (a *appliance) backupDir() string {
	if a.cfg.Backup.Dir != "" {
		return a.cfg.Backup.Dir
	}
	return filepath.Join(a.cfg.DataDir, "backups")
}

// backupInfo is the data of a backup reply.
type backupInfo struct {
	Version string `json:"version"`
}

func (a *appliance) backupHandler(context.Context, json.RawMessage) (control.Reply, error) {
	return control.Reply{
		Data: backupInfo{Version: version},
		Stream: func(ctx context.Context, w io.Writer) error {
			n, err := a.svc.Backup(ctx, w)
			if err == nil {
				a.log.Info("backup taken through the control socket", "bytes", n)
			}
			return err
		},
	}, nil
}

// checkDBReply is the data of a check-db reply.
type checkDBReply struct {
	Problems []string `json:"problems"`
}

func (a *appliance) checkDBHandler(ctx context.Context, _ json.RawMessage) (control.Reply, error) {
	errs, err := a.svc.CheckDatabase(ctx, 20)
	if err != nil {
		return control.Reply{}, err
	}
	out := checkDBReply{Problems: []string{}}
	for _, e := range errs {
		out.Problems = append(out.Problems, e.Error())
	}
	return control.Reply{Data: out}, nil
}

// settled says whether every port the pool watches has been tried (a modem
// runs on it, or the attempt failed) and no modem is still initialising.
func settled(pool *modem.Pool) bool {
	for _, p := range pool.Ports() {
		if p.ModemID == "" && p.LastError == "" {
			return false
		}
	}
	for _, m := range pool.Modems() {
		if m.State == modem.StateOpening {
			return false
		}
	}
	return true
}

// statusLine is the line `systemctl status gsmgate` shows.
func (a *appliance) statusLine(ctx context.Context, pool *modem.Pool) string {
	ms := pool.Modems()
	ready := 0
	var notes []string
	for _, m := range ms {
		if m.State == modem.StateReady {
			ready++
			continue
		}
		why := string(m.State)
		if m.Reason != "" {
			why += ": " + m.Reason
		}
		notes = append(notes, m.Info.Port+" "+why)
	}
	for _, p := range pool.Ports() {
		if p.ModemID == "" && p.LastError != "" {
			notes = append(notes, p.LastError)
		}
	}
	var b strings.Builder
	switch {
	case len(ms) == 0:
		b.WriteString("no modem yet")
	default:
		fmt.Fprintf(&b, "%d of %d modem(s) ready", ready, len(ms))
	}
	fmt.Fprintf(&b, "; %d part(s) queued", a.svc.QueueDepth())
	if len(notes) > 0 {
		b.WriteString("; ")
		b.WriteString(strings.Join(notes, "; "))
	}
	return b.String()
}

// report sends READY=1 once the modems are initialised (or readyCap has
// passed), then keeps STATUS= current, and pings the watchdog while the
// health check passes; STOPPING is sent by stopping().
func (a *appliance) report(ctx context.Context, pool *modem.Pool, gwDone <-chan struct{}) {
	if a.notify == nil {
		return
	}
	_ = a.notify.Status("opening the modems")
	deadline := time.NewTimer(a.readyCap)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	scanned := a.scanned
wait:
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			a.log.Warn("modems still initialising; reporting ready anyway", "after", a.readyCap)
			break wait
		case <-scanned:
			scanned = nil // seen; keep waiting on the ticker
		case <-tick.C:
			if scanned == nil && settled(pool) {
				break wait
			}
		}
	}
	_ = a.notify.Ready(a.statusLine(ctx, pool))

	interval, ok, err := sdnotify.WatchdogInterval(a.getenv, os.Getpid())
	if err != nil {
		a.log.Warn("watchdog off", "error", err)
	}
	if ok {
		check := func(ctx context.Context) error {
			select {
			case <-gwDone:
				return fmt.Errorf("the gateway's modem loops have stopped")
			default:
			}
			return a.svc.CheckWrite(ctx)
		}
		goWatch := make(chan struct{})
		go func() {
			defer close(goWatch)
			a.notify.Watchdog(ctx, interval, check, func(err error) {
				a.unhealthy.Store(err != nil)
				if err != nil {
					a.log.Error("health check failing: no watchdog ping; systemd restarts the service if it goes on", "error", err)
					_ = a.notify.Status("UNHEALTHY: " + err.Error())
					return
				}
				a.log.Info("health check passes again")
				if !a.stopped.Load() {
					_ = a.notify.Status(a.statusLine(ctx, pool))
				}
			})
		}()
		defer func() { <-goWatch }()
	}
	every := time.NewTicker(10 * time.Second)
	defer every.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-every.C:
		}
		if a.unhealthy.Load() || a.stopped.Load() {
			continue
		}
		if s := a.statusLine(ctx, pool); s != last {
			last = s
			_ = a.notify.Status(s)
		}
	}
}

// stopping tells systemd that shutdown has begun.
func (a *appliance) stopping() {
	a.stopped.Store(true)
	_ = a.notify.Stopping("stopping: finishing the sends under way")
}

// close releases the notification socket.
func (a *appliance) close() { _ = a.notify.Close() }
