package gateway

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

func TestSendValidatesRecipientsByIndex(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	res, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, Text: "hi",
		To: []string{"07911 123451", "12", "+44 7911 123452", "hello", "07911123451", "+1 999 555 0147"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range res.Messages {
		got = append(got, m.Number)
	}
	if want := []string{numA, numB, "+19995550147"}; !reflect.DeepEqual(got, want) {
		// +1 999 is not an area code, but the number has a possible
		// length: it is sent, with a warning.
		t.Fatalf("accepted %v, want %v", got, want)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Index != 5 || res.Warnings[0].Code != CodeUnknownNumberRange {
		t.Errorf("warnings %+v, want index 5 %s", res.Warnings, CodeUnknownNumberRange)
	}
	var idx []int
	for _, r := range res.Rejected {
		idx = append(idx, r.Index)
		if r.Field != "to" || r.Reason == "" {
			t.Errorf("rejection %+v lacks field or reason", r)
		}
	}
	if want := []int{1, 3, 4}; !reflect.DeepEqual(idx, want) {
		t.Fatalf("rejected indexes %v, want %v", idx, want)
	}
	if codes := []string{res.Rejected[0].Code, res.Rejected[1].Code, res.Rejected[2].Code}; !reflect.DeepEqual(codes, []string{CodeInvalidNumber, CodeInvalidNumber, CodeDuplicateRecipient}) {
		t.Errorf("rejection codes %v", codes)
	}
	if !strings.Contains(res.Rejected[2].Reason, "recipient 0") {
		t.Errorf("duplicate reason %q does not name the first recipient", res.Rejected[2].Reason)
	}
	for _, m := range res.Messages {
		if !m.Marketing || m.BatchID != res.BatchID || m.State != model.StateQueued {
			t.Errorf("message %+v: want marketing, batch %s, queued", m, res.BatchID)
		}
	}
}

func TestSendRejectsAllInvalid(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	cases := []struct {
		name   string
		req    SendRequest
		fields []string
	}{
		{"no valid number", SendRequest{UserID: u.ID, Text: "x", To: []string{"abc", "1"}}, []string{"to", "to"}},
		{"empty text", SendRequest{UserID: u.ID, To: []string{numA}}, []string{"text"}},
		{"no recipients", SendRequest{UserID: u.ID, Text: "x"}, []string{"to"}},
		{"unknown user", SendRequest{UserID: 99, Text: "x", To: []string{numA}}, []string{"user_id"}},
		{"too long", SendRequest{UserID: u.ID, Text: strings.Repeat("x", 160*11), To: []string{numA}}, []string{"text"}},
		{"expired", SendRequest{UserID: u.ID, Text: "x", To: []string{numA}, ExpiresAt: e.clock.Now().Add(-time.Second)}, []string{"expires_at"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.Send(context.Background(), c.req)
			var ve *ValidationError
			if re := (*RecipientsError)(nil); errors.As(err, &re) {
				// No usable recipient: each listed with why.
				ve = &ValidationError{Fields: re.Rejected}
			}
			if ve == nil && !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			if !reflect.DeepEqual(fields, c.fields) {
				t.Fatalf("fields %v, want %v", fields, c.fields)
			}
		})
	}
}

func TestSendCommitsBeforeReturning(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	text := strings.Repeat("long text ", 40) // 400 GSM characters: 3 parts
	res, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, Text: text, To: []string{numA}, StatusReport: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Count.Parts != 3 || !reflect.DeepEqual(res.Count, e.s.CountText(text)) {
		t.Fatalf("count %+v, want 3 parts equal to CountText", res.Count)
	}
	select {
	case <-e.s.OutboxWake():
	default:
		t.Fatal("outbox not woken after an immediate send")
	}
	// Close and reopen: what Send returned is on disk.
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(e.path, store.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *store.Tx) error {
		m, err := tx.Message(res.Messages[0].ID)
		if err != nil {
			return err
		}
		parts, err := tx.Parts(m.ID)
		if err != nil {
			return err
		}
		if m.Parts != 3 || len(parts) != 3 || m.Ref == 0 || !m.StatusReport {
			t.Errorf("stored message %+v with %d parts", m, len(parts))
		}
		for i, p := range parts {
			if p.Seq != i+1 || p.State != model.StateQueued || len(p.TPDU) == 0 || p.MR != -1 {
				t.Errorf("part %d: %+v", i, p)
			}
		}
		if n, ok := tx.NextDue(); !ok || !n.Equal(m.CreatedAt) {
			t.Errorf("next due %v %v, want %v", n, ok, m.CreatedAt)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSendIdempotency(t *testing.T) {
	e := newEnv(t, Options{IdempotencyTTL: time.Hour})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	v := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	req := SendRequest{UserID: u.ID, Text: "once", To: []string{numA, numB}, IdempotencyKey: "k1"}
	first, err := e.s.Send(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	again, err := e.s.Send(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.BatchID != first.BatchID || len(again.Messages) != 2 || again.Messages[0].ID != first.Messages[0].ID {
		t.Fatalf("replay %+v, want the first batch %s", again, first.BatchID)
	}
	changed := req
	changed.Text = "other"
	if _, err := e.s.Send(context.Background(), changed); !errors.Is(err, ErrIdempotencyConflict) {
		t.Fatalf("changed request: err %v, want ErrIdempotencyConflict", err)
	}
	// The key is the user's: another user may use it.
	other := req
	other.UserID = v.ID
	if r, err := e.s.Send(context.Background(), other); err != nil || r.Replayed {
		t.Fatalf("other user's key: %+v %v", r, err)
	}
	// Past the TTL (and purged) the key is new again.
	e.clock.Advance(2 * time.Hour)
	if _, err := e.s.PurgeOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, err := e.s.Send(context.Background(), req); err != nil || r.Replayed || r.BatchID == first.BatchID {
		t.Fatalf("after TTL: %+v %v", r, err)
	}
	var n int
	_ = e.db.View(func(tx *store.Tx) error { n = tx.Stats().Messages; return nil })
	if n != 6 {
		t.Fatalf("%d messages stored, want 6 (2 + 2 other user + 2 after TTL)", n)
	}
}

func TestSendSetsValidityFromExpiry(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	res, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, Text: "x", To: []string{numA}, ExpiresAt: e.clock.Now().Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var tpdu []byte
	_ = e.db.View(func(tx *store.Tx) error { p, _ := tx.Part(res.Messages[0].ID, 1); tpdu = p.TPDU; return nil })
	m, err := pdu.Decode(tpdu, pdu.DecodeOptions{Direction: pdu.MO})
	if err != nil {
		t.Fatal(err)
	}
	if m.Validity.Format != pdu.ValidityRelative || m.Validity.Relative != 2*time.Hour {
		t.Fatalf("validity %+v, want relative 2h", m.Validity)
	}
}

func TestSendSingleRecipientIsNotMarketing(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	res := e.send(u, "hello", numA)
	if res.Messages[0].Marketing {
		t.Fatal("single recipient marked marketing")
	}
}

func TestNormalizeNumber(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "DE"})
	cases := []struct{ in, want string }{
		{"030 901820", "+4930901820"},
		{"+49 30 901820", "+4930901820"},
		{"0049 30 901820", "+4930901820"},
		{"+44 7911 123451", numA},
		{"(030) 901-820", "+4930901820"},
	}
	for _, c := range cases {
		got, err := e.s.NormalizeNumber(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "12", "abc", "+999 123"} {
		if got, err := e.s.NormalizeNumber(bad); err == nil {
			t.Errorf("NormalizeNumber(%q) = %q, want error", bad, got)
		}
	}
}

func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []string{"07911 123451", "+44 7911 123451", "0044 7911 123451", "", "+", "00", "abc", "+1 (202) 555-0147", "٠٧٩١١"} {
		f.Add(s)
	}
	clock := &fakeClock{t: time.Now()}
	db, err := store.Open(f.TempDir()+"/f.db", store.Options{Now: clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, clock, nil, Options{DefaultCountry: "GB"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := s.NormalizeNumber(in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "+") || len(n) < 4 || len(n) > 16 {
			t.Fatalf("NormalizeNumber(%q) = %q: not E.164", in, n)
		}
		again, err := s.NormalizeNumber(n)
		if err != nil || again != n {
			t.Fatalf("not stable: %q → %q → %q, %v", in, n, again, err)
		}
	})
}

func TestConcurrentSendsShareCommitsAndKeys(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	const n = 20
	results := make(chan *SendResult, 2*n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func(i int) { // distinct sends
			defer wg.Done()
			r, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, Text: "x", To: []string{fmt.Sprintf("+4479111234%02d", i)}})
			if err != nil {
				errs <- err
			}
			_ = r
		}(i)
		go func() { // the same keyed request, retried by an impatient client
			defer wg.Done()
			r, err := e.s.Send(context.Background(), SendRequest{UserID: u.ID, Text: "once", To: []string{numA}, IdempotencyKey: "same"})
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}()
	}
	wg.Wait()
	close(errs)
	close(results)
	for err := range errs {
		t.Fatal(err)
	}
	batches := map[model.ID]int{}
	fresh := 0
	for r := range results {
		batches[r.BatchID]++
		if !r.Replayed {
			fresh++
		}
	}
	if len(batches) != 1 || fresh != 1 {
		t.Fatalf("keyed sends made batches %v with %d fresh, want one batch created once", batches, fresh)
	}
	var stored int
	_ = e.db.View(func(tx *store.Tx) error { stored = tx.Stats().Messages; return nil })
	if stored != n+1 {
		t.Fatalf("%d messages stored, want %d", stored, n+1)
	}
}
