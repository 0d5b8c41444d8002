package webui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// load is a small closed-loop HTTP load generator: workers send requests
// back to back over loopback, b.N in all, and the benchmark reports
// throughput and latency percentiles.
func load(b *testing.B, workers int, req func(i int) *http.Request) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, b.N)
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				res, err := client.Do(req(i))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode >= 300 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", res.StatusCode, body))
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed; first: %v", n, b.N, firstErr.Load())
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func benchEnv(b *testing.B) (*env, model.User, string) {
	e := newEnv(b, Options{RatePerSecond: 1e9, RateBurst: 1 << 30})
	u, tok := e.user("alice", model.RoleStaff, model.VisibilityAll, model.ScopeSend, model.ScopeRead)
	return e, u, tok
}

// BenchmarkPostMessages: POST /api/v1/messages, one recipient each, 16
// concurrent clients, through the real router, gateway and a fsynced bbolt
// file (no modem: the messages stay queued).
func BenchmarkPostMessages(b *testing.B) {
	e, _, tok := benchEnv(b)
	load(b, 16, func(i int) *http.Request {
		body := fmt.Sprintf(`{"to":"+4479111%05d","text":"Your appointment is confirmed for Tuesday at 10:00."}`, i%100000)
		r, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/messages", bytes.NewReader([]byte(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	})
}

// BenchmarkPostMessagesBulk: one POST with 1,000 recipients per request.
func BenchmarkPostMessagesBulk(b *testing.B) {
	e, _, tok := benchEnv(b)
	var buf bytes.Buffer
	buf.WriteString(`{"text":"Open day on Saturday!","to":[`)
	for i := range 1000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `"+4479111%05d"`, i)
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	load(b, 2, func(int) *http.Request {
		r, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/messages", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	})
}

// BenchmarkConversationList: GET /api/v1/conversations (first page of 50)
// for a user with 10,000 conversations, 16 concurrent clients.
func BenchmarkConversationList(b *testing.B) {
	e, u, tok := benchEnv(b)
	seedConversations(b, e, u, 10000)
	load(b, 16, func(int) *http.Request {
		r, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/conversations?limit=50", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	})
}

// BenchmarkThread: GET /api/v1/conversations/{number}/messages (50
// messages) with 10,000 conversations stored.
func BenchmarkThread(b *testing.B) {
	e, u, tok := benchEnv(b)
	seedConversations(b, e, u, 10000)
	for range 49 {
		if _, err := e.svc.Send(context.Background(), gateway.SendRequest{UserID: u.ID, To: []string{"+447911100042"}, Text: "again"}); err != nil {
			b.Fatal(err)
		}
	}
	load(b, 16, func(int) *http.Request {
		r, _ := http.NewRequest("GET", e.ts.URL+"/api/v1/conversations/%2B447911100042/messages?limit=50", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	})
}

// seedConversations gives user u n one-to-one conversations.
func seedConversations(b *testing.B, e *env, u model.User, n int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := e.svc.Send(context.Background(), gateway.SendRequest{UserID: u.ID, To: []string{fmt.Sprintf("+4479111%05d", i)}, Text: "hello"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}
