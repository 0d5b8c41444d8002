package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gsmgate/gsmgate/config"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// dbFile is the database's name inside the data directory.
const dbFile = "gsmgate.db"

// commonFlags are --config and --data-dir, shared by the commands that work
// on the data directory.
type commonFlags struct {
	configPath string
	dataDir    string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "configuration file (default $GSMGATE_CONFIG, else "+config.DefaultPath+" when it exists)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory holding "+dbFile+" (overrides data_dir)")
}

// load reads the configuration: file, environment, then the flags given.
func (c *commonFlags) load() (config.Config, error) {
	path, optional := c.configPath, false
	if path == "" {
		path = os.Getenv("GSMGATE_CONFIG")
	}
	if path == "" {
		path, optional = config.DefaultPath, true
	}
	cfg, err := config.Load(path, optional, os.Environ())
	if err != nil {
		return cfg, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	return cfg, cfg.Validate()
}

// openStore opens the database of a data directory for a tool: if the
// daemon holds it, it says so rather than waiting.
func openStore(dataDir string) (*store.DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dataDir, dbFile)
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("the database %s is in use by the running gsmgate daemon; stop it first (systemctl stop gsmgate), or use the admin API while it runs (/api/v1/users, /api/v1/tokens with an admin token)", path)
	}
	return db, err
}

// openService opens the store and the gateway service over it for the
// user and token tools. Only a command that writes the first record (create)
// may create the database: a read of a data directory that holds none says
// so instead of leaving an empty database behind.
func openService(cfg config.Config, create bool, stderr io.Writer) (*gateway.Service, func(), error) {
	if !create {
		path := filepath.Join(cfg.DataDir, dbFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("no database at %s (gsmgate serve or gsmgate user add creates it; --data-dir or --config names another)", path)
		}
	}
	db, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{DefaultCountry: cfg.DefaultCountry})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}

// subcommand splits off the subcommand of a tool that has several (user,
// token) the same way for each: none given is a usage error, help prints the
// usage to stdout, and a name not in subs is refused before any flag is
// parsed. ok false means: return code.
func subcommand(cmd string, args, subs []string, usage func(io.Writer), stdout, stderr io.Writer) (sub string, rest []string, code int, ok bool) {
	if len(args) == 0 {
		usage(stderr)
		return "", nil, 2, false
	}
	sub, rest = args[0], args[1:]
	if sub == "-h" || sub == "--help" || sub == "help" {
		usage(stdout)
		return "", nil, 0, false
	}
	if !slices.Contains(subs, sub) {
		fmt.Fprintf(stderr, "%s: unknown subcommand %q\n", cmd, sub)
		usage(stderr)
		return "", nil, 2, false
	}
	return sub, rest, 0, true
}

// parseFlags parses and handles --help (exit 0) and bad flags (exit 2).
// setUsage makes fs's -h (and a bad flag) print the usage lines, then the
// flags and their defaults, to w.
func setUsage(fs *flag.FlagSet, w io.Writer, lines ...string) {
	fs.Usage = func() {
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		fs.PrintDefaults()
	}
}

func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

func runConfig(args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: gsmgate config check [FILE]   validate a configuration file, line by line")
		fmt.Fprintln(w, "       gsmgate config show [--config FILE]   print the effective configuration (file, environment)")
		fmt.Fprintln(w, "       gsmgate config keys                   list every key and its environment variable")
	}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "check":
		fs := flag.NewFlagSet("gsmgate config check", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if code, ok := parseFlags(fs, args[1:]); !ok {
			return code
		}
		path := fs.Arg(0)
		if path == "" {
			if path = os.Getenv("GSMGATE_CONFIG"); path == "" {
				path = config.DefaultPath
			}
		}
		if _, err := config.Check(path); err != nil {
			var ps config.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					fmt.Fprintln(stderr, p.String())
				}
				fmt.Fprintf(stderr, "%s: %d problem(s)\n", path, len(ps))
				return 1
			}
			fmt.Fprintln(stderr, "gsmgate config check:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: ok\n", path)
		return 0
	case "show":
		fs := flag.NewFlagSet("gsmgate config show", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var c commonFlags
		c.register(fs)
		if code, ok := parseFlags(fs, args[1:]); !ok {
			return code
		}
		cfg, err := c.load()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if cfg.Admin.Password != "" {
			cfg.Admin.Password = "(set)"
		}
		if err := toml.NewEncoder(stdout).Encode(cfg); err != nil {
			fmt.Fprintln(stderr, "gsmgate config show:", err)
			return 1
		}
		return 0
	case "keys":
		for _, k := range config.Keys() {
			fmt.Fprintf(stdout, "%-24s %s\n", k[0], k[1])
		}
		fmt.Fprintln(stdout, "\nSecrets (admin.password) may also come from a file named by <VARIABLE>_FILE.")
		return 0
	default:
		fmt.Fprintf(stderr, "gsmgate config: unknown subcommand %q\n", args[0])
		usage(stderr)
		return 2
	}
}

// scopesFrom parses "send,read".
func scopesFrom(s string) []model.Scope {
	var out []model.Scope
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, model.Scope(p))
		}
	}
	return out
}

// errorLine prints a gateway error the way a person reads it.
func errorLine(stderr io.Writer, cmd string, err error) int {
	var ve *gateway.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Fprintf(stderr, "%s: %s: %s\n", cmd, f.Field, f.Reason)
		}
		return 1
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
	return 1
}
