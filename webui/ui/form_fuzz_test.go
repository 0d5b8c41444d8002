package ui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// formRoutes are the UI's form posts the fuzzer drives: each a path (with
// {n} for a fuzzed conversation number) and whether it is posted as a
// multipart form whose "csv" file is the fuzzed bytes (the bulk page's
// upload) rather than as the fuzzed form body itself.
var formRoutes = []struct {
	path      string
	multipart bool
}{
	{"/login", false},
	{"/compose", false},
	{"/conversations/{n}/send", false},
	{"/conversations/{n}/contact", false},
	{"/bulk/preview", false},
	{"/bulk/preview", true},
	{"/bulk/contacts", false},
	{"/settings/marketing", false},
	{"/settings/password", false},
	{"/ui/count", false},
	{"/failures", false},
	{"/failures/retry", false},
	{"/notifications/{n}/clear", false},
	{"/bulk/{n}/cancel", false},
	{"/admin/settings", false},
	{"/admin/users", false},
	{"/admin/users/{n}", false},
	{"/admin/webhooks", false},
	{"/admin/unassigned/assign", false},
}

// formEnv is the real UI router over a real gateway and bbolt file, with
// an admin's session and form token, without modems (what is sent waits
// in the outbox).
type formEnv struct {
	svc     *gateway.Service
	engine  *gin.Engine
	user    model.User
	secret  string
	csrf    string
	renewed int
}

func newFormEnv(tb testing.TB) *formEnv { return newFormEnvWith(tb, ui.Options{}) }

// newFormEnvWith is newFormEnv with UI options (its logger, login limit,
// admin and webhooks are set here).
func newFormEnvWith(tb testing.TB, o ui.Options) *formEnv {
	tb.Helper()
	gin.SetMode(gin.ReleaseMode)
	// NoSync: thousands of commits a second; the file is thrown away.
	db, err := store.Open(filepath.Join(tb.TempDir(), "fuzz.db"), store.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		tb.Fatal(err)
	}
	o.Logger, o.LoginPerMinute, o.Admin, o.Webhooks = log, 1e6, svc, webhook.New(db, webhook.Options{Logger: log})
	h, err := ui.New(svc, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(h.Close)
	e := &formEnv{svc: svc, engine: gin.New()}
	h.Register(e.engine)
	ctx := context.Background()
	if e.user, err = svc.CreateUser(ctx, gateway.NewUser{Name: "fuzzadmin", Password: "fuzz-password-1", Role: model.RoleAdmin}); err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, gateway.NewUser{Name: "colleague", Password: "fuzz-password-2"}); err != nil {
		tb.Fatal(err)
	}
	e.session(tb)
	return e
}

// session starts a new session (a fuzzed password change or the admin
// disabling themself may have ended the last one).
func (e *formEnv) session(tb testing.TB) {
	secret, sess, err := e.svc.CreateSession(context.Background(), e.user.ID, "127.0.0.1", "fuzz")
	if err != nil {
		tb.Fatal(err)
	}
	e.secret, e.csrf = secret, sess.CSRF
	e.renewed++
}

// post sends body to route with the session and form token, as the page's
// form would (same-origin).
func (e *formEnv) post(route int, number string, body []byte) *httptest.ResponseRecorder {
	r := formRoutes[route]
	path := strings.ReplaceAll(r.path, "{n}", url.PathEscape(number))
	var req *http.Request
	if r.multipart {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("csrf", e.csrf)
		_ = w.WriteField("text", "Hello {first_name}")
		fw, _ := w.CreateFormFile("csv", "list.csv")
		_, _ = fw.Write(body)
		_ = w.Close()
		req = httptest.NewRequest(http.MethodPost, path, &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
	} else {
		// The token first: a fuzzed body may end in a half-written field.
		full := "csrf=" + url.QueryEscape(e.csrf) + "&" + string(body)
		req = httptest.NewRequest(http.MethodPost, path, strings.NewReader(full))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: e.secret})
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, req)
	return rec
}

// flash is the message a redirect left for the next page ("" if none).
func flash(rec *httptest.ResponseRecorder) (kind, msg string) {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "gsmgate_flash" && c.Value != "" {
			if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(b) > 0 {
				return string(b[:1]), string(b[1:])
			}
		}
	}
	return "", ""
}

// FuzzUIForms posts arbitrary form bodies (and CSV uploads, and
// conversation numbers in the path) to the UI's real form handlers with a
// valid session and form token: no handler panics or answers 5xx, and
// every refusal says something a person can read: a 4xx has a non-empty
// body, a redirect's message is non-empty, and no text carries a
// formatting slip (%!, <nil>) the input did not bring.
//
//	go test ./webui/ui -run '^$' -fuzz FuzzUIForms -fuzztime 60s
func FuzzUIForms(f *testing.F) {
	seeds := []struct {
		route  int
		number string
		body   string
	}{
		{0, "", "username=fuzzadmin&password=fuzz-password-1&next=%2Fcompose"},
		{0, "", "username=&password="},
		{0, "", "username=fuzzadmin&password=wrong&next=https%3A%2F%2Fevil.example"},
		{1, "", "to=%2B447911123456&to=07911+123457&label=Main&text=Hello"},
		{1, "", "to=12&to=MyBank&text=%E2%80%9Chi%E2%80%9D"},
		{1, "", "to=%2B447911123456&text=" + strings.Repeat("x", 2000)},
		{1, "", "text=no+recipient&ref_type=lead&ref_id=1"},
		{2, "+447911123456", "text=Yes%2C+Thursday"},
		{2, "MyBank", "text=reply+to+a+name"},
		{2, "%zz", "text="},
		{3, "+447911123456", "name=Ada&job_title=Eng&company=Engines&email=ada%40example.com"},
		{3, "+447911123456", "name=Ada&email=not-an-address"},
		{3, "12", "name=x"},
		{4, "", "group=none&search=&numbers=%2B447911123456%0A12%2C07911123457&text=Hi+{first_name|there}&template=&campaign=Spring"},
		{4, "", "selected=%2B447911123456&text={first_name&campaign="},
		{5, "", "text=Hi+{first_name}%0Aname%2Cmobile%0AX%2C%2B447911123456%0AY%2C07911+123456%0A"},
		{5, "", "\xef\xbb\xbfnumber;name\n+447911123456;\"Ada\n"},
		{6, "", "q=ada&numbers=1%2C2"},
		{7, "", "include_marketing=on"},
		{8, "", "current=fuzz-password-1&new=short&confirm=short"},
		{9, "", "text=%E2%80%9Csmart%E2%80%9D+%E2%80%94+%F0%9F%98%80&encoding=ucs2"},
		{10, "", "action=retry&ids=1&ids=zz"},
		{11, "", "id=0"},
		{12, "notanid", ""},
		{13, "0", ""},
		{14, "", "default_country=ZZ&retention_days=-1&quiet_hours=25:00-08:00"},
		{15, "", "name=bob&password=pw&role=emperor&visibility=x"},
		{16, "1", "role=admin&visibility=outgoing_only"},
		{17, "", "url=ftp%3A%2F%2Fx&events=nope"},
		{18, "", "number=%2B447911123456&user=99"},
		{0, "", "%"}, {1, "", "to=%GG"}, {4, "", strings.Repeat("numbers=1&", 300)},
	}
	for _, s := range seeds {
		f.Add(uint8(s.route), s.number, []byte(s.body))
	}
	e := newFormEnv(f)
	f.Fuzz(func(t *testing.T, route uint8, number string, body []byte) {
		i := int(route) % len(formRoutes)
		rec := e.post(i, number, body)
		if rec.Code == http.StatusUnauthorized && i != 0 {
			e.session(t) // ended by the input (a password change): go on with a new one
			return
		}
		in := string(body) + number
		slip := func(where, text string) {
			for _, s := range []string{"%!", "<nil>"} {
				if strings.Contains(text, s) && !strings.Contains(in, s) && !strings.Contains(in, url.QueryEscape(s)) {
					t.Fatalf("%s %s: %s shows %q: %.300s", formRoutes[i].path, number, where, s, text)
				}
			}
		}
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s %q: status %d for %q: %.500s", formRoutes[i].path, number, rec.Code, body, rec.Body.String())
		case rec.Code >= 400:
			if strings.TrimSpace(rec.Body.String()) == "" {
				t.Fatalf("%s %q: status %d with an empty body for %q", formRoutes[i].path, number, rec.Code, body)
			}
			slip("the refusal", rec.Body.String())
		case rec.Code >= 300:
			if kind, msg := flash(rec); kind != "" {
				if strings.TrimSpace(msg) == "" {
					t.Fatalf("%s %q: a redirect with an empty %q message for %q", formRoutes[i].path, number, kind, body)
				}
				slip("the message", msg)
			}
		default:
			slip("the page", rec.Body.String())
		}
	})
}
