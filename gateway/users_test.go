package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func TestUsersAndLogin(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u, err := e.s.CreateUser(ctx, NewUser{Name: "Alice", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != model.RoleStaff || u.Visibility != model.VisibilityAll || u.PasswordHash != nil {
		t.Fatalf("defaults or hash leaked: %+v", u)
	}
	if _, err := e.s.CreateUser(ctx, NewUser{Name: "alice", Password: "another one"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name (case-insensitive): %v", err)
	}
	for _, bad := range []NewUser{
		{Name: "", Password: "long enough"},
		{Name: "x", Password: "short"},
		{Name: "y", Password: "long enough", Role: "root"},
		{Name: "z", Password: "long enough", Visibility: "everything"},
	} {
		var ve *ValidationError
		if _, err := e.s.CreateUser(ctx, bad); !errors.As(err, &ve) {
			t.Errorf("CreateUser(%+v) = %v, want ValidationError", bad, err)
		}
	}
	if got, err := e.s.Login(ctx, "ALICE", "correct horse"); err != nil || got.ID != u.ID {
		t.Fatalf("login: %+v %v", got, err)
	}
	for _, c := range [][2]string{{"alice", "wrong password"}, {"nobody", "correct horse"}} {
		if _, err := e.s.Login(ctx, c[0], c[1]); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("login %v: %v", c, err)
		}
	}
	pw, off := "new password!", true
	if _, err := e.s.UpdateUser(ctx, u.ID, UserUpdate{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "alice", pw); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
	if _, err := e.s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "alice", pw); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("disabled user logged in: %v", err)
	}
	if err := e.s.RequireAdmin(ctx, u.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("RequireAdmin(staff) = %v", err)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, Options{TokenTouchInterval: time.Minute})
	ctx := context.Background()
	staff := e.user("staff", model.RoleStaff, model.VisibilityAll, false)
	other := e.user("other", model.RoleStaff, model.VisibilityAll, false)
	admin := e.user("admin", model.RoleAdmin, model.VisibilityAll, false)

	tok, secret, err := e.s.CreateToken(ctx, staff.ID, "crm", []model.Scope{model.ScopeSend}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || tok.Hash != nil || !strings.HasPrefix(secret, tok.Prefix) {
		t.Fatalf("token %+v secret %q", tok, secret)
	}
	u, got, err := e.s.Authenticate(ctx, secret)
	if err != nil || u.ID != staff.ID || got.ID != tok.ID || !got.HasScope(model.ScopeSend) || got.HasScope(model.ScopeRead) {
		t.Fatalf("authenticate: %+v %+v %v", u, got, err)
	}
	if got.LastUsedAt.IsZero() {
		t.Error("LastUsedAt not recorded")
	}
	for _, bad := range []string{"", "gsm_nope", secret + "x", strings.TrimPrefix(secret, TokenPrefix)} {
		if _, _, err := e.s.Authenticate(ctx, bad); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
	if _, _, err := e.s.CreateToken(ctx, staff.ID, "x", []model.Scope{model.ScopeAdmin}, time.Time{}); err == nil {
		t.Error("staff got an admin-scoped token")
	}
	if _, _, err := e.s.CreateToken(ctx, staff.ID, "x", []model.Scope{"root"}, time.Time{}); err == nil {
		t.Error("unknown scope accepted")
	}
	// Expiry.
	_, short, err := e.s.CreateToken(ctx, admin.ID, "short", []model.Scope{model.ScopeAdmin}, e.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	if _, _, err := e.s.Authenticate(ctx, short); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("expired token: %v", err)
	}
	// Listing and revoking.
	if ts, _ := e.s.ListTokens(ctx, staff.ID); len(ts) != 1 || ts[0].Hash != nil {
		t.Fatalf("list %+v", ts)
	}
	if ts, _ := e.s.ListTokens(ctx, 0); len(ts) != 2 {
		t.Fatalf("list all %d", len(ts))
	}
	if err := e.s.RevokeToken(ctx, other.ID, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other user revoked: %v", err)
	}
	if err := e.s.RevokeToken(ctx, admin.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.s.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token works: %v", err)
	}
}

func TestSettings(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	resend := false
	if found, err := e.s.Setting(ctx, "resend_unknown", &resend); err != nil || found {
		t.Fatalf("unset: %v %v", found, err)
	}
	if err := e.s.PutSetting(ctx, "resend_unknown", true); err != nil {
		t.Fatal(err)
	}
	if found, err := e.s.Setting(ctx, "resend_unknown", &resend); err != nil || !found || !resend {
		t.Fatalf("set: %v %v %v", found, resend, err)
	}
	all, _ := e.s.Settings(ctx)
	if string(all["resend_unknown"]) != "true" {
		t.Fatalf("all settings %v", all)
	}
}
