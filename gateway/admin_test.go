package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func ptr[T any](v T) *T { return &v }

func (e *env) auditActions() []string {
	e.t.Helper()
	p, err := e.s.AuditLog(context.Background(), LocalOperator(), Page{Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(p.Items) - 1; i >= 0; i-- {
		it := p.Items[i]
		out = append(out, it.Actor+" "+it.Action+" "+it.Target)
	}
	return out
}

func TestAdminOnlyAdminsAct(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	admin := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	staff := e.user("Sam", model.RoleStaff, model.VisibilityAll, false)
	gone := e.user("Gone", model.RoleAdmin, model.VisibilityAll, false)
	if _, err := e.s.ChangeUser(ctx, Actor{UserID: admin.ID}, gone.ID, UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]Actor{"staff": {UserID: staff.ID}, "disabled admin": {UserID: gone.ID}, "unknown": {UserID: 42}, "nobody": {}} {
		calls := map[string]error{}
		_, calls["AddUser"] = e.s.AddUser(ctx, a, UserSpec{Name: "New", Password: "long enough"})
		_, calls["AdminUsers"] = e.s.AdminUsers(ctx, a)
		_, calls["ChangeUser"] = e.s.ChangeUser(ctx, a, staff.ID, UserUpdate{Role: ptr(model.RoleAdmin)})
		_, calls["AdminTokens"] = e.s.AdminTokens(ctx, a)
		_, _, calls["IssueToken"] = e.s.IssueToken(ctx, a, staff.ID, "x", []model.Scope{model.ScopeSend}, time.Time{})
		calls["RevokeTokenAs"] = e.s.RevokeTokenAs(ctx, a, 1)
		_, calls["UpdateSettings"] = e.s.UpdateSettings(ctx, a, SettingsUpdate{RetentionDays: ptr(3)})
		_, calls["AssignConversation"] = e.s.AssignConversation(ctx, a, numA, staff.ID)
		_, calls["AuditLog"] = e.s.AuditLog(ctx, a, Page{})
		_, calls["AdminSettings"] = e.s.AdminSettings(ctx, a)
		for call, err := range calls {
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("%s: %s = %v, want ErrForbidden", name, call, err)
			}
		}
	}
	if u, _ := e.s.User(ctx, staff.ID); u.Role != model.RoleStaff {
		t.Fatalf("a refused change happened: %+v", u)
	}
}

func TestAdminUsersAndAudit(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	admin := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	a := Actor{UserID: admin.ID}
	u, err := e.s.AddUser(ctx, a, UserSpec{Name: "Bob", Password: "bob's password"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != model.RoleStaff || u.Visibility != model.VisibilityAll || u.IncludeMarketedWhenSorting {
		t.Fatalf("defaults: %+v", u)
	}
	if _, err := e.s.AddUser(ctx, a, UserSpec{Name: "bob", Password: "another one"}); !errors.Is(err, ErrExists) {
		t.Fatalf("taken name: %v", err)
	}
	var ve *ValidationError
	if _, err := e.s.AddUser(ctx, a, UserSpec{Name: "Short", Password: "pw"}); !errors.As(err, &ve) {
		t.Fatalf("short password: %v", err)
	}
	u, err = e.s.ChangeUser(ctx, a, u.ID, UserUpdate{Visibility: ptr(model.VisibilityOwn), IncludeMarketedWhenSorting: ptr(true), Role: ptr(model.RoleAdmin)})
	if err != nil || u.Visibility != model.VisibilityOwn || !u.IncludeMarketedWhenSorting || u.Role != model.RoleAdmin {
		t.Fatalf("change: %+v %v", u, err)
	}
	if _, err := e.s.ChangeUser(ctx, a, u.ID, UserUpdate{Password: ptr("a new password")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "Bob", "a new password"); err != nil {
		t.Fatalf("login with reset password: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, a, u.ID, UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "Bob", "a new password"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("disabled user logged in: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, a, u.ID, UserUpdate{Name: ptr("Robert")}); !errors.As(err, &ve) {
		t.Fatalf("rename: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, a, 99, UserUpdate{Role: ptr(model.RoleAdmin)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, a, u.ID, UserUpdate{Role: ptr(model.Role("root"))}); !errors.As(err, &ve) {
		t.Fatalf("bad role: %v", err)
	}
	want := []string{
		"Ada user.created Bob",
		"Ada user.role Bob", "Ada user.visibility Bob", "Ada user.include_marketed Bob",
		"Ada user.password_reset Bob",
		"Ada user.disabled Bob",
	}
	if got := e.auditActions(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit:\n got %q\nwant %q", got, want)
	}
}

func TestLastAdminStays(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	for _, up := range []UserUpdate{{Role: ptr(model.RoleStaff)}, {Disabled: ptr(true)}} {
		if _, err := e.s.ChangeUser(ctx, Actor{UserID: ada.ID}, ada.ID, up); !errors.Is(err, ErrLastAdmin) || !errors.Is(err, ErrConflict) {
			t.Fatalf("last admin %+v: %v", up, err)
		}
		if _, err := e.s.ChangeUser(ctx, LocalOperator(), ada.ID, up); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("the CLI too may not remove the last admin %+v: %v", up, err)
		}
	}
	ben := e.user("Ben", model.RoleAdmin, model.VisibilityAll, false)
	if _, err := e.s.ChangeUser(ctx, Actor{UserID: ada.ID}, ada.ID, UserUpdate{Role: ptr(model.RoleStaff)}); err != nil {
		t.Fatalf("with another admin Ada may step down: %v", err)
	}
	// Ada is staff now: she can no longer act.
	if _, err := e.s.ChangeUser(ctx, Actor{UserID: ada.ID}, ben.ID, UserUpdate{Disabled: ptr(true)}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("demoted admin acted: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, Actor{UserID: ben.ID}, ben.ID, UserUpdate{Disabled: ptr(true)}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("Ben is the last admin now: %v", err)
	}
}

func TestAdminTokens(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	sam := e.user("Sam", model.RoleStaff, model.VisibilityAll, false)
	a := Actor{UserID: ada.ID}
	tok, secret, err := e.s.IssueToken(ctx, a, sam.ID, "crm", []model.Scope{model.ScopeSend, model.ScopeRead}, time.Time{})
	if err != nil || !strings.HasPrefix(secret, TokenPrefix) || tok.Hash != nil {
		t.Fatalf("issue: %+v %q %v", tok, secret, err)
	}
	var ve *ValidationError
	if _, _, err := e.s.IssueToken(ctx, a, sam.ID, "too much", []model.Scope{model.ScopeAdmin}, time.Time{}); !errors.As(err, &ve) {
		t.Fatalf("admin scope for staff: %v", err)
	}
	if _, _, err := e.s.IssueToken(ctx, a, 12345, "nobody's", []model.Scope{model.ScopeSend}, time.Time{}); !errors.As(err, &ve) {
		t.Fatalf("unknown user: %v", err)
	}
	e.clock.Advance(2 * time.Minute)
	if _, _, err := e.s.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	ts, err := e.s.AdminTokens(ctx, a)
	if err != nil || len(ts) != 1 || ts[0].UserName != "Sam" || !ts[0].LastUsedAt.Equal(e.clock.Now()) || ts[0].Hash != nil {
		t.Fatalf("list: %+v %v", ts, err)
	}
	if err := e.s.RevokeTokenAs(ctx, a, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := e.s.RevokeTokenAs(ctx, a, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	want := "Ada token.created crm|Ada token.revoked crm"
	if got := strings.Join(e.auditActions(), "|"); got != want {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

func TestSettingsTakeEffectAndPersist(t *testing.T) {
	e := newEnv(t, Options{DefaultCountry: "GB", Retention: 36 * time.Hour})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	a := Actor{UserID: ada.ID}
	if got := e.s.AppSettings(); got.DefaultCountry != "GB" || got.RetentionDays != 1 || got.DefaultVisibility != model.VisibilityAll {
		t.Fatalf("boot settings: %+v", got)
	}
	if e.s.retention() != 36*time.Hour {
		t.Fatalf("retention before any save: %v", e.s.retention())
	}
	if n, err := e.s.NormalizeNumber("07911 123451"); err != nil || n != numA {
		t.Fatalf("GB national: %q %v", n, err)
	}
	var ve *ValidationError
	for _, bad := range []SettingsUpdate{
		{DefaultCountry: ptr("Narnia")}, {RetentionDays: ptr(-1)}, {RetentionDays: ptr(MaxRetentionDays + 1)},
		{DefaultVisibility: ptr(model.Visibility("all"))},
	} {
		if _, err := e.s.UpdateSettings(ctx, a, bad); !errors.As(err, &ve) {
			t.Errorf("UpdateSettings(%+v) = %v", bad, err)
		}
	}
	set, err := e.s.UpdateSettings(ctx, a, SettingsUpdate{DefaultCountry: ptr("de"), RetentionDays: ptr(30),
		DefaultVisibility: ptr(model.VisibilityOwn), DefaultIncludeMarketed: ptr(true)})
	if err != nil || set.DefaultCountry != "DE" || set.RetentionDays != 30 {
		t.Fatalf("update: %+v %v", set, err)
	}
	if n, err := e.s.NormalizeNumber("0151 23456789"); err != nil || n != "+4915123456789" {
		t.Fatalf("DE national after the change: %q %v", n, err)
	}
	if e.s.retention() != 30*24*time.Hour {
		t.Fatalf("retention: %v", e.s.retention())
	}
	u, err := e.s.AddUser(ctx, a, UserSpec{Name: "New", Password: "long enough"})
	if err != nil || u.Visibility != model.VisibilityOwn || !u.IncludeMarketedWhenSorting {
		t.Fatalf("new user without the defaults: %+v %v", u, err)
	}
	// A restart keeps what the admin saved over the options.
	s2, err := New(e.db, e.clock, nil, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.AppSettings(); got != set {
		t.Fatalf("after restart %+v, want %+v", got, set)
	}
	log := strings.Join(e.auditActions(), "|")
	for _, want := range []string{"setting.changed default_country", "setting.changed retention_days", "setting.changed default_visibility", "setting.changed default_include_marketed"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit lacks %q: %s", want, log)
		}
	}
}

func TestAssignUnassigned(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	sam := e.user("Sam", model.RoleStaff, model.VisibilityAll, false)
	e.receive(numA, "hello?")
	e.receive(numA, "anyone?")
	if got := e.numbers(ada, true); len(got) != 1 || got[0] != numA {
		t.Fatalf("unassigned: %v", got)
	}
	if got := e.numbers(sam, false); len(got) != 0 {
		t.Fatalf("Sam sees %v before the assignment", got)
	}
	n, err := e.s.AssignConversation(ctx, Actor{UserID: ada.ID}, "07911 123451", sam.ID)
	if err != nil || n != 2 {
		t.Fatalf("assign: %d %v", n, err)
	}
	if got := e.numbers(ada, true); len(got) != 0 {
		t.Fatalf("still unassigned: %v", got)
	}
	if got, err := e.thread(sam, numA); err != nil || strings.Join(got, ",") != "hello?,anyone?" {
		t.Fatalf("Sam's thread: %v %v", got, err)
	}
	// The next message from the number reaches Sam.
	m := e.receive(numA, "thanks")
	if len(m.Users) != 1 || m.Users[0] != sam.ID {
		t.Fatalf("next message users %v", m.Users)
	}
	if n, err := e.s.AssignConversation(ctx, Actor{UserID: ada.ID}, numA, sam.ID); err != nil || n != 0 {
		t.Fatalf("assign again: %d %v", n, err)
	}
	if _, err := e.s.AssignConversation(ctx, Actor{UserID: ada.ID}, numB, sam.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no conversation: %v", err)
	}
	var ve *ValidationError
	if _, err := e.s.AssignConversation(ctx, Actor{UserID: ada.ID}, numA, 777); !errors.As(err, &ve) {
		t.Fatalf("unknown user: %v", err)
	}
	if got := e.auditActions(); len(got) != 2 || got[0] != "Ada conversation.assigned "+numA {
		t.Fatalf("audit %q", got)
	}
}

func TestAuditLogPages(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	for i := range 5 {
		if _, err := e.s.AddUser(ctx, Actor{UserID: ada.ID}, UserSpec{Name: "u" + string(rune('a'+i)), Password: "long enough"}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := Page{Limit: 2}
	for {
		pg, err := e.s.AuditLog(ctx, Actor{UserID: ada.ID}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			names = append(names, it.Target)
		}
		if pg.Next == "" {
			break
		}
		p.Cursor = pg.Next
	}
	if got := strings.Join(names, ","); got != "ue,ud,uc,ub,ua" {
		t.Fatalf("pages: %s", got)
	}
	var ve *ValidationError
	if _, err := e.s.AuditLog(ctx, Actor{UserID: ada.ID}, Page{Cursor: "zz!"}); !errors.As(err, &ve) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestDisableAndResetEndSessions: disabling a user deletes their
// sessions (enabling again does not bring them back); an admin's password
// reset logs them out too.
func TestDisableAndResetEndSessions(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	ada := e.user("Ada", model.RoleAdmin, model.VisibilityAll, false)
	sam := e.user("Sam", model.RoleStaff, model.VisibilityAll, false)
	a := Actor{UserID: ada.ID}
	session := func() string {
		secret, _, err := e.s.CreateSession(ctx, sam.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	live := func(secret string) bool { _, _, err := e.s.SessionByToken(ctx, secret); return err == nil }
	s1 := session()
	if _, err := e.s.ChangeUser(ctx, a, sam.ID, UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ChangeUser(ctx, a, sam.ID, UserUpdate{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if live(s1) {
		t.Fatal("a session outlived its user's disabling")
	}
	s2 := session()
	if _, err := e.s.ChangeUser(ctx, a, sam.ID, UserUpdate{Visibility: ptr(model.VisibilityOwn)}); err != nil || !live(s2) {
		t.Fatalf("a visibility change ended the session: %v", err)
	}
	if _, err := e.s.ChangeUser(ctx, a, sam.ID, UserUpdate{Password: ptr("reset by ada")}); err != nil {
		t.Fatal(err)
	}
	if live(s2) {
		t.Fatal("a session outlived an admin's password reset")
	}
}
