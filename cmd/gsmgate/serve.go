package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/config"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webhook"
	"github.com/gsmgate/gsmgate/webui"
	"github.com/gsmgate/gsmgate/webui/ui"
)

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, stdout, stderr, nil)
}

// serveInfo is what a started daemon tells a test (and prints).
type serveInfo struct {
	URL     string
	DataDir string
	Token   string // demo only: an admin token made at start
	// demo is the virtual modem of --demo (nil otherwise), for tests to
	// inject faults or latency through.
	demo *sim.Modem
}

// serveMain runs the daemon until ctx ends, then shuts down gracefully:
// stop taking work (sends answer 503), end event streams, let requests and
// any AT+CMGS in flight finish, stop the modems, close the database.
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- serveInfo) int {
	fs := flag.NewFlagSet("gsmgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	listen := fs.String("listen", "", "HTTP listen address (overrides listen; default 127.0.0.1:8080)")
	var modems listFlag
	fs.Var(&modems, "modem", "a modem: device path or tcp://host:port (repeat; overrides modems; default: discover USB modems)")
	demo := fs.Bool("demo", false, "run against a virtual modem and a simulated network where two contacts reply")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gsmgate serve [--config FILE] [--data-dir DIR] [--listen ADDR] [--modem SPEC ...] [--demo]")
		fmt.Fprintln(stderr, "\nRuns the gateway: the modems, the outbox and inbox, the JSON API and webhooks.")
		fmt.Fprintln(stderr, "Configuration: the TOML file, then GSMGATE_* variables, then these flags (gsmgate config keys).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gsmgate serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := c.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if len(modems) > 0 {
		cfg.Modems = modems
	}
	if *demo {
		cfg.Demo = true
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := newLogger(cfg.Log, stderr)
	if u := config.UnknownEnv(os.Environ()); len(u) > 0 {
		log.Warn("environment variables that are not configuration keys (misspelt?)", "variables", strings.Join(u, ","))
	}

	if cfg.Demo && c.dataDir == "" && os.Getenv("GSMGATE_DATA_DIR") == "" {
		// A newcomer's first run must not need root or leave state in
		// /var/lib: the demo keeps its database in a fresh directory.
		dir, err := os.MkdirTemp("", "gsmgate-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate serve:", err)
			return 1
		}
		cfg.DataDir = dir
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		fmt.Fprintf(stderr, "gsmgate serve: data directory: %v\n", err)
		return 1
	}
	dbPath := filepath.Join(cfg.DataDir, dbFile)
	db, err := store.Open(dbPath, store.Options{Timeout: 2 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(stderr, "gsmgate serve: %s is in use: another gsmgate is already running on this data directory\n", dbPath)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate serve:", err)
		return 1
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("closing the database", "error", err)
		}
	}()
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{
		DefaultCountry: cfg.DefaultCountry, MaxRecipients: cfg.API.MaxRecipients, Retention: cfg.Retention.D(),
	})
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate serve:", err)
		return 1
	}
	info := serveInfo{DataDir: cfg.DataDir}
	if info.Token, err = bootstrap(ctx, svc, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "gsmgate serve:", err)
		return 1
	}

	// The listener first: a taken port is reported before any modem is
	// touched.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "gsmgate serve: listen on %s: %v\n", cfg.Listen, err)
		return 1
	}
	info.URL = "http://" + ln.Addr().String()

	// workCtx ends after the HTTP side has stopped: the gateway then lets
	// the sends under way finish and stops the modems.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	goRun := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	// The virtual modem outlives the gateway's shutdown, as a real one
	// would, so the send under way can finish.
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	pool := modem.NewPool(modem.PoolConfig{}, log)
	switch {
	case cfg.Demo:
		addr, sm, err := startDemo(simCtx, svc, log, goRun)
		info.demo = sm
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate serve: demo:", err)
			return 1
		}
		cfg.Modems = []string{addr}
		fallthrough
	case len(cfg.Modems) > 0:
		for _, m := range cfg.Modems {
			if err := pool.Add(modem.Config{Port: m}); err != nil {
				fmt.Fprintf(stderr, "gsmgate serve: modem %s: %v\n", m, err)
				return 1
			}
		}
	default:
		pool = modem.NewPool(modem.PoolConfig{Scan: modem.ScanUSB}, log)
		log.Info("no modem configured: looking for USB modems")
	}

	hooks := webhook.New(db, webhook.Options{Timeout: cfg.Webhook.Timeout.D(), MaxAge: cfg.Webhook.MaxAge.D(), Workers: cfg.Webhook.Workers, Logger: log})
	adapter := webui.NewService(svc, webui.ModemsFunc(func(context.Context) []webui.ModemStatus { return webui.ModemStatuses(pool.Modems()) }))
	gin.SetMode(gin.ReleaseMode)
	staffUI, err := ui.New(svc, ui.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate serve:", err)
		return 1
	}
	api := webui.New(adapter, adapter, hooks, webui.Options{
		MaxBodyBytes: cfg.API.MaxBodyBytes, MaxRecipients: cfg.API.MaxRecipients, MaxTextChars: cfg.API.MaxTextChars,
		RatePerSecond: cfg.API.RatePerSecond, RateBurst: cfg.API.RateBurst, Logger: log, UI: staffUI,
	})
	httpSrv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	// Subscribed before the gateway starts, so startup events (recovered
	// failures, messages read from the SIM) reach the webhooks.
	bridge := hooks.Subscribe(svc.Bus())
	gwDone := make(chan struct{})
	go func() {
		defer close(gwDone)
		if err := svc.Run(workCtx, pool, gateway.ModemOptions{}); err != nil {
			log.Error("gateway stopped", "error", err)
		}
	}()
	goRun(func() { _ = hooks.Run(workCtx) })
	goRun(func() { bridge.Run(workCtx) })
	goRun(func() { api.RunMetrics(workCtx) })
	goRun(func() { svc.RunRetention(workCtx) })
	httpDone := make(chan error, 1)
	go func() { httpDone <- httpSrv.Serve(ln) }()

	fmt.Fprintf(stdout, "gsmgate %s listening on %s (data in %s)\n", version, info.URL, cfg.DataDir)
	fmt.Fprintf(stdout, "web UI: open %s/ and log in as %q\n", info.URL, cfg.Admin.Name)
	if cfg.Demo {
		if err := seedDemo(workCtx, svc); err != nil {
			log.Warn("demo: seeding a conversation", "error", err)
		}
	}
	if info.Token != "" {
		fmt.Fprintf(stdout, "try:\n  GSMGATE_TOKEN=%s go run ./cmd/gsmgate send --url %s --to +447911123201 \"Hello Ada\"\n", info.Token, info.URL)
		fmt.Fprintf(stdout, "  curl -H 'Authorization: Bearer %s' %s/api/v1/conversations\n", info.Token, info.URL)
	}
	if ready != nil {
		ready <- info
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down: no new work; finishing what is under way")
	case err := <-httpDone:
		log.Error("HTTP server stopped", "error", err)
	}
	api.Drain()
	api.CloseStreams()
	staffUI.Close()
	shCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shCtx); err != nil {
		log.Warn("HTTP shutdown", "error", err)
	}
	// Now the modem side: the dispatcher finishes the AT+CMGS under way
	// (bounded by the modem's send timeout), then the pool stops.
	stopWork()
	<-gwDone
	stopSim()
	wg.Wait()
	log.Info("stopped")
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// bootstrap creates the first administrator on an empty database. In the
// demo it also makes an admin token and returns it.
func bootstrap(ctx context.Context, svc *gateway.Service, cfg config.Config, stdout io.Writer) (string, error) {
	us, err := svc.Users(ctx)
	if err != nil {
		return "", err
	}
	var admin store.User
	for _, u := range us {
		if u.Role == store.RoleAdmin && admin.ID == 0 {
			admin = u
		}
	}
	if admin.ID == 0 {
		pw, gen := cfg.Admin.Password, false
		if pw == "" && cfg.Demo {
			pw, gen, _ = readPassword("")
		}
		if pw == "" {
			if len(us) == 0 {
				fmt.Fprintln(stdout, "no users yet: create an admin with `gsmgate user add --role admin NAME` (daemon stopped), or set admin.password")
			}
			return "", nil
		}
		admin, err = svc.CreateUser(ctx, gateway.NewUser{Name: cfg.Admin.Name, Password: pw, Role: store.RoleAdmin})
		if err != nil {
			return "", fmt.Errorf("creating the first admin %q: %w", cfg.Admin.Name, err)
		}
		fmt.Fprintf(stdout, "created admin user %q", admin.Name)
		if gen {
			fmt.Fprintf(stdout, " with password %s", pw)
		}
		fmt.Fprintln(stdout)
	}
	if !cfg.Demo {
		return "", nil
	}
	_, secret, err := svc.CreateToken(ctx, admin.ID, "demo-"+time.Now().Format("150405"), []store.Scope{store.ScopeAdmin}, time.Now().Add(24*time.Hour))
	return secret, err
}

// demoContacts reply to what they are sent.
var demoContacts = []struct {
	number, name, company, job, email string
	replies                           []string
}{
	{"+447911123201", "Ada Lovelace", "Analytical Engines Ltd", "Head of Programming", "ada@example.com", []string{"Thanks, got it!", "Can we move it to Thursday?", "Perfect, see you then."}},
	{"+447911123202", "Grace Hopper", "Compilers & Co", "Rear Admiral, Systems", "grace@example.com", []string{"Received. I'll call you back.", "Yes, please send the details.", "👍"}},
}

// seedDemo sends the demo's first message, from the first admin to Grace,
// on a database with no conversation yet, so that a newcomer who logs in
// finds a conversation (Grace's reply follows within seconds; the README's
// first send goes to Ada, a conversation of its own).
func seedDemo(ctx context.Context, svc *gateway.Service) error {
	us, err := svc.Users(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if u.Role != store.RoleAdmin || u.Disabled {
			continue
		}
		page, err := svc.Conversations(ctx, u.ID, gateway.ConversationQuery{All: true, Limit: 1})
		if err != nil || len(page.Items) > 0 {
			return err
		}
		_, err = svc.Send(ctx, gateway.SendRequest{UserID: u.ID, To: []string{demoContacts[1].number}, StatusReport: true,
			Text: "Hello Grace, this is gsmgate's demo. Reply to me here, or try Send SMS at the top."})
		return err
	}
	return nil
}

// startDemo starts a virtual modem on loopback TCP and the simulated
// network's repliers; it returns the modem's address for the pool, and the
// modem.
func startDemo(ctx context.Context, svc *gateway.Service, log *slog.Logger, goRun func(func())) (string, *sim.Modem, error) {
	n := sim.NewNetwork(sim.NetworkOptions{})
	m, err := n.AddModem(sim.ModemOptions{OwnNumber: "+447700900123", Latency: 800 * time.Millisecond, LatencyMax: 2 * time.Second, Operator: "gsmgate demo"})
	if err != nil {
		return "", nil, err
	}
	addr, err := m.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	for _, c := range demoContacts {
		if _, err := svc.UpsertContact(ctx, gateway.ContactInput{Number: c.number, Name: c.name, Company: c.company,
			JobTitle: c.job, Email: c.email, CRMURL: "https://crm.example.com/contacts/" + strings.TrimPrefix(c.number, "+")}); err != nil {
			return "", nil, err
		}
	}
	goRun(func() { demoReplies(ctx, n, m, log) })
	if !strings.HasPrefix(addr, "tcp://") {
		addr = "tcp://" + addr
	}
	log.Info("demo: virtual modem on the simulated network", "addr", addr, "contacts that reply", "+447911123201, +447911123202")
	return addr, m, nil
}

// demoReplies watches what the network accepted and, a moment after a
// complete message to a demo contact, has that contact answer.
func demoReplies(ctx context.Context, n *sim.Network, m *sim.Modem, log *slog.Logger) {
	seen := 0
	count := map[string]int{}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent := n.Sent()
		for _, p := range sent[seen:] {
			if p.Total > 0 && p.Part != p.Total {
				continue
			}
			for _, c := range demoContacts {
				if p.To != c.number {
					continue
				}
				text := c.replies[count[c.number]%len(c.replies)]
				count[c.number]++
				from := c.number
				time.AfterFunc(1500*time.Millisecond, func() {
					if ctx.Err() != nil {
						return
					}
					if _, err := n.Inbound(m, sim.InboundSMS{From: from, Text: text}); err != nil {
						log.Warn("demo: reply", "from", from, "error", err)
					}
				})
			}
		}
		seen = len(sent)
	}
}
