package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/sim"
	"github.com/nyaruka/phonenumbers"
)

func TestTemplateExpand(t *testing.T) {
	ada := &model.Contact{Number: "+447911123201", Name: "Ada Lovelace", Company: "Analytical Engines", Fields: map[string]string{"Team": "R&D"}}
	zoe := &model.Contact{Number: "+447911123202", Name: "Zoë Ñúñez", FirstName: "Zoë"}
	cases := []struct {
		tmpl      string
		c         *model.Contact
		fallbacks map[string]string
		want      string
		missing   []string
	}{
		{"Hi {first_name}, {company} welcome", ada, nil, "Hi Ada, Analytical Engines welcome", nil},
		{"Hi {first_name}", zoe, nil, "Hi Zoë", nil},
		{"Team {team}", ada, nil, "Team R&D", nil},
		{"Hi {first_name|there} at {company}", nil, nil, "Hi there at ", []string{"company"}},
		{"Hi {first_name}", nil, map[string]string{"first_name": "friend"}, "Hi friend", nil},
		{"{job_title} {JOB_TITLE}", ada, nil, " ", []string{"job_title"}},
		{"Literal { brace, {{name}}, {1}, { x }, {code here", ada, nil, "Literal { brace, {name}}, {1}, { x }, {code here", nil},
		{"Call {number}", nil, nil, "Call +447911123299", nil},
	}
	for _, tc := range cases {
		tp, err := ParseTemplate(tc.tmpl)
		if err != nil {
			t.Fatalf("ParseTemplate(%q): %v", tc.tmpl, err)
		}
		number := "+447911123299"
		if tc.c != nil {
			number = tc.c.Number
		}
		got, missing := tp.Expand(ContactFields(number, tc.c), tc.fallbacks)
		if got != tc.want || strings.Join(missing, ",") != strings.Join(tc.missing, ",") {
			t.Errorf("%q: %q missing %v; want %q missing %v", tc.tmpl, got, missing, tc.want, tc.missing)
		}
		if len(missing) == 0 && strings.Contains(got, "{first_name}") {
			t.Errorf("%q sent a raw placeholder: %q", tc.tmpl, got)
		}
	}
	for _, bad := range []string{"Hi {first_name", "Hi {name there", "Hi {team|sales", "Hi {team|sales {x}"} {
		var te *TemplateError
		if _, err := ParseTemplate(bad); !errors.As(err, &te) {
			t.Errorf("ParseTemplate(%q) = %v, want a *TemplateError", bad, err)
		}
	}
}

func TestImportContactsCSVReportsEveryBadLineAndImportsNothing(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "GB"})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	ctx := context.Background()
	file := "\xef\xbb\xbfMobile;Name;Company;Job Title;Tags;Team\n" +
		"07911 123201;Ada Lovelace;Engines;Countess;vip,math;R&D\n" +
		"banana;Bad Number;;;;\n" +
		"+447911123201;Ada Again;;;;\n" +
		";No Number;;;;\n" +
		"07911 123203;Grace;Navy;Admiral;;;extra\n" +
		"\n" +
		"07911 123204;Zoë Ñúñez;Café;;;\n"
	res, err := e.s.ImportContacts(ctx, u.ID, strings.NewReader(file), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []LineError{
		{3, `number "banana": a sender name, not a number`},
		{4, "same number +447911123201 as line 2"},
		{5, "no number"},
		{6, "7 columns; the header has 6"},
	}
	if res.Imported || res.Created != 0 || len(res.Errors) != len(want) {
		t.Fatalf("result %+v; want nothing imported and %d bad lines", res, len(want))
	}
	for i, w := range want {
		if res.Errors[i].Line != w.Line || !strings.HasPrefix(res.Errors[i].Reason, w.Reason) {
			t.Errorf("bad line %d: %+v, want line %d %q", i, res.Errors[i], w.Line, w.Reason)
		}
	}
	var n int
	_ = e.db.View(func(tx *store.Tx) error { return tx.Contacts(func(model.Contact) bool { n++; return true }) })
	if n != 0 {
		t.Fatalf("%d contacts written from a file with bad lines", n)
	}

	res, err = e.s.ImportContacts(ctx, u.ID, strings.NewReader(file), true)
	if err != nil || !res.Imported || res.Created != 2 || len(res.Errors) != 4 {
		t.Fatalf("import skipping bad lines: %+v %v", res, err)
	}
	c, err := e.s.Contact(ctx, "+447911123201")
	if err != nil || c.Name != "Ada Lovelace" || c.JobTitle != "Countess" || strings.Join(c.Tags, ",") != "vip,math" || c.Fields["team"] != "R&D" {
		t.Fatalf("imported contact %+v %v", c, err)
	}
	var out bytes.Buffer
	if err := e.s.ExportContacts(ctx, u.ID, &out); err != nil {
		t.Fatal(err)
	}
	back, bad, err := ParseContactsCSV(&out, e.s.NormalizeNumber)
	if err != nil || len(bad) != 0 || len(back) != 2 || back[1].Name != "Zoë Ñúñez" || back[0].Fields["team"] != "R&D" {
		t.Fatalf("export does not read back: %+v %+v %v\n%s", back, bad, err, out.String())
	}
}

// TestBulkPreviewAndSendFromGroupAndSearch: a bulk to a group, a saved
// search and typed numbers lists valid, invalid, duplicate, opted-out and
// missing-field recipients, the parts range and who forces Unicode or adds
// a part; the send skips the same and its progress reaches the end; "cancel
// the rest" cancels what waits.
func TestBulkPreviewAndSendFromGroupAndSearch(t *testing.T) {
	r := newMRig(t, 2, "pty", sim.ModemOptions{})
	ctx := context.Background()
	for _, c := range []ContactInput{
		{Number: "+447911123201", Name: "Ada Lovelace", Company: "Engines", Tags: []string{"vip"}},
		{Number: "+447911123202", Name: "Zoë Ñúñez", Company: "Café", Tags: []string{"vip"}},
		{Number: "+447911123203", Name: "Grace Hopper" + strings.Repeat("x", 150), Company: "Navy"},
		{Number: "+447911123204", Company: "Nameless"},
	} {
		if _, err := r.s.UpsertContact(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.s.PutGroup(ctx, r.user.ID, GroupInput{ID: "crm-42", Name: "Customers", Members: []string{"07911 123203", "+447911123204", "+447911123205"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.s.PutSavedSearch(ctx, r.user.ID, model.SavedSearch{ID: "vips", Query: model.ContactQuery{Tag: "VIP"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.s.SetOptOut(ctx, r.user.ID, "+447911123205", true); err != nil {
		t.Fatal(err)
	}
	req := BulkRequest{UserID: r.user.ID, GroupIDs: []string{"crm-42"}, SearchIDs: []string{"vips"},
		Numbers: []string{"banana", "+447911123201"}, Text: "Hi {first_name}, news from us", Campaign: "spring"}
	p, err := r.s.PreviewBulk(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	valid := []string{}
	for _, v := range p.Valid {
		valid = append(valid, v.Number+"="+v.Text)
	}
	if len(p.Valid) != 3 || p.Valid[0].Text != "Hi Grace, news from us" || len(p.Invalid) != 1 || p.Invalid[0].Value != "banana" ||
		len(p.Duplicates) != 1 || p.Duplicates[0].Value != "+447911123201" || len(p.OptedOut) != 1 || len(p.Missing) != 1 ||
		p.Missing[0].Value != "+447911123204" || strings.Join(p.Missing[0].Missing, ",") != "first_name" {
		t.Fatalf("preview: valid %v invalid %+v dup %+v opted %+v missing %+v", valid, p.Invalid, p.Duplicates, p.OptedOut, p.Missing)
	}
	if strings.Join(p.ForcesUnicode, ",") != "+447911123202" || p.PartsMin != 1 || p.PartsMax != 1 || p.TotalParts != 3 || p.Estimate.Duration <= 0 {
		t.Fatalf("preview counts: unicode %v parts %d-%d total %d estimate %+v", p.ForcesUnicode, p.PartsMin, p.PartsMax, p.TotalParts, p.Estimate)
	}
	long, err := r.s.PreviewBulk(ctx, BulkRequest{UserID: r.user.ID, GroupIDs: []string{"crm-42"}, Text: "Dear {name|customer}, " + strings.Repeat("y", 120)})
	if err != nil || strings.Join(long.AddsPart, ",") != "+447911123203" || long.PartsMin != 1 || long.PartsMax != 2 {
		t.Fatalf("a long name adds a part: %+v %v", long, err)
	}

	r.start(ModemOptions{})
	res, err := r.s.SendBulk(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("the bulk sent", func() bool {
		pr, err := r.s.Campaign(ctx, r.user.ID, res.BatchID)
		return err == nil && pr.Done == 1
	})
	pr, _ := r.s.Campaign(ctx, r.user.ID, res.BatchID)
	if pr.Total != 3 || pr.Counts[model.StateSent] != 3 || pr.Campaign.Name != "spring" || len(pr.Campaign.Skipped) != 4 {
		t.Fatalf("progress %+v", pr)
	}
	for _, sp := range r.net.Sent() {
		if strings.Contains(sp.Text, "{") || sp.To == "+447911123204" || sp.To == "+447911123205" {
			t.Errorf("sent %q to %s", sp.Text, sp.To)
		}
	}
	msgs := r.incomingAndOut(res.BatchID)
	for _, m := range msgs {
		if !m.Marketing || m.Campaign != "spring" {
			t.Errorf("bulk message %s: marketing %v campaign %q", m.ID, m.Marketing, m.Campaign)
		}
	}

	// Cancel the rest: a scheduled bulk is cancelled before it goes.
	later := req
	later.SendAt = r.clock.Now().Add(time.Hour)
	res2, err := r.s.SendBulk(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.s.CancelCampaign(ctx, r.user.ID, res2.BatchID)
	if err != nil || n != 3 {
		t.Fatalf("cancelled %d, %v", n, err)
	}
	pr, _ = r.s.Campaign(ctx, r.user.ID, res2.BatchID)
	if pr.Counts[model.StateCancelled] != 3 || pr.Campaign.Cancelled.IsZero() {
		t.Fatalf("after cancel: %+v", pr)
	}
}

func (r *mrig) incomingAndOut(batch model.ID) []model.Message {
	var out []model.Message
	_ = r.db.View(func(tx *store.Tx) error { var err error; out, err = tx.BatchMessages(batch); return err })
	return out
}

func TestGroupsAndSavedSearches(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "GB"})
	u := e.user("alice", model.RoleStaff, model.VisibilityAll, false)
	ctx := context.Background()
	g, err := e.s.PutGroup(ctx, u.ID, GroupInput{ID: "g1", Members: []string{"07911 123201", "+447911123201", "07911 123202"}})
	if err != nil || len(g.Members) != 2 || g.Name != "g1" {
		t.Fatalf("PutGroup: %+v %v", g, err)
	}
	var ve *ValidationError
	if _, err := e.s.PutGroup(ctx, u.ID, GroupInput{ID: "g2", Members: []string{"+447911123201", "nope"}}); !errors.As(err, &ve) || ve.Fields[0].Index != 1 {
		t.Fatalf("bad member: %v", err)
	}
	if got, err := e.s.Group(ctx, u.ID, "g1"); err != nil || got.Members[1] != "+447911123202" {
		t.Fatalf("Group: %+v %v", got, err)
	}
	if err := e.s.DeleteGroup(ctx, u.ID, "g1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Group(ctx, u.ID, "g1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted group: %v", err)
	}
	for _, c := range []ContactInput{
		{Number: "+447911123201", Name: "Ada", Company: "Engines Ltd", JobTitle: "Countess", CRM: &model.CRMRef{Type: "applicant", ID: "1"}},
		{Number: "+447911123202", Name: "Grace", Company: "Navy", JobTitle: "Admiral", Tags: []string{"vip"}},
	} {
		if _, err := e.s.UpsertContact(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		q    model.ContactQuery
		want string
	}{
		{model.ContactQuery{Company: "engines"}, "Ada"},
		{model.ContactQuery{JobTitle: "ADMIRAL"}, "Grace"},
		{model.ContactQuery{Tag: "VIP"}, "Grace"},
		{model.ContactQuery{RefType: "applicant"}, "Ada"},
		{model.ContactQuery{Name: "a"}, "Ada,Grace"},
		{model.ContactQuery{Name: "a", Tag: "vip"}, "Grace"},
	}
	for _, tc := range cases {
		got, err := e.s.SearchContacts(ctx, u.ID, tc.q)
		var names []string
		for _, c := range got {
			names = append(names, c.Name)
		}
		if err != nil || strings.Join(names, ",") != tc.want {
			t.Errorf("search %+v: %v %v, want %s", tc.q, names, err, tc.want)
		}
	}
	if _, err := e.s.PutSavedSearch(ctx, u.ID, model.SavedSearch{ID: "empty"}); err == nil {
		t.Error("a saved search without criteria was accepted")
	}
}

// TestValidNumberAgrees: the shortcut for the default country answers as
// phonenumbers.IsValidNumber does, over numbers of every shape around the
// UK (including the Channel Islands and Isle of Man, which share +44) and
// North America (+1, shared by many regions).
func TestValidNumberAgrees(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "GB"})
	us := newEnv(t, Options{DefaultCountry: "US"})
	prefixes := []string{"+447", "+4479", "+441534", "+447781", "+447624", "+441481", "+4420", "+44800", "+449", "+44", "+1", "+1212", "+1876", "+1441", "+1800", "+1345"}
	n := 0
	for _, p := range prefixes {
		for i := range 120 {
			digits := fmt.Sprintf("%s%d", p, (i*7919+13)%10000000)
			for len(digits) < 13 {
				digits += fmt.Sprint(i % 10)
			}
			for _, l := range []int{len(digits) - 1, len(digits), len(digits) - 2} {
				raw := digits[:l]
				for _, svc := range []*Service{e.s, us.s} {
					region := svc.opt.DefaultCountry
					num, err := phonenumbers.Parse(raw, region)
					if err != nil {
						continue
					}
					if got, want := svc.validNumber(num, region), phonenumbers.IsValidNumber(num); got != want {
						t.Errorf("%s (default %s): validNumber %v, IsValidNumber %v", raw, region, got, want)
					}
					n++
				}
			}
		}
	}
	if n < 3000 {
		t.Fatalf("only %d numbers compared", n)
	}
}
