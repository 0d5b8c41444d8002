package gateway

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

func TestConversationSortOrderAndMarketing(t *testing.T) {
	e := newEnv(t, Options{})
	plain := e.user("plain", model.RoleStaff, model.VisibilityAll, false)
	mkt := e.user("mkt", model.RoleStaff, model.VisibilityAll, true)
	for _, u := range []model.User{plain, mkt} {
		e.send(u, "first", numA) // oldest plain message
		e.send(u, "second", numB)
		e.send(u, "offer", numA, numC) // marketing: touches A and C last
	}
	// Without the preference the marketing send is ignored: B is newest,
	// then A; C has only marketing and sorts last.
	if got, want := e.numbers(plain, false), []string{numB, numA, numC}; !reflect.DeepEqual(got, want) {
		t.Errorf("plain user order %v, want %v", got, want)
	}
	// With it, the marketing send counts: A and C (same send, C's message
	// made after A's) come first.
	if got, want := e.numbers(mkt, false), []string{numC, numA, numB}; !reflect.DeepEqual(got, want) {
		t.Errorf("marketing user order %v, want %v", got, want)
	}
	// Flipping the preference changes the order at once.
	yes := true
	if _, err := e.s.UpdateUser(context.Background(), plain.ID, UserUpdate{IncludeMarketedWhenSorting: &yes}); err != nil {
		t.Fatal(err)
	}
	if got, want := e.numbers(plain, false), []string{numC, numA, numB}; !reflect.DeepEqual(got, want) {
		t.Errorf("after preference change %v, want %v", got, want)
	}
	// An incoming reply moves the conversation up for the associated users.
	e.receive(numB, "reply")
	if got := e.numbers(mkt, false); got[0] != numB {
		t.Errorf("after reply from B the first is %s", got[0])
	}
}

func TestConversationPaging(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	nums := []string{numA, numB, numC, numD}
	for _, n := range nums {
		e.send(u, "x", n)
	}
	var got []string
	cursor := ""
	for i := 0; i < 10; i++ {
		p, err := e.s.Conversations(context.Background(), u.ID, ConversationQuery{Page: Page{Limit: 3, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			got = append(got, it.Number)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if want := []string{numD, numC, numB, numA}; !reflect.DeepEqual(got, want) {
		t.Fatalf("paged %v, want %v", got, want)
	}
}

func TestVisibilityModes(t *testing.T) {
	e := newEnv(t, Options{})
	all := e.user("all", model.RoleStaff, model.VisibilityAll, false)
	own := e.user("own", model.RoleStaff, model.VisibilityOwn, false)
	other := e.user("other", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)

	e.send(all, "from all", numA)
	e.send(own, "from own", numA)
	e.receive(numA, "reply")
	e.send(other, "to B", numB)

	// incoming_and_outgoing: the whole conversation, with authors.
	p, err := e.s.Thread(context.Background(), all.ID, numA, Page{})
	if err != nil {
		t.Fatal(err)
	}
	var texts, authors []string
	for _, m := range p.Messages {
		texts, authors = append(texts, m.Text), append(authors, m.Author)
	}
	if want := []string{"from all", "from own", "reply"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("all-mode thread %v, want %v", texts, want)
	}
	if want := []string{"all", "own", ""}; !reflect.DeepEqual(authors, want) {
		t.Errorf("authors %v, want %v", authors, want)
	}
	if !p.Messages[0].Own || p.Messages[1].Own {
		t.Errorf("Own flags wrong: %+v", p.Messages)
	}
	// outgoing_only: only their own.
	if got, _ := e.thread(own, numA); !reflect.DeepEqual(got, []string{"from own"}) {
		t.Errorf("own-mode thread %v", got)
	}
	// A user never associated with the number sees nothing of it.
	if _, err := e.thread(other, numA); !errors.Is(err, ErrNotFound) {
		t.Errorf("unrelated user: err %v, want ErrNotFound", err)
	}
	if _, err := e.thread(own, numB); !errors.Is(err, ErrNotFound) {
		t.Errorf("own-mode user on B: err %v, want ErrNotFound", err)
	}
	// Admins see everything.
	if got, _ := e.thread(admin, numB); !reflect.DeepEqual(got, []string{"to B"}) {
		t.Errorf("admin thread B %v", got)
	}
	// Single-message lookups obey the same rules.
	reply := p.Messages[2].ID
	if _, err := e.s.Message(context.Background(), own.ID, reply); !errors.Is(err, ErrNotFound) {
		t.Errorf("own-mode user read the incoming reply: %v", err)
	}
	if _, err := e.s.Message(context.Background(), all.ID, reply); err != nil {
		t.Errorf("all-mode user cannot read reply: %v", err)
	}
	// The conversation list of an outgoing_only user shows their own last
	// message, not the incoming one.
	cp, err := e.s.Conversations(context.Background(), own.ID, ConversationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Items) != 1 || cp.Items[0].Last.Text != "from own" || cp.Items[0].Count != 0 {
		t.Errorf("own-mode list %+v", cp.Items)
	}
	// Messages listing.
	mp, err := e.s.Messages(context.Background(), own.ID, MessageQuery{})
	msgs := mp.Items
	if err != nil || len(msgs) != 1 || msgs[0].Text != "from own" {
		t.Errorf("own-mode Messages %v %v", msgs, err)
	}
	mp, err = e.s.Messages(context.Background(), admin.ID, MessageQuery{State: model.StateQueued})
	msgs = mp.Items
	if err != nil || len(msgs) != 3 {
		t.Errorf("admin queued Messages: %d %v", len(msgs), err)
	}
}

func TestAssociationOfIncoming(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	bob := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	own := e.user("own", model.RoleStaff, model.VisibilityOwn, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	ctx := context.Background()

	e.send(alice, "hi", numA)
	e.send(bob, "hi too", numA)
	e.send(own, "hello", numB)

	// A reply from A goes to both who wrote to it, with a notification each.
	m := e.receive("07911 123451", "answer")
	if m.Number != numA {
		t.Fatalf("originator normalised to %q", m.Number)
	}
	if want := []model.ID{alice.ID, bob.ID}; !reflect.DeepEqual(m.Users, want) {
		t.Errorf("associated %v, want %v", m.Users, want)
	}
	for _, u := range []model.User{alice, bob} {
		ns, err := e.notes(u.ID)
		if err != nil || len(ns) != 1 || ns[0].MessageID != m.ID {
			t.Errorf("%s notifications %+v %v", u.Name, ns, err)
		}
	}
	// From B: only an outgoing_only user wrote to it, who does not see
	// incoming messages, so it is unassigned and the admins are told.
	mb := e.receive(numB, "who is this")
	// From C: never contacted: unassigned.
	mc := e.receive(numC, "unsolicited")
	for _, x := range []model.Message{mb, mc} {
		if len(x.Users) != 0 {
			t.Errorf("message from %s associated with %v", x.Number, x.Users)
		}
	}
	if got, want := e.numbers(admin, true), []string{numC, numB}; !reflect.DeepEqual(got, want) {
		t.Errorf("unassigned inbox %v, want %v", got, want)
	}
	if _, err := e.s.Conversations(ctx, alice.ID, ConversationQuery{Unassigned: true}); !errors.Is(err, ErrForbidden) {
		t.Errorf("staff unassigned listing: %v, want ErrForbidden", err)
	}
	if _, err := e.s.Conversations(ctx, alice.ID, ConversationQuery{All: true}); !errors.Is(err, ErrForbidden) {
		t.Errorf("staff all listing: %v, want ErrForbidden", err)
	}
	all, err := e.s.Conversations(ctx, admin.ID, ConversationQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var allNums []string
	for _, it := range all.Items {
		allNums = append(allNums, it.Number)
	}
	if want := []string{numC, numB, numA}; !reflect.DeepEqual(allNums, want) || !all.Items[0].Unassigned || all.Items[2].Unassigned {
		t.Errorf("admin all listing %v (%+v), want %v", allNums, all.Items, want)
	}
	if _, err := e.thread(alice, numC); !errors.Is(err, ErrNotFound) {
		t.Errorf("staff read unassigned thread: %v", err)
	}
	ns, _ := e.notes(admin.ID)
	if len(ns) != 2 {
		t.Errorf("admin notifications %d, want 2", len(ns))
	}
	if ns, _ := e.notes(own.ID); len(ns) != 0 {
		t.Errorf("outgoing_only user notified: %+v", ns)
	}
	// Once someone writes to C, C leaves the unassigned inbox and the next
	// message from C is theirs.
	e.send(alice, "can I help?", numC)
	if got, want := e.numbers(admin, true), []string{numB}; !reflect.DeepEqual(got, want) {
		t.Errorf("unassigned after reply %v, want %v", got, want)
	}
	m2 := e.receive(numC, "yes")
	if !reflect.DeepEqual(m2.Users, []model.ID{alice.ID}) {
		t.Errorf("second message from C associated with %v", m2.Users)
	}
	// Alice now sees the whole C conversation, including what came before.
	if got, _ := e.thread(alice, numC); !reflect.DeepEqual(got, []string{"unsolicited", "can I help?", "yes"}) {
		t.Errorf("alice's C thread %v", got)
	}
	// Notifications stay until cleared.
	if err := e.s.ClearNotification(ctx, alice.ID, ns[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("clearing someone else's notification: %v", err)
	}
	if n, err := e.s.ClearNotifications(ctx, alice.ID); err != nil || n != 2 {
		t.Errorf("cleared %d %v, want 2", n, err)
	}
	if ns, _ := e.notes(alice.ID); len(ns) != 0 {
		t.Errorf("after clear %+v", ns)
	}
}

func TestVisibilityChangeAppliesAtOnce(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	v := e.user("v", model.RoleStaff, model.VisibilityAll, false)
	e.send(v, "colleague", numA)
	e.send(u, "mine", numA)
	e.receive(numA, "reply") // associated with both
	if got, _ := e.thread(u, numA); len(got) != 3 {
		t.Fatalf("all-mode thread %v", got)
	}
	own := model.VisibilityOwn
	if _, err := e.s.UpdateUser(context.Background(), u.ID, UserUpdate{Visibility: &own}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.thread(u, numA); !reflect.DeepEqual(got, []string{"mine"}) {
		t.Fatalf("after switching to outgoing_only: %v", got)
	}
	p, err := e.s.Conversations(context.Background(), u.ID, ConversationQuery{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Last.Text != "mine" {
		t.Fatalf("list after switch %+v %v", p.Items, err)
	}
	// From now on replies from A are not associated with u.
	m := e.receive(numA, "second reply")
	if !reflect.DeepEqual(m.Users, []model.ID{v.ID}) {
		t.Fatalf("associated with %v, want only v", m.Users)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	bob := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	ctx := context.Background()
	e.send(alice, "Your invoice is ready", numA)
	e.send(bob, "Meeting moved to Friday", numB)
	if _, err := e.s.UpsertContact(ctx, ContactInput{Number: numB, Name: "Grace Hopper", Company: "Navy"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		who   model.User
		q     string
		convs []string
		texts []string
	}{
		{alice, "invoice", nil, []string{"Your invoice is ready"}},
		{alice, "friday", nil, nil}, // bob's conversation: not alice's
		{bob, "friday", nil, []string{"Meeting moved to Friday"}},
		{bob, "hopper", []string{numB}, nil},
		{alice, "hopper", nil, nil},
		{alice, "7911 123451", []string{numA}, nil},
		{alice, "123452", nil, nil},
	}
	for _, c := range cases {
		r, err := e.s.Search(ctx, c.who.ID, c.q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var convs, texts []string
		for _, it := range r.Conversations {
			convs = append(convs, it.Number)
		}
		for _, m := range r.Messages {
			texts = append(texts, m.Text)
		}
		if !reflect.DeepEqual(convs, c.convs) || !reflect.DeepEqual(texts, c.texts) {
			t.Errorf("%s searching %q: convs %v texts %v; want %v %v", c.who.Name, c.q, convs, texts, c.convs, c.texts)
		}
	}
}

func TestContacts(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	c, err := e.s.UpsertContact(ctx, ContactInput{Number: "07911 123451", Name: "Ada", JobTitle: "Engineer", Company: "AE",
		Email: "ada@example.com", CRMURL: "https://crm.example.com/c/1", CRM: &model.CRMRef{Type: "contact", ID: "1"},
		Phones: []model.Phone{{Number: "07911123453", Label: "work"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != numA || len(c.Phones) != 2 || c.Phones[0].Number != numA {
		t.Fatalf("contact %+v", c)
	}
	// Found by any of its phones.
	if got, err := e.s.Contact(ctx, numC); err != nil || got.Name != "Ada" {
		t.Fatalf("by second phone: %+v %v", got, err)
	}
	// Upsert replaces, and a dropped phone no longer finds it.
	if _, err := e.s.UpsertContact(ctx, ContactInput{Number: numA, Name: "Ada L."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Contact(ctx, numC); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropped phone still finds the contact: %v", err)
	}
	if got, _ := e.s.Contact(ctx, numA); got.Name != "Ada L." {
		t.Fatalf("after upsert %+v", got)
	}
	_, err = e.s.UpsertContact(ctx, ContactInput{Number: "x", Email: "nope", CRMURL: "javascript:alert(1)",
		Phones: []model.Phone{{Number: numB}, {Number: "12"}}})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 4 || ve.Fields[3].Field != "phones" || ve.Fields[3].Index != 1 {
		t.Fatalf("validation %v", err)
	}
	if err := e.s.DeleteContact(ctx, numA); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.s.Contacts(ctx, "", 0); len(list) != 0 {
		t.Fatalf("after delete %+v", list)
	}
}

func TestThreadPaging(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.user("u", model.RoleStaff, model.VisibilityAll, false)
	for i := 0; i < 7; i++ {
		e.send(u, string(rune('a'+i)), numA)
	}
	var pages [][]string
	var before string
	for {
		p, err := e.s.Thread(context.Background(), u.ID, numA, Page{Cursor: before, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, m := range p.Messages {
			texts = append(texts, m.Text)
		}
		pages = append(pages, texts)
		if p.Next == "" {
			break
		}
		before = p.Next
	}
	want := [][]string{{"e", "f", "g"}, {"b", "c", "d"}, {"a"}}
	if !reflect.DeepEqual(pages, want) {
		t.Fatalf("pages %v, want %v", pages, want)
	}
}

// TestReplyToAnUnfiledBulkMessage: a bulk send's messages wait unfiled
// (no conversation record) until the dispatcher takes them; a reply in
// that time still goes to the sender alone, not to the unassigned inbox,
// and the sender's list, thread and search show the send; cancelling the
// rest files the messages with nothing seen changing.
func TestReplyToAnUnfiledBulkMessage(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	bob := e.user("bob", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)
	ctx := context.Background()

	res, err := e.s.SendBulk(ctx, BulkRequest{UserID: alice.ID, Numbers: []string{numA, numB, numC}, Text: "Spring sale", Campaign: "spring"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	conversation := func(number string) (store.Conversation, error) {
		var c store.Conversation
		err := e.db.View(func(tx *store.Tx) (err error) { c, err = tx.Conversation(number); return err })
		return c, err
	}
	if _, err := conversation(numB); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the bulk message to B is filed when accepted (%v): the test would not test unfiled messages", err)
	}

	m := e.receive(numB, "tell me more")
	if !reflect.DeepEqual(m.Users, []model.ID{alice.ID}) {
		t.Errorf("reply associated with %v, want alice", m.Users)
	}
	if ns, err := e.notes(alice.ID); err != nil || len(ns) != 1 || ns[0].MessageID != m.ID {
		t.Errorf("alice's notifications %+v %v", ns, err)
	}
	if ns, _ := e.notes(admin.ID); len(ns) != 0 {
		t.Errorf("admin notified of a reply to alice's bulk: %+v", ns)
	}
	if got := e.numbers(admin, true); len(got) != 0 {
		t.Errorf("unassigned inbox %v", got)
	}
	if got, want := e.numbers(alice, false), []string{numB, numC, numA}; !reflect.DeepEqual(got, want) {
		t.Errorf("alice's list %v, want %v (the reply first, then her marketing send)", got, want)
	}
	if got := e.numbers(bob, false); len(got) != 0 {
		t.Errorf("bob's list %v", got)
	}
	wantThread := []string{"Spring sale", "tell me more"}
	if got, err := e.thread(alice, numB); err != nil || !reflect.DeepEqual(got, wantThread) {
		t.Errorf("alice's thread with B %v %v", got, err)
	}
	r, err := e.s.Search(ctx, alice.ID, "sale", 10)
	if err != nil || len(r.Messages) != 3 {
		t.Errorf("alice searching her bulk: %d messages, %v", len(r.Messages), err)
	}

	n, err := e.s.CancelCampaign(ctx, alice.ID, res.BatchID)
	if err != nil || n != 3 {
		t.Fatalf("cancelled %d, %v", n, err)
	}
	for _, number := range []string{numA, numB, numC} {
		if c, err := conversation(number); err != nil || !slices.Contains(c.Users, alice.ID) {
			t.Errorf("%s after cancelling: %+v %v", number, c, err)
		}
	}
	if got, want := e.numbers(alice, false), []string{numB, numC, numA}; !reflect.DeepEqual(got, want) {
		t.Errorf("alice's list after cancelling %v, want %v", got, want)
	}
	if got, err := e.thread(alice, numB); err != nil || !reflect.DeepEqual(got, wantThread) {
		t.Errorf("alice's thread with B after cancelling %v %v", got, err)
	}
}
