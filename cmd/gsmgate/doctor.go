package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gsmgate/gsmgate/config"
	"github.com/gsmgate/gsmgate/control"
	"github.com/gsmgate/gsmgate/doctor"
	"github.com/gsmgate/gsmgate/modem"
)

// clockFloor is a date the system clock cannot honestly be before: this
// code did not exist yet.
var clockFloor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// daemonStatus is the data of the control socket's "status" reply.
type daemonStatus struct {
	PID     int            `json:"pid"`
	Version string         `json:"version"`
	Modems  []modem.Status `json:"modems"`
}

// daemonDB adapts the control client to doctor.DaemonDB.
type daemonDB struct{ c *control.Client }

func (d daemonDB) CheckDB(ctx context.Context) ([]string, error) {
	var r checkDBReply
	err := d.c.Call(ctx, "check-db", nil, &r)
	return r.Problems, err
}

func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gsmgate doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	userName := fs.String("user", "gsmgate", "the user the daemon runs as, whose access is checked (falls back to the current user when it does not exist)")
	minFree := fs.Int64("min-free-mb", 100, "free space the data directory's file system needs, in MiB")
	timeout := fs.Duration("timeout", 5*time.Second, "how long a modem may take to answer one command")
	var ports listFlag
	fs.Var(&ports, "port", "a port to check (repeat; default: the configured modems, else the USB modem ports found)")
	setUsage(fs, stderr,
		"usage: gsmgate doctor [--config FILE] [--data-dir DIR] [--user NAME] [--port PATH ...]",
		"\nChecks the configuration, the data directory, the database, the serial ports, the",
		"modems and the clock, and says in plain words what to do about each problem.",
		"Exit status 1 when a problem was found. Run it as root to see every process.",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ctx := context.Background()
	var rep doctor.Report

	path, named := c.configPath, c.configPath != ""
	if path == "" {
		path = os.Getenv("GSMGATE_CONFIG")
		named = path != ""
	}
	if path == "" {
		path = config.DefaultPath
	}
	rep = append(rep, doctor.ConfigFile(path, named))
	cfg, err := c.load()
	if err != nil {
		// The finding above explains; go on with what can be checked.
		cfg = config.Default()
		if c.dataDir != "" {
			cfg.DataDir = c.dataDir
		}
	}

	who, err := doctor.LookupIdentity(*userName)
	if err != nil {
		who = doctor.CurrentIdentity()
	}
	rep = append(rep, doctor.DataDir(cfg.DataDir, who, uint64(*minFree)<<20)...)

	client := control.NewClient(filepath.Join(cfg.DataDir, control.SocketName))
	var st daemonStatus
	var daemon doctor.DaemonDB
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = client.Call(cctx, "status", nil, &st)
	cancel()
	switch {
	case err == nil:
		daemon = daemonDB{client}
		rep = append(rep, doctor.Result{Check: "daemon", Level: doctor.OK, Detail: fmt.Sprintf("gsmgate %s runs (pid %d)", st.Version, st.PID)})
	case errors.Is(err, control.ErrNoDaemon):
		rep = append(rep, doctor.Result{Check: "daemon", Level: doctor.OK, Detail: "not running (the checks below open the database and the modems themselves)"})
	default:
		rep = append(rep, doctor.Result{Check: "daemon", Level: doctor.Warn, Detail: fmt.Sprintf("the control socket does not answer: %v", err)})
	}
	rep = append(rep, doctor.Database(ctx, filepath.Join(cfg.DataDir, dbFile), daemon))

	if len(ports) == 0 {
		ports = cfg.Modems
	}
	if len(ports) == 0 && !cfg.Demo {
		found, err := modem.USBPorts(false)
		if err != nil {
			rep = append(rep, doctor.Result{Check: "modems", Level: doctor.Warn, Detail: fmt.Sprintf("cannot list serial ports: %v", err)})
		}
		for _, p := range found {
			ports = append(ports, p.Path)
		}
		if len(found) == 0 && daemon == nil {
			rep = append(rep, doctor.Result{Check: "modems", Level: doctor.Fail, Detail: "none configured and no USB modem found: plug one in (`gsmgate modems` lists what answers), or set modems in the configuration"})
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	for _, p := range ports {
		pr := doctor.Port(p, who, st.PID)
		rep = append(rep, pr...)
		if daemon != nil || doctor.Report(pr).Failed() {
			continue // the daemon's view follows; or the port cannot be opened
		}
		pctx, cancel := context.WithTimeout(ctx, 6**timeout)
		rep = append(rep, doctor.ModemProbe(pctx, modem.Config{Port: p, CommandTimeout: *timeout, SIMWait: *timeout}, quiet)...)
		cancel()
	}
	for _, m := range st.Modems {
		rep = append(rep, doctor.ModemStatus(m)...)
	}
	rep = append(rep, doctor.Clock(time.Now(), clockFloor, doctor.KernelSynced))

	rep.Print(stdout)
	if rep.Failed() {
		return 1
	}
	return 0
}
