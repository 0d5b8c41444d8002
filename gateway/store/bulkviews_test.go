package store

import (
	"cmp"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// traffic writes a random mix of what the per-user listings must cope
// with: one-to-one sends (one or two parts), incoming messages associated
// with some users or none, bulk sends to overlapping numbers (one or two
// parts), conversations assigned, parts claimed and sent. It uses only calls format 6 had, so
// testdata/mkv6.go.txt (a copy of it run against format 6's code) made
// testdata/v6-traffic.db.gz the same way.
func traffic(t testing.TB, db *DB, seed uint64, ops int) []model.ID {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	users := []model.ID{db.NewID(), db.NewID(), db.NewID()}
	numbers := make([]string, 15)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+44790000%04d", i)
	}
	parts := func(n int) []model.Part {
		out := make([]model.Part, n)
		for i := range out {
			out[i] = model.Part{TPDU: []byte{byte(i), 1, 2}, NextAttempt: db.Now()}
		}
		return out
	}
	for op := range ops {
		err := db.Update(func(tx *Tx) error {
			u := users[rng.IntN(len(users))]
			switch r := rng.IntN(11); {
			case r < 3:
				batch := tx.NewID()
				m := model.Message{ID: tx.NewID(), BatchID: batch, Direction: model.Outgoing, Number: numbers[rng.IntN(len(numbers))],
					UserID: u, Text: fmt.Sprintf("reply %d", op)}
				return tx.InsertMessage(&m, parts(1+rng.IntN(4)/3))
			case r < 5:
				var us []model.ID
				for _, x := range users {
					if rng.IntN(3) == 0 {
						us = append(us, x)
					}
				}
				m := model.Message{ID: tx.NewID(), Direction: model.Incoming, Number: numbers[rng.IntN(len(numbers))],
					Users: us, State: model.StateDelivered, Text: fmt.Sprintf("in %d", op)}
				return tx.InsertMessage(&m, nil)
			case r < 8:
				batch := tx.NewID()
				n := 1 + rng.IntN(8)
				np := 1 + rng.IntN(5)/4
				for _, i := range rng.Perm(len(numbers))[:n] {
					m := model.Message{ID: tx.NewID(), BatchID: batch, Direction: model.Outgoing, Number: numbers[i],
						UserID: u, Marketing: true, Campaign: "c", Text: fmt.Sprintf("bulk %d", op)}
					if err := tx.InsertMessage(&m, parts(np)); err != nil {
						return err
					}
				}
				return nil
			case r < 10:
				_, err := tx.AssignConversation(numbers[rng.IntN(len(numbers))], u)
				if err == ErrNotFound {
					return nil
				}
				return err
			default:
				// A modem takes the next part; most are sent, one in
				// three is left submitting.
				d, ok, err := tx.ClaimDue("m1", nil)
				if err != nil || !ok || rng.IntN(3) == 0 {
					return err
				}
				_, err = tx.MarkSent(d.Message.ID, d.Part.Seq, "m1", op%256)
				return err
			}
		})
		if err != nil {
			t.Fatalf("op %d: %v", op, err)
		}
	}
	return users
}

// viewsModel is what each user's listings must show, worked out from every
// stored message (the definitions of the visibility and sort rules).
type viewsModel struct {
	all     []model.Message // newest first
	numbers []string
}

func loadModel(t *testing.T, db *DB) viewsModel {
	t.Helper()
	var vm viewsModel
	err := db.View(func(tx *Tx) error {
		ms, err := tx.AllMessages(Page{Limit: 1000})
		vm.all = ms
		seen := map[string]bool{}
		for _, m := range ms {
			if !seen[m.Number] {
				seen[m.Number] = true
				vm.numbers = append(vm.numbers, m.Number)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(vm.all) >= 1000 {
		t.Fatal("the model reads at most 1000 messages")
	}
	return vm
}

func assoc(m *model.Message, u model.ID) bool {
	return (m.Direction == model.Outgoing && m.UserID == u) || (m.Direction == model.Incoming && slices.Contains(m.Users, u))
}

type convRow struct {
	Number string
	Sort   model.ID
}

// convs is u's conversation list: by last message (marketing included
// when all is set); without marketing, conversations with only marketing
// follow, by their last message.
func (vm *viewsModel) convs(u model.ID, all bool) []convRow {
	last, plain := map[string]model.ID{}, map[string]model.ID{}
	for _, m := range vm.all {
		if !assoc(&m, u) {
			continue
		}
		last[m.Number] = max(last[m.Number], m.ID)
		if !m.Marketing {
			plain[m.Number] = max(plain[m.Number], m.ID)
		}
	}
	var rows, tail []convRow
	for n, l := range last {
		switch {
		case all:
			rows = append(rows, convRow{n, l})
		case plain[n] != 0:
			rows = append(rows, convRow{n, plain[n]})
		default:
			tail = append(tail, convRow{n, l})
		}
	}
	desc := func(a, b convRow) int { return cmp.Compare(b.Sort, a.Sort) }
	slices.SortFunc(rows, desc)
	slices.SortFunc(tail, desc)
	return append(rows, tail...)
}

func (vm *viewsModel) ids(keep func(*model.Message) bool) []model.ID {
	var out []model.ID
	for _, m := range vm.all {
		if keep(&m) {
			out = append(out, m.ID)
		}
	}
	return out
}

// checkViews compares every per-user listing, paged, with the model.
func checkViews(t *testing.T, db *DB, users []model.ID) {
	t.Helper()
	vm := loadModel(t, db)
	err := db.View(func(tx *Tx) error {
		for _, u := range users {
			for _, all := range []bool{true, false} {
				want := vm.convs(u, all)
				var got []convRow
				var cursor []byte
				for page := 0; page < 100; page++ {
					refs := tx.UserConversations(u, !all, cursor, 4)
					for _, r := range refs {
						got = append(got, convRow{r.Number, r.SortID})
					}
					if len(refs) < 4 {
						break
					}
					cursor = refs[len(refs)-1].Cursor
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("user %s, marketing %v: conversations\n%v\nwant\n%v", u, all, got, want)
				}
			}
			pagedIDs := func(what string, want []model.ID, list func(Page) ([]model.Message, error)) {
				t.Helper()
				var got []model.ID
				var before model.ID
				for page := 0; page < 200; page++ {
					ms, err := list(Page{Before: before, Limit: 3})
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					for _, m := range ms {
						got = append(got, m.ID)
					}
					if len(ms) < 3 {
						break
					}
					before = ms[len(ms)-1].ID
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("user %s: %s\n%v\nwant\n%v", u, what, got, want)
				}
			}
			pagedIDs("messages", vm.ids(func(m *model.Message) bool { return assoc(m, u) }),
				func(p Page) ([]model.Message, error) { return tx.UserMessages(u, false, p) })
			pagedIDs("messages without marketing", vm.ids(func(m *model.Message) bool { return assoc(m, u) && !m.Marketing }),
				func(p Page) ([]model.Message, error) { return tx.UserMessages(u, true, p) })
			var numbers []string
			tx.UserConvNumbers(u, func(n string) bool { numbers = append(numbers, n); return true })
			slices.Sort(numbers)
			var wantNumbers []string
			for _, n := range vm.numbers {
				has := slices.ContainsFunc(vm.all, func(m model.Message) bool { return m.Number == n && assoc(&m, u) })
				if has {
					wantNumbers = append(wantNumbers, n)
				}
				if tx.HasConversation(u, n) != has {
					t.Errorf("user %s: HasConversation(%s) = %v, want %v", u, n, !has, has)
				}
				sent := vm.ids(func(m *model.Message) bool {
					return m.Number == n && m.Direction == model.Outgoing && m.UserID == u
				})
				pagedIDs("sent to "+n, sent, func(p Page) ([]model.Message, error) { return tx.UserSentMessages(u, n, p) })
				last, ok, err := tx.LastSentMessage(u, n)
				if err != nil || ok != (len(sent) > 0) || (ok && last.ID != sent[0]) {
					t.Errorf("user %s: LastSentMessage(%s) = %s %v %v, want the first of %v", u, n, last.ID, ok, err, sent)
				}
			}
			slices.Sort(wantNumbers)
			if fmt.Sprint(numbers) != fmt.Sprint(wantNumbers) {
				t.Errorf("user %s: UserConvNumbers %v, want %v", u, numbers, wantNumbers)
			}
		}
		// Messages by state (queued ones come from the outbox index).
		for st := range stateCode {
			want := vm.ids(func(m *model.Message) bool { return m.State == st })
			var got []model.ID
			var before model.ID
			for page := 0; page < 300; page++ {
				ms, err := tx.MessagesByState(st, Page{Before: before, Limit: 7})
				if err != nil {
					return err
				}
				for _, m := range ms {
					got = append(got, m.ID)
				}
				if len(ms) < 7 {
					break
				}
				before = ms[len(ms)-1].ID
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("messages %s: %v, want %v", st, got, want)
			}
		}
		checkConversations(t, tx, &vm)
		// Every batch's messages, in order.
		batches := map[model.ID][]model.ID{}
		for _, m := range vm.all {
			if m.BatchID != 0 {
				batches[m.BatchID] = append([]model.ID{m.ID}, batches[m.BatchID]...)
			}
		}
		for b, want := range batches {
			ms, err := tx.BatchMessages(b)
			if err != nil {
				return err
			}
			var got []model.ID
			for _, m := range ms {
				got = append(got, m.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("batch %s: %v, want %v", b, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBulkSendsInUserListings: with a bulk send's messages out of the
// per-user indexes (format 7), every user's conversation list (with and
// without marketing), message listings, threads of their own messages,
// conversation search and batch listings are what the rules say, page by
// page.
func TestBulkSendsInUserListings(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			db, c, _ := openTest(t)
			_ = c
			users := traffic(t, db, seed, 120)
			checkViews(t, db, users)
			// Filing what is left changes no listing, and each
			// conversation record is what its view said.
			views := conversationViews(t, db)
			if err := db.Update(fileEverything); err != nil {
				t.Fatal(err)
			}
			checkViews(t, db, users)
			if err := db.View(func(tx *Tx) error {
				for number, want := range views {
					got, err := tx.Conversation(number)
					if err != nil {
						return fmt.Errorf("%s: %w", number, err)
					}
					slices.Sort(got.Users)
					slices.SortFunc(got.Marketed, func(a, b Marketed) int { return cmp.Compare(a.User, b.User) })
					got.Modem = ""
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: filed\n%+v\nthe view said\n%+v", number, got, want)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBulkMessageRetention: purging bulk messages moves the sender's
// conversations back to their other messages and drops conversations in
// which the sender had only those.
func TestBulkMessageRetention(t *testing.T) {
	db, c, _ := openTest(t)
	u := db.NewID()
	insert := func(number string, batch model.ID, marketing bool) model.ID {
		var id model.ID
		if err := db.Update(func(tx *Tx) error {
			if batch == 0 {
				batch = tx.NewID()
			}
			m := model.Message{ID: tx.NewID(), BatchID: batch, Direction: model.Outgoing, Number: number, UserID: u,
				Marketing: marketing, Text: "x"}
			id = m.ID
			return tx.InsertMessage(&m, []model.Part{{TPDU: []byte{1}, State: model.StateDelivered}})
		}); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Second)
		return id
	}
	plain := insert("+441", 0, false)
	b1 := db.NewID()
	old1 := insert("+441", b1, true)
	old2 := insert("+442", b1, true)
	b2 := db.NewID()
	new1 := insert("+441", b2, true)
	list := func(all bool) []convRow {
		var out []convRow
		_ = db.View(func(tx *Tx) error {
			for _, r := range tx.UserConversations(u, !all, nil, 10) {
				out = append(out, convRow{r.Number, r.SortID})
			}
			return nil
		})
		return out
	}
	if got := fmt.Sprint(list(true)); got != fmt.Sprint([]convRow{{"+441", new1}, {"+442", old2}}) {
		t.Fatalf("before: %s", got)
	}
	del := func(id model.ID) {
		if err := db.Update(func(tx *Tx) error { return tx.DeleteMessage(id) }); err != nil {
			t.Fatal(err)
		}
	}
	del(new1)
	if got := fmt.Sprint(list(true)); got != fmt.Sprint([]convRow{{"+442", old2}, {"+441", old1}}) {
		t.Fatalf("after the newest bulk message went: %s", got)
	}
	del(old1)
	del(old2)
	if got := fmt.Sprint(list(true)); got != fmt.Sprint([]convRow{{"+441", plain}}) {
		t.Fatalf("after every bulk message went: %s", got)
	}
	_ = db.View(func(tx *Tx) error {
		if conv, err := tx.Conversation("+441"); err != nil || len(conv.Marketed) != 0 {
			t.Errorf("+441 still names a bulk message: %+v %v", conv, err)
		}
		if _, err := tx.Conversation("+442"); err != ErrNotFound {
			t.Errorf("+442 outlived its only message: %v", err)
		}
		return nil
	})
	// Retention drops the spans of sends none of whose messages is left.
	var spans int
	for _, b := range []model.ID{b1, b2} {
		_ = db.View(func(tx *Tx) error {
			if tx.b(bIdxUserBatch).Get(k(u64(uint64(u)), u64(uint64(b)))) != nil {
				spans++
			}
			return nil
		})
	}
	if spans != 2 {
		t.Fatalf("%d spans before the purge, want 2", spans)
	}
	c.t = c.t.Add(time.Hour)
	r, err := db.PurgeBatch(c.t, 0, 100)
	if err != nil || r.Spans != 2 || r.Messages != 1 {
		t.Fatalf("purge: %+v %v, want the plain message and both spans gone", r, err)
	}
	_ = db.View(func(tx *Tx) error {
		if n := tx.b(bIdxUserBatch).Stats().KeyN; n != 0 {
			t.Errorf("%d spans left", n)
		}
		return nil
	})
}

// TestLeanBulkRecordsMigratesAVersion6File: a file written by format 6's
// code (testdata/mkv6.go.txt: the same traffic as above, 317 messages with
// bulk sends, parts queued, submitting and sent) opens as format 7: every
// message and part reads as format 6 read it, the outbox holds the same
// parts, the dropped buckets are gone, and every listing is what the rules
// say.
func TestLeanBulkRecordsMigratesAVersion6File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v6.db")
	if err := os.WriteFile(path, gunzip(t, "testdata/v6-traffic.db.gz"), 0o600); err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Users    []model.ID `json:"users"`
		Messages []struct {
			Message model.Message `json:"message"`
			Parts   []model.Part  `json:"parts"`
		} `json:"messages"`
		Queued int `json:"queued"`
	}
	if err := json.Unmarshal(gunzip(t, "testdata/v6-traffic.json.gz"), &dump); err != nil {
		t.Fatal(err)
	}
	var told [][2]uint64
	db, err := Open(path, Options{Now: func() time.Time { return time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) },
		OnMigrate: func(from, to uint64) { told = append(told, [2]uint64{from, to}) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if fmt.Sprint(told) != fmt.Sprint([][2]uint64{{6, FormatVersion}}) {
		t.Errorf("OnMigrate told %v, want one upgrade 6 → %d", told, FormatVersion)
	}
	err = db.View(func(tx *Tx) error {
		if v := getU64(tx.b(bMeta).Get([]byte("version"))); v != FormatVersion {
			t.Errorf("version %d after opening, want %d", v, FormatVersion)
		}
		for _, b := range [][]byte{bIdxDue, bBatches, bIdxUserNoMkt, bUConvNoMkt} {
			if tx.b(b) != nil {
				t.Errorf("bucket %s is still there", b)
			}
		}
		for _, idx := range [][]byte{bIdxPartState, bIdxMsgState} {
			if key, _ := tx.b(idx).Cursor().Seek([]byte{stateCode[model.StateQueued]}); key != nil && key[0] == stateCode[model.StateQueued] {
				t.Errorf("%s still lists queued entries", idx)
			}
		}
		folded, multi := 0, 0
		for _, r := range dump.Messages {
			m, err := tx.Message(r.Message.ID)
			if err != nil {
				return err
			}
			if got, want := mustJSON(t, m), mustJSON(t, r.Message); got != want {
				t.Fatalf("message after migration\n%s\nwant\n%s", got, want)
			}
			ps, err := tx.Parts(m.ID)
			if err != nil {
				return err
			}
			if got, want := mustJSON(t, ps), mustJSON(t, r.Parts); got != want {
				t.Fatalf("parts of %s after migration\n%s\nwant\n%s", m.ID, got, want)
			}
			switch {
			case len(ps) == 1:
				folded++
			case len(ps) > 1:
				multi++
			}
		}
		if folded == 0 || multi == 0 {
			t.Errorf("the file has %d one-part and %d multipart messages: both kinds must be exercised", folded, multi)
		}
		if q := tx.Stats().Queued; q != dump.Queued {
			t.Errorf("%d queued parts after migration, %d before", q, dump.Queued)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, db, dump.Users)
	// A one-part message's part moves into its record when the message is
	// next written; it reads the same before and after.
	for _, r := range dump.Messages {
		if len(r.Parts) != 1 {
			continue
		}
		id := r.Message.ID
		if err := db.Update(func(tx *Tx) error {
			if tx.b(bParts).Get(partKey(id, 1)) == nil {
				t.Errorf("message %s's part left parts before the message was written", id)
			}
			_, err := tx.UpdateMessage(id, func(m *model.Message, _ []model.Part) error { m.Dismissed = !m.Dismissed; return nil })
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_ = db.View(func(tx *Tx) error {
			ps, err := tx.Parts(id)
			if err != nil || mustJSON(t, ps) != mustJSON(t, r.Parts) {
				t.Errorf("message %s's part after the move: %s (%v), want %s", id, mustJSON(t, ps), err, mustJSON(t, r.Parts))
			}
			if tx.b(bParts).Get(partKey(id, 1)) != nil {
				t.Errorf("message %s's part is still in parts after the message was written", id)
			}
			if raw := foldedRaw(tx.b(bMessages).Get(u64(uint64(id)))); raw == nil {
				t.Errorf("message %s's record does not hold its part", id)
			}
			return nil
		})
	}
	// The outbox gives every queued part once.
	claimed := 0
	for {
		var ok bool
		if err := db.Update(func(tx *Tx) error { _, ok, err = tx.ClaimDue("m2", nil); return err }); err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		claimed++
	}
	if claimed != dump.Queued {
		t.Errorf("claimed %d parts, %d were queued", claimed, dump.Queued)
	}
}

func gunzip(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// conversationViews reads ConversationView for every number with a
// message (users and marketed sorted, the modem left out: filing does not
// route).
func conversationViews(t *testing.T, db *DB) map[string]Conversation {
	t.Helper()
	vm := loadModel(t, db)
	out := map[string]Conversation{}
	if err := db.View(func(tx *Tx) error {
		for _, n := range vm.numbers {
			c, err := tx.ConversationView(n)
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			slices.Sort(c.Users)
			slices.SortFunc(c.Marketed, func(a, b Marketed) int { return cmp.Compare(a.User, b.User) })
			c.Modem = ""
			out[n] = c
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkConversations compares what every reader of a conversation says,
// bulk messages filed or not (format 8), with the model: threads, the
// conversation's view, the list of every conversation by its last message,
// the full scan, and how many parts wait.
func checkConversations(t *testing.T, tx *Tx, vm *viewsModel) {
	t.Helper()
	last := map[string]model.ID{}
	for _, n := range vm.numbers {
		want := vm.ids(func(m *model.Message) bool { return m.Number == n })
		var got []model.ID
		var before model.ID
		for page := 0; page < 200; page++ {
			ms, err := tx.ConversationMessages(n, Page{Before: before, Limit: 3})
			if err != nil {
				t.Fatalf("thread %s: %v", n, err)
			}
			for _, m := range ms {
				got = append(got, m.ID)
			}
			if len(ms) < 3 {
				break
			}
			before = ms[len(ms)-1].ID
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("thread %s: %v, want %v", n, got, want)
		}
		last[n] = want[0]
		c, err := tx.ConversationView(n)
		if err != nil || c.Count != len(want) || c.LastMessageID != want[0] {
			t.Errorf("view of %s: %+v %v, want %d messages, the last %s", n, c, err, len(want), want[0])
		}
		for _, m := range vm.all {
			if m.Number == n && m.Direction == model.Outgoing && m.UserID != 0 && !slices.Contains(c.Users, m.UserID) {
				t.Errorf("view of %s: users %v without the sender %s", n, c.Users, m.UserID)
			}
		}
	}
	var wantRecent []string
	for _, n := range vm.numbers { // (the model's numbers are in order of their newest message)
		wantRecent = append(wantRecent, fmt.Sprintf("%s@%s", n, last[n]))
	}
	var gotRecent []string
	var cursor []byte
	for page := 0; page < 100; page++ {
		refs := tx.RecentConversations(cursor, 4)
		for _, r := range refs {
			gotRecent = append(gotRecent, fmt.Sprintf("%s@%s", r.Number, r.SortID))
		}
		if len(refs) < 4 {
			break
		}
		cursor = refs[len(refs)-1].Cursor
	}
	if fmt.Sprint(gotRecent) != fmt.Sprint(wantRecent) {
		t.Errorf("recent conversations\n%v\nwant\n%v", gotRecent, wantRecent)
	}
	var all []string
	if err := tx.AllConversations(func(c Conversation) bool { all = append(all, c.Number); return true }); err != nil {
		t.Fatal(err)
	}
	wantAll := slices.Clone(vm.numbers)
	slices.Sort(wantAll)
	if fmt.Sprint(all) != fmt.Sprint(wantAll) {
		t.Errorf("all conversations %v, want %v", all, wantAll)
	}
	queued := 0
	for _, m := range vm.all {
		parts, err := tx.Parts(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if p.State == model.StateQueued {
				queued++
			}
		}
	}
	if got := tx.Stats().Queued; got != queued {
		t.Errorf("%d parts wait in the outbox, want %d", got, queued)
	}
	if ps, err := tx.PartsInState(model.StateQueued, 0); err != nil || len(ps) != queued {
		t.Errorf("PartsInState(queued): %d %v, want %d", len(ps), err, queued)
	}
}
