package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// benchEnv is a service over a real, fsynced bbolt file with the wall clock.
func benchEnv(b *testing.B) (*Service, model.User) {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s, err := New(db, SystemClock{}, nil, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	u, err := s.CreateUser(context.Background(), NewUser{Name: "bench", Password: "benchmark"})
	if err != nil {
		b.Fatal(err)
	}
	return s, u
}

func benchNumber(i int) string { return fmt.Sprintf("+4479%08d", i%100000000) }

// BenchmarkSendSingle: one recipient per Send, one caller at a time; each
// Send commits (fsync) before returning.
func BenchmarkSendSingle(b *testing.B) {
	s, u := benchEnv(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Send(ctx, SendRequest{UserID: u.ID, To: []string{benchNumber(i)}, Text: "Your code is 123456"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSendSingleParallel: one recipient per Send from many callers at
// once (API clients): bbolt's Batch folds them into shared commits.
func BenchmarkSendSingleParallel(b *testing.B) {
	s, u := benchEnv(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1))
			if _, err := s.Send(ctx, SendRequest{UserID: u.ID, To: []string{benchNumber(i)}, Text: "Your code is 123456"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSendBulk10k: one Send to 10,000 recipients (validated,
// normalised, segmented, committed in one transaction).
func BenchmarkSendBulk10k(b *testing.B) {
	s, u := benchEnv(b)
	ctx := context.Background()
	to := make([]string, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The recipients are the caller's: formatting them is not the
		// send's cost.
		b.StopTimer()
		for j := range to {
			to[j] = benchNumber(i*10000 + j)
		}
		b.StartTimer()
		res, err := s.Send(ctx, SendRequest{UserID: u.ID, To: to, Text: "Spring sale: 20% off everything until Sunday. Reply STOP to opt out."})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Messages) != 10000 {
			b.Fatalf("accepted %d, rejected %v", len(res.Messages), res.Rejected[:1])
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSendBulk10kKnown: BenchmarkSendBulk10k to numbers that
// already have a conversation (a bulk to the contacts one has written to
// before): each conversation record is read and its place in the listings
// moves.
func BenchmarkSendBulk10kKnown(b *testing.B) {
	s, u := benchEnv(b)
	ctx := context.Background()
	to := make([]string, 10000)
	for j := range to {
		to[j] = benchNumber(j)
	}
	text := "Spring sale: 20% off everything until Sunday. Reply STOP to opt out."
	if _, err := s.Send(ctx, SendRequest{UserID: u.ID, To: to, Text: text}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Send(ctx, SendRequest{UserID: u.ID, To: to, Text: text})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Messages) != 10000 {
			b.Fatalf("accepted %d", len(res.Messages))
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "msgs/s")
}

// The big fixture: bigMessages messages over bigNumbers conversations and
// bigUsers users. Built once (without fsync: it is a fixture) and kept in
// the user cache directory for later runs.
const (
	bigMessages = 1_000_000
	bigNumbers  = 50_000
	bigUsers    = 20
)

func bigFixture(b *testing.B) string {
	b.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "gsmgate-bench", fmt.Sprintf("big-v%d-%d-b.db", store.FormatVersion, bigMessages))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	began := time.Now()
	defer func() { b.Logf("built the fixture in %v", time.Since(began).Round(time.Second)) }()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(start.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	db, err := store.Open(tmp, store.Options{Now: clock, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	users := make([]model.ID, bigUsers)
	err = db.Update(func(tx *store.Tx) error {
		for i := range users {
			u := model.User{ID: tx.NewID(), Name: "user" + strconv.Itoa(i), Role: model.RoleStaff, Visibility: model.VisibilityAll, CreatedAt: clock()}
			if i == 0 {
				u.Role = model.RoleAdmin
			}
			users[i] = u.ID
			if err := tx.PutUser(&u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	tpdu := make([]byte, 40)
	const perTx = 20000
	for base := 0; base < bigMessages; base += perTx {
		err := db.Update(func(tx *store.Tx) error {
			for i := base; i < base+perTx && i < bigMessages; i++ {
				now.Add(int64(20 * time.Second)) // a year of traffic
				// Each number is mostly talked to by one user (its
				// "owner") and sometimes by a colleague.
				n := (i * 7919) % bigNumbers
				owner := users[n%bigUsers]
				if i%10 == 9 {
					owner = users[(n+1)%bigUsers]
				}
				m := model.Message{ID: tx.NewID(), Number: benchNumber(n), Text: "Message number " + strconv.Itoa(i) + " about your appointment"}
				var parts []model.Part
				switch {
				case i%3 == 2:
					m.Direction, m.State, m.Users = model.Incoming, model.StateDelivered, []model.ID{owner}
				default:
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
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// rss reads the resident set (total, anonymous = heap and stacks, file =
// the bbolt mmap pages touched) in MiB from /proc/self/status.
func rss() string {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	var parts []string
	for _, line := range strings.Split(string(raw), "\n") {
		for _, key := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
			if strings.HasPrefix(line, key) {
				v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				parts = append(parts, fmt.Sprintf("%s %d MiB", strings.TrimSuffix(key, ":"), v>>10))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// BenchmarkBig runs the listings against a million stored messages. It
// needs GSMGATE_BENCH_BIG=1 (the fixture takes minutes to build the first
// time and about a gigabyte of disk).
func BenchmarkBig(b *testing.B) {
	if os.Getenv("GSMGATE_BENCH_BIG") != "1" {
		b.Skip("set GSMGATE_BENCH_BIG=1 to build and use the million-message fixture")
	}
	path := bigFixture(b)
	// GSMGATE_BENCH_NOFREELISTSYNC=1 measures the other side of the
	// freelist trade-off (store.Options.NoFreelistSync).
	noFreelistSync := os.Getenv("GSMGATE_BENCH_NOFREELISTSYNC") == "1"
	t0 := time.Now()
	db, err := store.Open(path, store.Options{NoFreelistSync: noFreelistSync})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Logf("open (NoFreelistSync %v): %v", noFreelistSync, time.Since(t0))
	s, err := New(db, SystemClock{}, nil, Options{DefaultCountry: "GB"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var staff, admin model.User
	_ = db.View(func(tx *store.Tx) error {
		admin, _ = tx.UserByName("user0")
		staff, _ = tx.UserByName("user3")
		return nil
	})
	if size, err := db.Size(); err == nil {
		b.Logf("fixture %s: %d MiB", path, size>>20)
	}
	b.Logf("RSS after open: %s", rss())
	busiest := ""
	b.Run("ConversationList", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := s.Conversations(ctx, staff.ID, ConversationQuery{Page: Page{Limit: 50}})
			if err != nil || len(p.Items) != 50 {
				b.Fatalf("%d items, %v", len(p.Items), err)
			}
			busiest = p.Items[0].Number
		}
	})
	b.Run("ConversationListMarketing", func(b *testing.B) {
		// Sorted with marketing (include_marketed_when_sorting): the
		// user's bulk sends count.
		mkt := true
		for i := 0; i < b.N; i++ {
			p, err := s.Conversations(ctx, staff.ID, ConversationQuery{IncludeMarketing: &mkt, Page: Page{Limit: 50}})
			if err != nil || len(p.Items) != 50 {
				b.Fatalf("%d items, %v", len(p.Items), err)
			}
		}
	})
	b.Run("ConversationListOwn", func(b *testing.B) {
		// An outgoing_only user: each row is the user's own last message.
		var own model.User
		if err := db.Update(func(tx *store.Tx) error {
			var err error
			if own, err = tx.UserByName("user5"); err != nil {
				return err
			}
			own.Visibility = model.VisibilityOwn
			return tx.PutUser(&own)
		}); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			p, err := s.Conversations(ctx, own.ID, ConversationQuery{Page: Page{Limit: 50}})
			if err != nil || len(p.Items) != 50 {
				b.Fatalf("%d items, %v", len(p.Items), err)
			}
		}
	})
	b.Run("ConversationListAllAdmin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if p, err := s.Conversations(ctx, admin.ID, ConversationQuery{All: true, Page: Page{Limit: 50}}); err != nil || len(p.Items) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("ConversationListPage20", func(b *testing.B) {
		// Deep paging: the 20th page of 50.
		cursor := ""
		for range 19 {
			p, _ := s.Conversations(ctx, staff.ID, ConversationQuery{Page: Page{Limit: 50, Cursor: cursor}})
			cursor = p.Next
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if p, err := s.Conversations(ctx, staff.ID, ConversationQuery{Page: Page{Limit: 50, Cursor: cursor}}); err != nil || len(p.Items) != 50 {
				b.Fatal(err)
			}
		}
	})
	b.Run("Thread", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := s.Thread(ctx, staff.ID, busiest, Page{Limit: 50})
			if err != nil || len(p.Messages) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("ThreadAdmin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Thread(ctx, admin.ID, busiest, Page{Limit: 50}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SendSingle", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.Send(ctx, SendRequest{UserID: staff.ID, To: []string{benchNumber(i)}, Text: "hello"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Logf("RSS after the listings: %s", rss())
}
