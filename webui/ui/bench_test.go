package ui_test

import (
	"context"
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/webui"
	"github.com/gsmgate/gsmgate/webui/ui"
)

// TestSMSViewTTFBBig measures the server's time to first byte of the SMS
// view (conversation list, and list + thread + card) over a database of
// 1,000,000 messages in 10,000 conversations. It needs GSMGATE_BENCH_BIG=1;
// the fixture is built once (minutes) and cached in ~/.cache/gsmgate-bench/.
//
//	GSMGATE_BENCH_BIG=1 go test -run TestSMSViewTTFBBig -v ./webui/ui/
func TestSMSViewTTFBBig(t *testing.T) {
	if os.Getenv("GSMGATE_BENCH_BIG") == "" {
		t.Skip("set GSMGATE_BENCH_BIG=1 to build a 1M-message database and measure")
	}
	messages, numbers := 1_000_000, 10_000
	if v, err := strconv.Atoi(os.Getenv("GSMGATE_BENCH_MESSAGES")); err == nil && v > 0 {
		messages = v
	}
	path, users := uiFixture(t, messages, numbers)
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	must(t, err)
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := gateway.New(db, gateway.SystemClock{}, log, gateway.Options{DefaultCountry: "GB"})
	must(t, err)
	h, err := ui.New(svc, ui.Options{Logger: log})
	must(t, err)
	api := webui.New(svc, webhook.New(db, webhook.Options{Logger: log}), webui.Options{Logger: log, UI: h})
	ts := httptest.NewServer(api.Handler())
	defer ts.Close()
	secret, _, err := svc.CreateSession(context.Background(), users[3], "127.0.0.1", "bench")
	must(t, err)
	page, err := svc.Conversations(context.Background(), users[3], gateway.ConversationQuery{Page: gateway.Page{Limit: 1}})
	must(t, err)
	number := page.Items[0].Number

	measure := func(path string) (median, p95 time.Duration, size int) {
		const n = 200
		var ds []time.Duration
		for i := range n + 10 {
			req, _ := http.NewRequest("GET", ts.URL+path, nil)
			req.AddCookie(&http.Cookie{Name: ui.CookieName, Value: secret})
			var start, first time.Time
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				WroteRequest:         func(httptrace.WroteRequestInfo) { start = time.Now() },
				GotFirstResponseByte: func() { first = time.Now() },
			}))
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
			size = len(b)
			if i >= 10 { // warm-up
				ds = append(ds, first.Sub(start))
			}
		}
		slices.Sort(ds)
		return ds[len(ds)/2], ds[len(ds)*95/100], size
	}
	for _, p := range []string{"/", "/conversations/" + number} {
		med, p95, size := measure(p)
		t.Logf("GET %s over %d messages / %d conversations: TTFB median %v, p95 %v, %d bytes of HTML",
			p, messages, numbers, med.Round(10*time.Microsecond), p95.Round(10*time.Microsecond), size)
	}
}

// uiFixture builds (once) a database of messages spread over numbers
// conversations and 20 users, as traffic over a year: two thirds outgoing
// (a fifth of them marketing), one third incoming.
func uiFixture(t *testing.T, messages, numbers int) (string, []model.ID) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "gsmgate-bench", fmt.Sprintf("ui-v%d-%d-%d.db", store.FormatVersion, messages, numbers))
	const nUsers = 20
	if _, err := os.Stat(path); err != nil {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		tmp := path + ".tmp"
		os.Remove(tmp)
		began := time.Now()
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var now atomic.Int64
		now.Store(start.UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
		db, err := store.Open(tmp, store.Options{Now: clock, NoSync: true})
		must(t, err)
		var ids []model.ID
		must(t, db.Update(func(tx *store.Tx) error {
			for i := range nUsers {
				u := model.User{ID: tx.NewID(), Name: "user" + strconv.Itoa(i), Role: model.RoleStaff, Visibility: model.VisibilityAll, CreatedAt: clock()}
				ids = append(ids, u.ID)
				if err := tx.PutUser(&u); err != nil {
					return err
				}
			}
			for n := 0; n < numbers; n += 3 {
				c := model.Contact{Number: fmt.Sprintf("+4479%08d", n), Name: "Contact " + strconv.Itoa(n), Company: "Example Ltd", UpdatedAt: clock()}
				c.Phones = []model.Phone{{Number: c.Number}}
				if err := tx.PutContact(&c); err != nil {
					return err
				}
			}
			return nil
		}))
		tpdu := make([]byte, 40)
		const perTx = 20000
		for base := 0; base < messages; base += perTx {
			must(t, db.Update(func(tx *store.Tx) error {
				for i := base; i < base+perTx && i < messages; i++ {
					now.Add(int64(30 * time.Second))
					n := (i * 7919) % numbers
					owner := ids[n%nUsers]
					if i%10 == 9 {
						owner = ids[(n+1)%nUsers]
					}
					m := model.Message{ID: tx.NewID(), Number: fmt.Sprintf("+4479%08d", n), Text: "Message number " + strconv.Itoa(i) + " about your appointment on Tuesday", CreatedAt: clock()}
					var parts []model.Part
					if i%3 == 2 {
						m.Direction, m.State, m.Users = model.Incoming, model.StateDelivered, []model.ID{owner}
					} else {
						m.Direction, m.UserID, m.Marketing = model.Outgoing, owner, i%5 == 0
						if m.Marketing {
							// A bulk send of one (a batch's messages follow its ID).
							m.BatchID, m.ID = m.ID, tx.NewID()
						}
						parts = []model.Part{{TPDU: tpdu, State: model.StateDelivered, Modem: "m1", MR: i % 256, SentAt: clock(), DeliveredAt: clock()}}
					}
					if err := tx.InsertMessage(&m, parts); err != nil {
						return err
					}
				}
				return nil
			}))
		}
		must(t, db.Close())
		must(t, os.Rename(tmp, path))
		t.Logf("built the fixture (%d messages, %d conversations) in %v", messages, numbers, time.Since(began).Round(time.Second))
	}
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	must(t, err)
	defer db.Close()
	var ids []model.ID
	must(t, db.View(func(tx *store.Tx) error {
		us, err := tx.Users()
		for _, u := range us {
			ids = append(ids, u.ID)
		}
		return err
	}))
	return path, ids
}
