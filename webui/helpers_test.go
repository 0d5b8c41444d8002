package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/modem"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

// env is the real stack: a bbolt file in a temp dir, the gateway service,
// the webhook sender and the router, served on loopback.
type env struct {
	t      testing.TB
	db     *store.DB
	svc    *gateway.Service
	hooks  *webhook.Sender
	srv    *Server
	ts     *httptest.Server
	modems []model.ModemStatus
	pool   *modem.Pool // when set, the modems are the pool's
}

// newEnv builds the stack; gw, when given, sets the core's options (limits).
func newEnv(t testing.TB, o Options, gw ...gateway.Options) *env {
	t.Helper()
	return newEnvAt(t, o, filepath.Join(t.TempDir(), "gsmgate.db"), gw...)
}

// newEnvAt is newEnv with the database at path.
func newEnvAt(t testing.TB, o Options, path string, gw ...gateway.Options) *env {
	t.Helper()
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, db: db}
	gopt := gateway.Options{}
	if len(gw) > 0 {
		gopt = gw[0]
	}
	gopt.DefaultCountry, gopt.PasswordCost = "GB", 4
	gopt.ModemStatus = func() []model.ModemStatus {
		if e.pool != nil {
			return gateway.ModemStatuses(e.pool.Modems())
		}
		return e.modems
	}
	svc, err := gateway.New(db, systemClock{}, log, gopt)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.hooks = webhook.New(db, webhook.Options{Logger: log})
	if o.Logger == nil {
		o.Logger = log
	}
	e.srv = New(svc, e.hooks, o)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// user creates a user and a token for it with the given scopes.
func (e *env) user(name string, role model.Role, vis model.Visibility, scopes ...model.Scope) (model.User, string) {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), gateway.NewUser{Name: name, Password: "password-" + name, Role: role, Visibility: vis})
	if err != nil {
		e.t.Fatal(err)
	}
	_, secret, err := e.svc.CreateToken(context.Background(), u.ID, name+"-token", scopes, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return u, secret
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errCode returns the error code of an error answer.
func (r resp) errCode(t *testing.T) string {
	t.Helper()
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &b)
	if b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("not an error body: %s", r.body)
	}
	return b.Error.Code
}

// do sends a request with a bearer token (none when token is "") and a
// body: a string is sent as is, anything else as JSON.
func (e *env) do(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}
