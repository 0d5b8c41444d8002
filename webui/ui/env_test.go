package ui_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/gsmgate/gsmgate/webui"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// The tests run the real stack once for the package: a bbolt file, the
// gateway with its dispatcher and inbox, a virtual modem on a simulated
// network over loopback TCP, the webui server with the UI mounted, and one
// headless Chromium. Each test works with its own users and numbers and a
// fresh browser context (its own cookies), so tests do not see each other.

type stack struct {
	svc       *gateway.Service
	net       *sim.Network
	sm        *sim.Modem
	ui        *ui.Handler
	url       string
	browser   context.Context // nil when no browser could be started
	noBrowser string
}

var theStack *stack

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	// A fuzzing worker runs only the fuzz target, which builds its own
	// small stack (FuzzUIForms): no modem, no browser per worker.
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "gsmgate-ui-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, stop, err := startStack(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ui tests:", err)
		return 1
	}
	defer stop()
	theStack = s
	return m.Run()
}

func startStack(ctx context.Context, dir string) (*stack, func(), error) {
	db, err := store.Open(filepath.Join(dir, "gsmgate.db"), store.Options{Timeout: time.Second})
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("GSMGATE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var pool *modem.Pool
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{DefaultCountry: "GB", PasswordCost: 4,
		ModemStatus: func() []model.ModemStatus { return gateway.ModemStatuses(pool.Modems()) }})
	if err != nil {
		return nil, nil, err
	}
	n := sim.NewNetwork(sim.NetworkOptions{})
	sm, err := n.AddModem(sim.ModemOptions{OwnNumber: "+447700900001", Latency: 5 * time.Millisecond})
	if err != nil {
		return nil, nil, err
	}
	addr, err := sm.ServeTCP(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	pool = modem.NewPool(modem.PoolConfig{
		Modem: modem.Config{CommandTimeout: 2 * time.Second, SendTimeout: 10 * time.Second, ProbeInterval: time.Second,
			PollInterval: time.Second, RedeliverAfter: time.Hour, SIMWait: 5 * time.Second, ResetWait: 5 * time.Second},
		RescanInterval: 100 * time.Millisecond, RetryMin: 50 * time.Millisecond, RetryMax: time.Second,
	}, log)
	if err := pool.Add(modem.Config{Port: "tcp://" + addr}); err != nil {
		return nil, nil, err
	}
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		// A multipart message missing a part is delivered as incomplete
		// after 2 s (the test of the "incomplete" mark waits that long).
		_ = svc.Run(runCtx, pool, gateway.ModemOptions{RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, MaxAttempts: 3,
			IncompleteAfter: 2 * time.Second, BulkNoticeDelay: 300 * time.Millisecond})
	})
	hooks := webhook.New(db, webhook.Options{Logger: log})
	h, err := ui.New(svc, ui.Options{Logger: log, LoginPerMinute: 1000, Admin: svc, Webhooks: hooks})
	if err != nil {
		stopRun()
		return nil, nil, err
	}
	api := webui.New(svc, hooks, webui.Options{Logger: log, UI: h, RatePerSecond: 1e6, RateBurst: 1e6})
	ts := httptest.NewServer(api.Handler())
	s := &stack{svc: svc, net: n, sm: sm, ui: h, url: ts.URL}

	deadline := time.Now().Add(20 * time.Second)
	for !modemReady(pool) {
		if time.Now().After(deadline) {
			stopRun()
			return nil, nil, fmt.Errorf("the virtual modem did not come up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The modems page's samples, every second (5 minutes in serve), from
	// the moment the modem is up.
	wg.Go(func() { _ = svc.RunModemStats(runCtx, gateway.StatsOptions{SampleEvery: time.Second}) })
	stopBrowser := func() {}
	if path := chromiumPath(); path == "" {
		s.noBrowser = "no chromium on this machine (scripts/test.sh installs it)"
	} else {
		userDir := filepath.Join(dir, "chromium")
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			// Tabs in the background (the tests open several) run as if
			// in front.
			chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("disable-renderer-backgrounding", true), chromedp.UserDataDir(userDir), chromedp.WindowSize(1280, 800))
		bctx, cancelBrowser := chromedp.NewContext(alloc)
		if err := chromedp.Do(bctx); err != nil { // starts the browser
			cancelBrowser()
			cancelAlloc()
			stopRun()
			return nil, nil, fmt.Errorf("start chromium: %w", err)
		}
		s.browser = bctx
		stopBrowser = func() { cancelBrowser(); cancelAlloc() }
	}
	stop := func() {
		stopBrowser()
		h.Close()
		ts.Close()
		stopRun()
		wg.Wait()
		db.Close()
	}
	return s, stop, nil
}

func modemReady(p *modem.Pool) bool {
	for _, m := range p.Modems() {
		if m.State == modem.StateReady {
			return true
		}
	}
	return false
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// user makes a staff user with its own name (tests share one database).
func (s *stack) user(t *testing.T, name string, vis model.Visibility, role model.Role) (model.User, string) {
	t.Helper()
	pw := "pw-" + name + "-secret"
	u, err := s.svc.CreateUser(context.Background(), gateway.NewUser{Name: name, Password: pw, Role: role, Visibility: vis})
	if err != nil {
		t.Fatal(err)
	}
	return u, pw
}

// tab is one browser context (its own cookies) with one page.
type tab struct {
	t   *testing.T
	ctx context.Context
	s   *stack
}

func (s *stack) tab(t *testing.T, width, height int) *tab {
	t.Helper()
	if s.browser == nil {
		t.Fatal(s.noBrowser)
	}
	ctx, cancel := chromedp.NewContext(s.browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancel()
		t.Fatal(err)
	}
	tb := &tab{t: t, ctx: ctx, s: s}
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveScreenshot()
		}
		cancel()
	})
	return tb
}

// sibling opens another tab in the same browser context (same cookies and
// storage), as a user opening a second tab.
func (tb *tab) sibling() (*tab, func()) {
	tb.t.Helper()
	ctx, cancel := chromedp.NewContext(tb.ctx)
	// The first Run makes the tab, which lives as long as the context of
	// that call: no timeout here.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		cancel()
		tb.t.Fatal(err)
	}
	return &tab{t: tb.t, ctx: ctx, s: tb.s}, cancel
}

// saveScreenshot keeps what the page showed when the test failed.
func (tb *tab) saveScreenshot() {
	dir := os.Getenv("GSMGATE_FAILURE_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gsmgate-ui-failures")
	}
	_ = os.MkdirAll(dir, 0o755)
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("no screenshot: %v", err)
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.t.Name()) + ".png"
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err == nil {
		tb.t.Logf("screenshot of the failure: %s", p)
	}
}

const waitLimit = 20 * time.Second

// do runs browser steps, failing the test on error.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// run runs one browser action and returns its value.
func run[T any](tb *tab, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
	return v
}

// waitJS waits until the JavaScript expression is true. It evaluates it
// again and again rather than with one in-page poll, so that a navigation
// in between (a form post, a redirect) does not end the wait.
func (tb *tab) waitJS(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitLimit)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(function(){ try { return !!("+js+"); } catch (e) { return false; } })()"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	tb.t.Fatalf("waiting for %s: timed out (last error: %v)", what, last)
}

// paste puts text in the field as a paste would, and lets the page see it
// (an input event).
func (tb *tab) paste(css, text string) {
	tb.t.Helper()
	q, _ := json.Marshal(text)
	eval[bool](tb, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %s; return e.dispatchEvent(new Event('input')); })()`, css, q))
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.s.url + path))
}

// login logs in through the form, from the page the browser is on or
// from /login.
func (tb *tab) login(name, pw string) {
	tb.t.Helper()
	if !eval[bool](tb, `!!document.querySelector('[data-testid=login-username]')`) {
		tb.open("/login")
	}
	tb.do(
		chromedp.SetValue(`[data-testid=login-username]`, name),
		chromedp.SetValue(`[data-testid=login-password]`, pw),
		chromedp.Click(`[data-testid=login-submit]`),
	)
	tb.waitJS("the logged-in page", `!!document.querySelector('[data-testid=logout]') && document.readyState === 'complete'`)
}

// sel quotes a CSS selector for JavaScript.
func sel(css string) string { return fmt.Sprintf("document.querySelector(%q)", css) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = http.StatusOK
