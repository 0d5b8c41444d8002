package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/nyaruka/phonenumbers"
)

// Administration: users, tokens, settings and the unassigned inbox,
// changed by an admin (the API's admin scope, the admin pages) or by the
// appliance's local operator (the CLI). Every change is written to the
// audit log in the transaction that makes it, so the log cannot miss one.

// Actor is who asks for an administrative change.
type Actor struct {
	// UserID is the acting user; the core checks that it is an enabled
	// admin at the moment of the change.
	UserID model.ID
	// Local is the appliance's operator at its console (gsmgate user and
	// token, through the control socket or on a stopped daemon's
	// database), authenticated by the file permissions of the socket or
	// the database, not by a user. UserID is zero.
	Local bool
}

// LocalOperator is the Actor of the CLI on the appliance.
func LocalOperator() Actor { return Actor{Local: true} }

// LocalOperatorName is how the audit log names the local operator.
const LocalOperatorName = "local operator (CLI)"

// ErrLastAdmin refuses a change that would leave no enabled admin.
var ErrLastAdmin = fmt.Errorf("%w: the last enabled admin cannot be demoted or disabled; make another user admin first", ErrConflict)

// authorize returns the actor's name for the audit log, or ErrForbidden
// unless it is the local operator or an enabled admin.
func authorize(tx *store.Tx, a Actor) (string, error) {
	if a.Local && a.UserID == 0 {
		return LocalOperatorName, nil
	}
	u, err := tx.User(a.UserID)
	if err != nil || u.Disabled || u.Role != model.RoleAdmin {
		return "", ErrForbidden
	}
	return u.Name, nil
}

func (s *Service) audit(tx *store.Tx, a Actor, actor, action, target, detail string) error {
	return tx.AppendAudit(&model.AuditEntry{At: s.clock.Now(), ActorID: a.UserID, Actor: actor,
		Action: action, Target: target, Detail: detail})
}

// asAdmin runs fn in a write transaction after authorising a; errors the
// caller can act on pass unwrapped, others get the package prefix.
func (s *Service) asAdmin(ctx context.Context, a Actor, what string, fn func(tx *store.Tx, actor string) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.st.Update(func(tx *store.Tx) error {
		actor, err := authorize(tx, a)
		if err != nil {
			return err
		}
		return fn(tx, actor)
	})
	if err == nil || isCallerError(err) {
		return err
	}
	return fmt.Errorf("gateway: %s: %w", what, err)
}

func isCallerError(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) ||
		errors.Is(err, ErrConflict) || errors.Is(err, ErrExists)
}

// AdminUsers lists every user (admins and the local operator only).
func (s *Service) AdminUsers(ctx context.Context, a Actor) ([]model.User, error) {
	var us []model.User
	err := s.st.View(func(tx *store.Tx) error {
		if _, err := authorize(tx, a); err != nil {
			return err
		}
		var err error
		us, err = tx.Users()
		return err
	})
	for i := range us {
		us[i] = public(us[i])
	}
	return us, err
}

// UserSpec describes a user an admin adds. Visibility "" and
// IncludeMarketed nil take the settings' defaults; Role "" is staff.
type UserSpec struct {
	Name            string
	Password        string
	Role            model.Role
	Visibility      model.Visibility
	IncludeMarketed *bool
}

// AddUser creates a user (ErrExists when the name is taken) and logs it.
func (s *Service) AddUser(ctx context.Context, a Actor, sp UserSpec) (model.User, error) {
	set := s.AppSettings()
	if sp.Role == "" {
		sp.Role = model.RoleStaff
	}
	if sp.Visibility == "" {
		sp.Visibility = set.DefaultVisibility
	}
	mkt := set.DefaultIncludeMarketed
	if sp.IncludeMarketed != nil {
		mkt = *sp.IncludeMarketed
	}
	if err := validateUserFields(sp.Name, sp.Role, sp.Visibility); err != nil {
		return model.User{}, err
	}
	hash, err := s.hashPassword(sp.Password)
	if err != nil {
		return model.User{}, err
	}
	now := s.clock.Now()
	u := model.User{ID: s.st.NewID(), Name: sp.Name, Role: sp.Role, Visibility: sp.Visibility,
		IncludeMarketedWhenSorting: mkt, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.asAdmin(ctx, a, "add user", func(tx *store.Tx, actor string) error {
		if err := tx.PutUser(&u); err != nil {
			return err
		}
		return s.audit(tx, a, actor, model.AuditUserCreated, u.Name, fmt.Sprintf("role %s, sees %s", u.Role, u.Visibility))
	})
	if err != nil {
		return model.User{}, err
	}
	return public(u), nil
}

// ChangeUser applies an admin's change to a user (role, visibility,
// include-marketed default, disabled, password; the name stays). It
// refuses (ErrLastAdmin) a change that leaves no enabled admin, so the
// last admin cannot demote or disable themselves. A disabled user's
// sessions and tokens stop working at their next request (the core checks
// Disabled on every authentication).
func (s *Service) ChangeUser(ctx context.Context, a Actor, id model.ID, up UserUpdate) (model.User, error) {
	if up.Name != nil {
		return model.User{}, invalid("name", "a user's name cannot be changed; add a new user instead")
	}
	var hash []byte
	if up.Password != nil {
		var err error
		if hash, err = s.hashPassword(*up.Password); err != nil {
			return model.User{}, err
		}
	}
	var u model.User
	err := s.asAdmin(ctx, a, "change user", func(tx *store.Tx, actor string) error {
		var err error
		if u, err = tx.User(id); err != nil {
			return ErrNotFound
		}
		before := u
		type change struct{ action, detail string }
		var changes []change
		if up.Role != nil && *up.Role != u.Role {
			u.Role = *up.Role
			changes = append(changes, change{model.AuditUserRole, fmt.Sprintf("%s → %s", before.Role, u.Role)})
		}
		if up.Visibility != nil && *up.Visibility != u.Visibility {
			u.Visibility = *up.Visibility
			changes = append(changes, change{model.AuditUserVisibility, fmt.Sprintf("%s → %s", before.Visibility, u.Visibility)})
		}
		if up.IncludeMarketedWhenSorting != nil && *up.IncludeMarketedWhenSorting != u.IncludeMarketedWhenSorting {
			u.IncludeMarketedWhenSorting = *up.IncludeMarketedWhenSorting
			changes = append(changes, change{model.AuditUserMarketing, fmt.Sprintf("%t → %t", before.IncludeMarketedWhenSorting, u.IncludeMarketedWhenSorting)})
		}
		if up.Disabled != nil && *up.Disabled != u.Disabled {
			u.Disabled = *up.Disabled
			if u.Disabled {
				changes = append(changes, change{model.AuditUserDisabled, ""})
			} else {
				changes = append(changes, change{model.AuditUserEnabled, ""})
			}
		}
		if hash != nil {
			u.PasswordHash = hash
			changes = append(changes, change{model.AuditUserPassword, ""})
		}
		if err := validateUserFields(u.Name, u.Role, u.Visibility); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		if before.Role == model.RoleAdmin && !before.Disabled && (u.Role != model.RoleAdmin || u.Disabled) {
			admins, err := enabledAdmins(tx)
			if err != nil {
				return err
			}
			if admins <= 1 {
				return ErrLastAdmin
			}
		}
		u.UpdatedAt = s.clock.Now()
		if err := tx.PutUser(&u); err != nil {
			return err
		}
		if err := s.userChanged(tx, before, u); err != nil {
			return err
		}
		for _, c := range changes {
			if err := s.audit(tx, a, actor, c.action, u.Name, c.detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return model.User{}, err
	}
	return public(u), nil
}

// userChanged runs in the transaction of an admin's change to a user:
// a user disabled, or given a new password by an admin, is logged out
// everywhere (their sessions are deleted; their API tokens are refused
// while they are disabled, as Authenticate checks Disabled).
func (s *Service) userChanged(tx *store.Tx, before, after model.User) error {
	disabled := after.Disabled && !before.Disabled
	if !disabled && string(after.PasswordHash) == string(before.PasswordHash) {
		return nil
	}
	_, err := tx.DeleteUserSessions(after.ID, nil)
	return err
}

func enabledAdmins(tx *store.Tx) (int, error) {
	us, err := tx.Users()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range us {
		if u.Role == model.RoleAdmin && !u.Disabled {
			n++
		}
	}
	return n, nil
}

// TokenInfo is a token as an admin lists it: with its user's name.
type TokenInfo struct {
	model.Token
	UserName string
}

// AdminTokens lists every user's tokens, newest first, with last use.
func (s *Service) AdminTokens(ctx context.Context, a Actor) ([]TokenInfo, error) {
	var out []TokenInfo
	err := s.st.View(func(tx *store.Tx) error {
		if _, err := authorize(tx, a); err != nil {
			return err
		}
		ts, err := tx.Tokens(0)
		if err != nil {
			return err
		}
		names := map[model.ID]string{}
		us, err := tx.Users()
		if err != nil {
			return err
		}
		for _, u := range us {
			names[u.ID] = u.Name
		}
		for _, t := range ts {
			out = append(out, TokenInfo{Token: publicToken(t), UserName: names[t.UserID]})
		}
		return nil
	})
	slices.SortFunc(out, func(x, y TokenInfo) int { return -cmpID(x.ID, y.ID) })
	return out, err
}

func cmpID(a, b model.ID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IssueToken makes a token for user userID on an admin's behalf and logs
// it; the secret is returned this once.
func (s *Service) IssueToken(ctx context.Context, a Actor, userID model.ID, name string, scopes []model.Scope, expiresAt time.Time) (model.Token, string, error) {
	if err := s.st.View(func(tx *store.Tx) error { _, err := authorize(tx, a); return err }); err != nil {
		return model.Token{}, "", err
	}
	t, secret, err := s.CreateToken(ctx, userID, name, scopes, expiresAt)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return model.Token{}, "", invalid("user_id", "no such user")
		}
		return model.Token{}, "", err
	}
	err = s.asAdmin(ctx, a, "log token", func(tx *store.Tx, actor string) error {
		u, _ := tx.User(userID)
		return s.audit(tx, a, actor, model.AuditTokenCreated, t.Name, fmt.Sprintf("for %s, scopes %s, starts %s", u.Name, joinScopes(t.Scopes), t.Prefix))
	})
	if err != nil {
		// The admin was demoted between the two transactions: take the
		// token back rather than leave an unlogged one.
		_ = s.st.Update(func(tx *store.Tx) error { return tx.DeleteToken(t.ID) })
		return model.Token{}, "", err
	}
	return t, secret, nil
}

func joinScopes(sc []model.Scope) string {
	parts := make([]string, len(sc))
	for i, x := range sc {
		parts[i] = string(x)
	}
	return strings.Join(parts, ",")
}

// RevokeTokenAs deletes any user's token on an admin's behalf and logs it.
// The token stops working at its next request (Authenticate reads the
// store every time).
func (s *Service) RevokeTokenAs(ctx context.Context, a Actor, tokenID model.ID) error {
	return s.asAdmin(ctx, a, "revoke token", func(tx *store.Tx, actor string) error {
		t, err := tx.Token(tokenID)
		if err != nil {
			return ErrNotFound
		}
		u, _ := tx.User(t.UserID)
		if err := tx.DeleteToken(tokenID); err != nil {
			return err
		}
		return s.audit(tx, a, actor, model.AuditTokenRevoked, t.Name, fmt.Sprintf("of %s, starts %s", u.Name, t.Prefix))
	})
}

// SettingAdmin is the settings record's name in the settings bucket.
const SettingAdmin = "admin"

// AppSettings are the settings in effect: the ones an admin saved, or
// those the service was started with.
func (s *Service) AppSettings() model.Settings {
	if p := s.live.Load(); p != nil {
		return *p
	}
	return s.bootSettings()
}

// AdminSettings are the settings in effect, for an admin's page.
func (s *Service) AdminSettings(ctx context.Context, a Actor) (model.Settings, error) {
	if err := s.st.View(func(tx *store.Tx) error { _, err := authorize(tx, a); return err }); err != nil {
		return model.Settings{}, err
	}
	return s.AppSettings(), nil
}

func (s *Service) bootSettings() model.Settings {
	return model.Settings{DefaultCountry: s.opt.DefaultCountry, RetentionDays: int(s.opt.Retention / (24 * time.Hour)),
		DefaultVisibility: model.VisibilityAll}
}

// loadSettings reads the saved settings (New calls it once).
func (s *Service) loadSettings() error {
	var set model.Settings
	err := s.st.View(func(tx *store.Tx) error { return tx.Setting(SettingAdmin, &set) })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gateway: read settings: %w", err)
	}
	if set.DefaultVisibility == "" {
		set.DefaultVisibility = model.VisibilityAll
	}
	s.live.Store(&set)
	return nil
}

// SettingsUpdate changes the settings that are not nil.
type SettingsUpdate struct {
	DefaultCountry         *string
	RetentionDays          *int
	DefaultVisibility      *model.Visibility
	DefaultIncludeMarketed *bool
}

// MaxRetentionDays bounds the retention period (ten years).
const MaxRetentionDays = 3650

// UpdateSettings applies an admin's change; it takes effect at once (the
// next number read, the next retention pass, the next user added) and
// outlives restarts (the saved settings win over the configuration file's
// default_country from then on).
func (s *Service) UpdateSettings(ctx context.Context, a Actor, up SettingsUpdate) (model.Settings, error) {
	cur := s.AppSettings()
	next := cur
	v := &ValidationError{}
	if up.DefaultCountry != nil {
		c := strings.ToUpper(strings.TrimSpace(*up.DefaultCountry))
		if c != "" && phonenumbers.GetCountryCodeForRegion(c) == 0 {
			v.add("default_country", -1, *up.DefaultCountry, "an ISO 3166-1 region code such as GB or DE, or empty")
		}
		next.DefaultCountry = c
	}
	if up.RetentionDays != nil {
		if *up.RetentionDays < 0 || *up.RetentionDays > MaxRetentionDays {
			v.add("retention_days", -1, fmt.Sprint(*up.RetentionDays), fmt.Sprintf("0 (keep forever) to %d", MaxRetentionDays))
		}
		next.RetentionDays = *up.RetentionDays
	}
	if up.DefaultVisibility != nil {
		if *up.DefaultVisibility != model.VisibilityAll && *up.DefaultVisibility != model.VisibilityOwn {
			v.add("default_visibility", -1, string(*up.DefaultVisibility), "must be incoming_and_outgoing or outgoing_only")
		}
		next.DefaultVisibility = *up.DefaultVisibility
	}
	if up.DefaultIncludeMarketed != nil {
		next.DefaultIncludeMarketed = *up.DefaultIncludeMarketed
	}
	if err := v.errOrNil(); err != nil {
		return cur, err
	}
	err := s.asAdmin(ctx, a, "settings", func(tx *store.Tx, actor string) error {
		if err := tx.PutSetting(SettingAdmin, &next); err != nil {
			return err
		}
		for _, c := range []struct {
			name     string
			was, now any
		}{
			{"default_country", cur.DefaultCountry, next.DefaultCountry},
			{"retention_days", cur.RetentionDays, next.RetentionDays},
			{"default_visibility", cur.DefaultVisibility, next.DefaultVisibility},
			{"default_include_marketed", cur.DefaultIncludeMarketed, next.DefaultIncludeMarketed},
		} {
			if c.was != c.now {
				if err := s.audit(tx, a, actor, model.AuditSettingChanged, c.name, fmt.Sprintf("%v → %v", quoteEmpty(c.was), quoteEmpty(c.now))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return cur, err
	}
	s.live.Store(&next)
	return next, nil
}

func quoteEmpty(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return `""`
	}
	return v
}

// defaultCountry is the region national numbers are read in now.
func (s *Service) defaultCountry() string {
	if p := s.live.Load(); p != nil {
		return p.DefaultCountry
	}
	return s.opt.DefaultCountry
}

// retention is how long messages are kept now (0: forever). Until an
// admin saves settings it is Options.Retention exactly (which need not be
// whole days).
func (s *Service) retention() time.Duration {
	if p := s.live.Load(); p != nil {
		return time.Duration(p.RetentionDays) * 24 * time.Hour
	}
	return s.opt.Retention
}

// AssignConversation puts the conversation with number (from the
// unassigned inbox, or any) into user userID's list: its incoming messages
// become theirs, later ones from the number reach them, and it leaves the
// unassigned inbox. It returns how many messages were associated.
func (s *Service) AssignConversation(ctx context.Context, a Actor, number string, userID model.ID) (int, error) {
	number = s.ConversationNumber(number)
	var n int
	err := s.asAdmin(ctx, a, "assign conversation", func(tx *store.Tx, actor string) error {
		u, err := tx.User(userID)
		if err != nil {
			return invalid("user_id", "no such user")
		}
		if u.Disabled {
			return invalid("user_id", "the user is disabled")
		}
		if n, err = tx.AssignConversation(number, userID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrNotFound
			}
			return err
		}
		return s.audit(tx, a, actor, model.AuditConversationAssigned, number, fmt.Sprintf("to %s (%d messages)", u.Name, n))
	})
	return n, err
}

// AuditLog lists the administration log, newest first (admins only).
func (s *Service) AuditLog(ctx context.Context, a Actor, p Page) (Paged[model.AuditEntry], error) {
	before, err := p.idCursor()
	if err != nil {
		return Paged[model.AuditEntry]{}, err
	}
	limit := p.limit(50, 500)
	var out Paged[model.AuditEntry]
	err = s.st.View(func(tx *store.Tx) error {
		if _, err := authorize(tx, a); err != nil {
			return err
		}
		es, err := tx.Audit(before, limit+1)
		if err != nil {
			return err
		}
		if len(es) > limit {
			es = es[:limit]
			out.Next = es[limit-1].ID.String()
		}
		out.Items = es
		return nil
	})
	return out, err
}
