package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gsmgate/gsmgate/backup"
	"github.com/gsmgate/gsmgate/control"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// runBackup takes a backup through the running daemon's control socket: a
// consistent snapshot made inside the daemon, not a copy of a file being
// written.
func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gsmgate backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	to := fs.String("to", "", "the backup file to write (replaced only once the new backup is complete)")
	setUsage(fs, stderr,
		"usage: gsmgate backup --to FILE [--config FILE] [--data-dir DIR]",
		"\nWrites a consistent copy of the running daemon's database to FILE, through",
		"its control socket in the data directory; the daemon keeps working meanwhile.",
		"Restore it with `gsmgate restore --from FILE` while the daemon is stopped.",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := c.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	client := control.NewClient(filepath.Join(cfg.DataDir, control.SocketName))
	var info backupInfo
	n, err := backup.WriteFile(ctx, *to, func(ctx context.Context, w io.Writer) (int64, error) {
		return client.Stream(ctx, "backup", nil, w, &info)
	})
	if errors.Is(err, control.ErrNoDaemon) {
		fmt.Fprintf(stderr, "gsmgate backup: %v\n(the daemon is not running on %s: with it stopped, the database file %s can be copied as it is)\n",
			err, cfg.DataDir, filepath.Join(cfg.DataDir, dbFile))
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes, from gsmgate %s)\n", *to, n, info.Version)
	return 0
}

// runRestore puts a backup in place of the database, with the daemon
// stopped.
func runRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gsmgate restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	from := fs.String("from", "", "the backup file to restore")
	setUsage(fs, stderr,
		"usage: gsmgate restore --from FILE [--config FILE] [--data-dir DIR]",
		"\nReplaces the database with a backup. Stop the daemon first (systemctl stop gsmgate).",
		"The database replaced is kept beside it as gsmgate.db.before-restore-<time>.",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cfg, err := c.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "gsmgate restore: data directory:", err)
		return 1
	}
	dbPath := filepath.Join(cfg.DataDir, dbFile)
	prev, err := backup.Restore(*from, dbPath, time.Now())
	if err != nil {
		switch {
		case errors.Is(err, store.ErrNotDatabase):
			fmt.Fprintf(stderr, "gsmgate restore: %s is not a gsmgate backup; nothing was changed\n(%v)\n", *from, err)
		case errors.Is(err, store.ErrNewerFormat):
			fmt.Fprintf(stderr, "gsmgate restore: %s was written by a newer gsmgate than this one (%s); upgrade gsmgate first. Nothing was changed.\n(%v)\n", *from, version, err)
		case errors.Is(err, store.ErrLocked):
			fmt.Fprintf(stderr, "gsmgate restore: the daemon is running on %s; stop it first (systemctl stop gsmgate). Nothing was changed.\n", cfg.DataDir)
		default:
			fmt.Fprintln(stderr, "gsmgate restore:", err)
		}
		return 1
	}
	fmt.Fprintf(stdout, "restored %s to %s\n", *from, dbPath)
	if prev != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", prev)
	}
	return 0
}
