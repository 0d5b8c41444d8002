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
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webui"
	"github.com/gsmgate/gsmgate/webui/httpkit"
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
	// Control is the address of the virtual modem's control endpoint
	// (serve --demo --control), "" otherwise.
	Control string
	// demo is the virtual modem of --demo (nil otherwise), for tests to
	// inject faults or latency through.
	demo *sim.Modem
	// demoModems are all the virtual modems of --demo.
	demoModems []*sim.Modem
	// svc is the gateway core and db its database, for tests that send
	// through the one and hold the other's write lock.
	svc *gateway.Service
	db  *store.DB
}

// serveMain runs the daemon until ctx ends, then shuts down gracefully:
// stop taking work (sends answer 503), end event streams, let requests and
// any AT+CMGS in flight finish, stop the modems, close the database. It is
// three steps: read the configuration, build the parts, run them.
func serveMain(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- serveInfo) int {
	cfg, control, code, ok := serveConfig(args, stderr)
	if !ok {
		return code
	}
	in, err := buildServe(ctx, cfg, control, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate serve:", err)
		return 1
	}
	defer in.close()
	return in.run(ctx, stdout, ready)
}

// serveConfig reads the flags over the configuration (file, then
// environment, then flags) and validates it.
func serveConfig(args []string, stderr io.Writer) (cfg config.Config, control string, code int, ok bool) {
	fs := flag.NewFlagSet("gsmgate serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	listen := fs.String("listen", "", "HTTP listen address (overrides listen; default 127.0.0.1:8080)")
	var modems listFlag
	fs.Var(&modems, "modem", "a modem: device path or tcp://host:port (repeat; overrides modems; default: discover USB modems)")
	demo := fs.Bool("demo", false, "run against a virtual modem and a simulated network where two contacts reply")
	fs.StringVar(&control, "control", "", "with --demo: serve the virtual modem's control endpoint on this loopback address (127.0.0.1:7002)")
	setUsage(fs, stderr,
		"usage: gsmgate serve [--config FILE] [--data-dir DIR] [--listen ADDR] [--modem SPEC ...] [--demo [--control ADDR]]",
		"\nRuns the gateway: the modems, the outbox and inbox, the JSON API and webhooks.",
		"Configuration: the TOML file, then GSMGATE_* variables, then these flags (gsmgate config keys).",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return cfg, "", code, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gsmgate serve: unexpected argument %q\n", fs.Arg(0))
		return cfg, "", 2, false
	}
	if control != "" {
		if !*demo {
			fmt.Fprintln(stderr, "gsmgate serve: --control needs --demo (it drives the virtual modem)")
			return cfg, "", 2, false
		}
		if err := checkLoopback(control); err != nil {
			fmt.Fprintf(stderr, "gsmgate serve: --control: %v\n", err)
			return cfg, "", 2, false
		}
	}
	cfg, err := c.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return cfg, "", 1, false
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
		return cfg, "", 1, false
	}
	if cfg.Demo && c.dataDir == "" && os.Getenv("GSMGATE_DATA_DIR") == "" {
		// A newcomer's first run must not need root or leave state in
		// /var/lib: the demo keeps its database in a fresh directory.
		dir, err := os.MkdirTemp("", "gsmgate-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate serve:", err)
			return cfg, "", 1, false
		}
		cfg.DataDir = dir
	}
	return cfg, control, 0, true
}

// instance is a built daemon: every part made and wired, nothing running
// but the virtual modem of the demo.
type instance struct {
	cfg     config.Config
	log     *slog.Logger
	db      *store.DB
	svc     *gateway.Service
	policy  gateway.SendPolicy
	pool    *modem.Pool
	hooks   *webhook.Sender
	bridge  *webhook.BusBridge
	web     *webui.Server
	ui      *ui.Handler
	httpSrv *http.Server
	ln      net.Listener
	info    serveInfo
	// simCtx outlives the gateway's shutdown, as a real modem would, so
	// the send under way can finish.
	simCtx  context.Context
	stopSim context.CancelFunc
	wg      sync.WaitGroup
	closers []func()
	// ap is systemd, the control socket, HTTPS and the nightly backup
	// (appliance.go); tlsLn the HTTPS listener (nil without tls_listen).
	ap    *appliance
	tlsLn net.Listener
}

func (in *instance) goRun(f func()) {
	in.wg.Add(1)
	go func() { defer in.wg.Done(); f() }()
}

// close releases what build made, in reverse order.
func (in *instance) close() {
	in.stopSim()
	in.wg.Wait()
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i]()
	}
}

// buildServe opens the database, makes the core, the first admin, the
// listener (first, so a taken port is reported before any modem is
// touched), the modem pool (the demo's virtual modem), the webhook sender
// and the web server.
func buildServe(ctx context.Context, cfg config.Config, control string, stdout, stderr io.Writer) (_ *instance, err error) {
	in := &instance{cfg: cfg, log: newLogger(cfg.Log, stderr), info: serveInfo{DataDir: cfg.DataDir}}
	in.simCtx, in.stopSim = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			in.close()
		}
	}()
	log := in.log
	if u := config.UnknownEnv(os.Environ()); len(u) > 0 {
		log.Warn("environment variables that are not configuration keys (misspelt?)", "variables", strings.Join(u, ","))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// The appliance (systemd notifications) comes first: a format upgrade
	// while the database opens asks systemd for more start-up time.
	in.ap = newAppliance(cfg, log, os.Getenv)
	in.closers = append(in.closers, in.ap.close)
	dbPath := filepath.Join(cfg.DataDir, dbFile)
	stopExtending := in.ap.notify.KeepStarting(20*time.Second, time.Minute)
	in.db, err = store.Open(dbPath, store.Options{Timeout: 2 * time.Second, OnMigrate: func(from, to uint64) {
		log.Info("upgrading the database to a newer format; on a large database this can take minutes", "file", dbPath, "from", from, "to", to)
		_ = in.ap.notify.Status(fmt.Sprintf("upgrading the database format %d → %d", from, to))
	}})
	stopExtending()
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%s is in use: another gsmgate is already running on this data directory", dbPath)
	}
	if err != nil {
		return nil, err
	}
	in.closers = append(in.closers, func() {
		if err := in.db.Close(); err != nil {
			log.Error("closing the database", "error", err)
		}
	})
	if in.policy, err = sendPolicy(cfg.Policy); err != nil {
		return nil, err
	}
	in.svc, err = gateway.New(in.db, gateway.SystemClock{}, log, gateway.Options{
		DefaultCountry: cfg.DefaultCountry, MaxRecipients: cfg.API.MaxRecipients, MaxTextChars: cfg.API.MaxTextChars,
		Retention: cfg.Retention.D(),
		OptOut: gateway.OptOutOptions{Disabled: cfg.OptOut.Disabled, StopWords: cfg.OptOut.StopWords, StartWords: cfg.OptOut.StartWords,
			StopReply: cfg.OptOut.StopReply, StartReply: cfg.OptOut.StartReply},
		Policy: in.policy,
	})
	if err != nil {
		return nil, err
	}
	in.ap.svc = in.svc
	in.info.svc, in.info.db = in.svc, in.db
	if in.info.Token, err = bootstrap(ctx, in.svc, cfg, stdout); err != nil {
		return nil, err
	}
	if in.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	in.closers = append(in.closers, func() { in.ln.Close() })
	in.info.URL = "http://" + in.ln.Addr().String()
	if in.tlsLn, err = in.ap.listenTLS(stdout); err != nil {
		return nil, fmt.Errorf("https: %w", err)
	}
	if in.tlsLn != nil {
		in.closers = append(in.closers, func() { in.tlsLn.Close() })
	}

	in.pool = modem.NewPool(modem.PoolConfig{}, log)
	switch {
	case cfg.Demo:
		d, err := startDemo(in.simCtx, in.svc, log, in.goRun)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		in.info.demo, in.info.demoModems = d.modems[0], d.modems
		if control != "" {
			if in.info.Control, err = serveControl(in.simCtx, control, d, in.goRun); err != nil {
				return nil, fmt.Errorf("demo: control: %w", err)
			}
		}
		cfg.Modems = d.addrs
		fallthrough
	case len(cfg.Modems) > 0:
		for _, m := range cfg.Modems {
			if err := in.pool.Add(modem.Config{Port: m}); err != nil {
				return nil, fmt.Errorf("modem %s: %w", m, err)
			}
		}
	default:
		in.pool = modem.NewPool(modem.PoolConfig{Scan: in.ap.watchScan(modem.ScanUSB)}, log)
		log.Info("no modem configured: looking for USB modems")
	}

	in.hooks = webhook.New(in.db, webhook.Options{Timeout: cfg.Webhook.Timeout.D(), MaxAge: cfg.Webhook.MaxAge.D(), Workers: cfg.Webhook.Workers, Logger: log})
	gin.SetMode(gin.ReleaseMode)
	secure, err := ui.ParseCookieSecurity(cfg.Web.SecureCookies)
	if err != nil {
		return nil, err
	}
	// One set of rate-limit buckets for API tokens and UI sessions alike.
	limits := httpkit.NewLimiters(cfg.API.RatePerSecond, cfg.API.RateBurst)
	if in.ui, err = ui.New(in.svc, ui.Options{Logger: log, Admin: in.svc, Webhooks: in.hooks, SecureCookies: secure, Limits: limits}); err != nil {
		return nil, err
	}
	in.web = webui.New(in.svc, in.hooks, webui.Options{
		MaxBodyBytes:  cfg.API.MaxBodyBytes,
		RatePerSecond: cfg.API.RatePerSecond, RateBurst: cfg.API.RateBurst, Limits: limits, Logger: log, UI: in.ui,
	})
	in.httpSrv = &http.Server{Handler: in.web.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	// Subscribed before the gateway starts, so startup events (recovered
	// failures, messages read from the SIM) reach the webhooks.
	in.bridge = in.hooks.Subscribe(in.svc)
	return in, nil
}

// run starts the parts, serves until ctx ends or the HTTP server fails,
// then shuts down in order: the web side first, then the modem side.
func (in *instance) run(ctx context.Context, stdout io.Writer, ready chan<- serveInfo) int {
	log := in.log
	// workCtx ends after the HTTP side has stopped: the gateway then lets
	// the sends under way finish and stops the modems.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	gwDone := make(chan struct{})
	if err := in.ap.run(workCtx, in.pool, in.cfg.Demo || len(in.cfg.Modems) > 0, gwDone, in.goRun); err != nil {
		log.Error("control socket", "error", err)
		return 1
	}
	go func() {
		defer close(gwDone)
		if err := in.svc.Run(workCtx, in.pool, gateway.ModemOptions{Policy: in.policy}); err != nil {
			log.Error("gateway stopped", "error", err)
		}
	}()
	in.goRun(func() { _ = in.hooks.Run(workCtx) })
	in.goRun(func() { in.bridge.Run(workCtx) })
	in.goRun(func() { in.web.RunMetrics(workCtx) })
	in.goRun(func() { in.svc.RunRetention(workCtx) })
	in.goRun(func() { _ = in.svc.RunModemStats(workCtx, gateway.StatsOptions{}) })
	httpDone := make(chan error, 2)
	go func() { httpDone <- in.httpSrv.Serve(in.ln) }()
	if in.tlsLn != nil {
		go func() { httpDone <- in.httpSrv.Serve(in.tlsLn) }()
	}

	info := in.info
	fmt.Fprintf(stdout, "gsmgate %s listening on %s (data in %s)\n", version, info.URL, in.cfg.DataDir)
	if code, err := in.svc.SetupCode(workCtx); err == nil && code != "" {
		// First run: no user yet. The setup page answers this machine
		// (loopback) without the code, anyone else only with it.
		fmt.Fprintf(stdout, "first run: open %s/setup on this machine to create the first admin; from another machine use the setup code %s\n", info.URL, code)
		log.Warn("first-run setup: no user yet", "url", info.URL+"/setup", "setup_code", code)
	} else {
		fmt.Fprintf(stdout, "web UI: open %s/ and log in as %q\n", info.URL, in.cfg.Admin.Name)
	}
	if in.cfg.Demo {
		if err := seedDemo(workCtx, in.svc); err != nil {
			log.Warn("demo: seeding a conversation", "error", err)
		}
	}
	if info.Control != "" {
		fmt.Fprintf(stdout, "virtual modem control on http://%s (see the README: make an SMS arrive, force an error, unplug)\n", info.Control)
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
	in.ap.stopping()
	in.web.Drain()
	in.web.CloseStreams()
	in.ui.Close()
	shCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := in.httpSrv.Shutdown(shCtx); err != nil {
		log.Warn("HTTP shutdown", "error", err)
	}
	// Now the modem side: the dispatcher finishes the AT+CMGS under way
	// (bounded by the modem's send timeout), then the pool stops.
	stopWork()
	<-gwDone
	in.stopSim()
	in.wg.Wait()
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
	var admin model.User
	for _, u := range us {
		if u.Role == model.RoleAdmin && admin.ID == 0 {
			admin = u
		}
	}
	if admin.ID == 0 {
		pw, gen := cfg.Admin.Password, false
		if pw == "" && cfg.Demo {
			pw, gen, _ = readPassword("")
		}
		if pw == "" {
			// No user: the web UI's setup page makes the first admin (its
			// address and code are printed once the listener is up).
			return "", nil
		}
		admin, err = svc.CreateUser(ctx, gateway.NewUser{Name: cfg.Admin.Name, Password: pw, Role: model.RoleAdmin})
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
	_, secret, err := svc.CreateToken(ctx, admin.ID, "demo-"+time.Now().Format("150405"), []model.Scope{model.ScopeAdmin}, time.Now().Add(24*time.Hour))
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
		if u.Role != model.RoleAdmin || u.Disabled {
			continue
		}
		page, err := svc.Conversations(ctx, u.ID, gateway.ConversationQuery{All: true, Page: gateway.Page{Limit: 1}})
		if err != nil || len(page.Items) > 0 {
			return err
		}
		_, err = svc.Send(ctx, gateway.SendRequest{UserID: u.ID, To: []string{demoContacts[1].number}, StatusReport: true,
			Text: "Hello Grace, this is gsmgate's demo. Reply to me here, or try Send SMS at the top."})
		return err
	}
	return nil
}

// demoNumbers are the demo's virtual modems (two SIMs, so that routing and
// sharing a bulk across modems can be seen without hardware).
var demoNumbers = []string{"+447700900123", "+447700900124"}

// demoModem is the demo's virtual modems on their simulated network.
type demoModem struct {
	addrs  []string // for the pool: tcp://127.0.0.1:PORT
	net    *sim.Network
	modems []*sim.Modem
}

// startDemo starts the demo's virtual modems on loopback TCP and the
// simulated network's repliers.
func startDemo(ctx context.Context, svc *gateway.Service, log *slog.Logger, goRun func(func())) (demoModem, error) {
	d := demoModem{net: sim.NewNetwork(sim.NetworkOptions{})}
	for _, number := range demoNumbers {
		m, err := d.net.AddModem(sim.ModemOptions{OwnNumber: number, Latency: 800 * time.Millisecond, LatencyMax: 2 * time.Second, Operator: "gsmgate demo"})
		if err != nil {
			return demoModem{}, err
		}
		addr, err := m.ServeTCP(ctx, "127.0.0.1:0")
		if err != nil {
			return demoModem{}, err
		}
		if !strings.HasPrefix(addr, "tcp://") {
			addr = "tcp://" + addr
		}
		d.addrs, d.modems = append(d.addrs, addr), append(d.modems, m)
	}
	for _, c := range demoContacts {
		if _, err := svc.UpsertContact(ctx, gateway.ContactInput{Number: c.number, Name: c.name, Company: c.company,
			JobTitle: c.job, Email: c.email, CRMURL: "https://crm.example.com/contacts/" + strings.TrimPrefix(c.number, "+")}); err != nil {
			return demoModem{}, err
		}
	}
	goRun(func() { demoReplies(ctx, d.net, d.modems, log) })
	log.Info("demo: virtual modems on the simulated network", "addrs", strings.Join(d.addrs, ", "), "contacts that reply", "+447911123201, +447911123202")
	return d, nil
}

// serveControl serves the virtual modem's control endpoint (the one of
// gsmgate sim --control) on addr, a loopback address; it returns the
// address it listens on.
func serveControl(ctx context.Context, addr string, d demoModem, goRun func(func())) (string, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	// The root drives the first modem; /modems/N/ the N-th (as gsmgate sim).
	mux := http.NewServeMux()
	mux.Handle("/", d.net.ControlHandler(ctx, d.modems[0]))
	for i, m := range d.modems {
		prefix := fmt.Sprintf("/modems/%d", i+1)
		mux.Handle(prefix+"/", http.StripPrefix(prefix, d.net.ControlHandler(ctx, m)))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	goRun(func() { _ = srv.Serve(l) })
	goRun(func() { <-ctx.Done(); _ = srv.Close() })
	return l.Addr().String(), nil
}

// demoReplies watches what the network accepted and, a moment after a
// complete message to a demo contact, has that contact answer to the modem
// (SIM) the message came from.
func demoReplies(ctx context.Context, n *sim.Network, modems []*sim.Modem, log *slog.Logger) {
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
				m := modems[0]
				for _, x := range modems {
					if x.IMEI() == p.Modem {
						m = x
					}
				}
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

// sendPolicy turns the configuration's policy section into the gateway's.
func sendPolicy(c config.Policy) (gateway.SendPolicy, error) {
	quiet, err := gateway.ParseQuietHours(c.QuietHours)
	if err != nil {
		return gateway.SendPolicy{}, fmt.Errorf("policy.quiet_hours: %w", err)
	}
	p := gateway.SendPolicy{Default: gateway.ModemPolicy{RatePerMinute: c.RatePerMinute, DailyCap: c.DailyCap, Quiet: quiet}}
	if c.TimeZone != "" {
		if p.Location, err = time.LoadLocation(c.TimeZone); err != nil {
			return gateway.SendPolicy{}, fmt.Errorf("policy.time_zone: %w", err)
		}
	}
	for id, m := range c.Modems {
		q, err := gateway.ParseQuietHours(m.QuietHours)
		if err != nil {
			return gateway.SendPolicy{}, fmt.Errorf("policy.modems.%s.quiet_hours: %w", id, err)
		}
		if p.Modems == nil {
			p.Modems = map[string]gateway.ModemPolicy{}
		}
		p.Modems[id] = gateway.ModemPolicy{RatePerMinute: m.RatePerMinute, DailyCap: m.DailyCap, Quiet: q}
	}
	return p, nil
}
