package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/control"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

// What gsmgate user and gsmgate token do. The same operations run on the
// database directly (no daemon holds it) or in the daemon, asked through
// its control socket; either way the core acts for the local operator,
// whose changes the audit log records as such.

type addUserArgs struct {
	Name       string `json:"name"`
	Password   string `json:"password"`
	Role       string `json:"role,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	// Marketing nil takes the settings' default.
	Marketing *bool `json:"include_marketing,omitempty"`
}

type passwdArgs struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type createTokenArgs struct {
	User    string    `json:"user"`
	Name    string    `json:"name,omitempty"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires,omitzero"`
}

type listTokensArgs struct {
	User string `json:"user,omitempty"`
}

type revokeTokenArgs struct {
	ID model.ID `json:"id"`
}

// userRow and tokenRow are what the commands print.
type userRow struct {
	ID         model.ID         `json:"id"`
	Name       string           `json:"name"`
	Role       model.Role       `json:"role"`
	Visibility model.Visibility `json:"visibility"`
	Disabled   bool             `json:"disabled"`
	CreatedAt  time.Time        `json:"created_at"`
}

type tokenRow struct {
	ID         model.ID      `json:"id"`
	Name       string        `json:"name"`
	User       string        `json:"user"`
	Scopes     []model.Scope `json:"scopes"`
	Prefix     string        `json:"prefix"`
	CreatedAt  time.Time     `json:"created_at"`
	ExpiresAt  time.Time     `json:"expires_at,omitzero"`
	LastUsedAt time.Time     `json:"last_used_at,omitzero"`
}

type newToken struct {
	Token  tokenRow `json:"token"`
	Secret string   `json:"secret"`
}

func rowOf(u model.User) userRow {
	return userRow{ID: u.ID, Name: u.Name, Role: u.Role, Visibility: u.Visibility, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

// adminOps is one way of doing the commands' work.
type adminOps interface {
	addUser(ctx context.Context, a addUserArgs) (userRow, error)
	users(ctx context.Context) ([]userRow, error)
	passwd(ctx context.Context, a passwdArgs) (userRow, error)
	createToken(ctx context.Context, a createTokenArgs) (newToken, error)
	tokens(ctx context.Context, a listTokensArgs) ([]tokenRow, error)
	revokeToken(ctx context.Context, a revokeTokenArgs) (tokenRow, error)
}

// localOps does the work with the core, as the local operator.
type localOps struct{ svc *gateway.Service }

var op = gateway.LocalOperator()

func (l localOps) addUser(ctx context.Context, a addUserArgs) (userRow, error) {
	u, err := l.svc.AddUser(ctx, op, gateway.UserSpec{Name: a.Name, Password: a.Password, Role: model.Role(a.Role),
		Visibility: model.Visibility(a.Visibility), IncludeMarketed: a.Marketing})
	return rowOf(u), err
}

func (l localOps) users(ctx context.Context) ([]userRow, error) {
	us, err := l.svc.AdminUsers(ctx, op)
	out := make([]userRow, 0, len(us))
	for _, u := range us {
		out = append(out, rowOf(u))
	}
	return out, err
}

func (l localOps) find(ctx context.Context, name string) (model.User, error) {
	us, err := l.svc.AdminUsers(ctx, op)
	if err != nil {
		return model.User{}, err
	}
	for _, u := range us {
		if strings.EqualFold(u.Name, name) {
			return u, nil
		}
	}
	return model.User{}, fmt.Errorf("no user named %q (gsmgate user list shows them)", name)
}

func (l localOps) passwd(ctx context.Context, a passwdArgs) (userRow, error) {
	u, err := l.find(ctx, a.Name)
	if err != nil {
		return userRow{}, err
	}
	u, err = l.svc.ChangeUser(ctx, op, u.ID, gateway.UserUpdate{Password: &a.Password})
	return rowOf(u), err
}

func (l localOps) createToken(ctx context.Context, a createTokenArgs) (newToken, error) {
	u, err := l.find(ctx, a.User)
	if err != nil {
		return newToken{}, err
	}
	name := a.Name
	if name == "" {
		name = u.Name + "-" + time.Now().Format("20060102")
	}
	scopes := make([]model.Scope, 0, len(a.Scopes))
	for _, s := range a.Scopes {
		scopes = append(scopes, model.Scope(s))
	}
	t, secret, err := l.svc.IssueToken(ctx, op, u.ID, name, scopes, a.Expires)
	if err != nil {
		return newToken{}, err
	}
	return newToken{Token: tokenRow{ID: t.ID, Name: t.Name, User: u.Name, Scopes: t.Scopes, Prefix: t.Prefix,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}, Secret: secret}, nil
}

func (l localOps) tokens(ctx context.Context, a listTokensArgs) ([]tokenRow, error) {
	var uid model.ID
	if a.User != "" {
		u, err := l.find(ctx, a.User)
		if err != nil {
			return nil, err
		}
		uid = u.ID
	}
	ts, err := l.svc.AdminTokens(ctx, op)
	if err != nil {
		return nil, err
	}
	out := []tokenRow{}
	for _, t := range ts {
		if uid != 0 && t.UserID != uid {
			continue
		}
		out = append(out, tokenRow{ID: t.ID, Name: t.Name, User: t.UserName, Scopes: t.Scopes, Prefix: t.Prefix,
			CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	return out, nil
}

func (l localOps) revokeToken(ctx context.Context, a revokeTokenArgs) (tokenRow, error) {
	ts, err := l.tokens(ctx, listTokensArgs{})
	if err != nil {
		return tokenRow{}, err
	}
	for _, t := range ts {
		if t.ID == a.ID {
			return t, l.svc.RevokeTokenAs(ctx, op, a.ID)
		}
	}
	return tokenRow{}, fmt.Errorf("no token %s (gsmgate token list shows them)", a.ID)
}

// sentence says an error in words for a person at a terminal: a
// validation error's fields, the core's conflicts without their prefix.
func sentence(err error) string {
	var ve *gateway.ValidationError
	if errors.As(err, &ve) {
		parts := make([]string, 0, len(ve.Fields))
		for _, f := range ve.Fields {
			parts = append(parts, f.Field+": "+f.Reason)
		}
		return strings.Join(parts, "; ")
	}
	if errors.Is(err, gateway.ErrExists) {
		return "that name is taken (gsmgate user list shows the users)"
	}
	s := err.Error()
	for _, p := range []string{"gateway: conflict: ", "gateway: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// failLine prints a command's failure as one line (or one per field) and
// returns exit status 1.
func failLine(stderr io.Writer, cmd string, err error) int {
	var ve *gateway.ValidationError
	if errors.As(err, &ve) {
		return errorLine(stderr, cmd, err)
	}
	fmt.Fprintf(stderr, "%s: %s\n", cmd, sentence(err))
	return 1
}

// adminOpsFromFlags picks how the user and token commands do their work:
// through the running daemon's control socket when one answers, else on
// the database directly (no daemon holds it). ok false means: return
// code, the reason printed with a way that works.
func adminOpsFromFlags(c *commonFlags, cmd string, create bool, stderr io.Writer) (adminOps, func(), int, bool) {
	cfg, err := c.load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, 1, false
	}
	sock := filepath.Join(cfg.DataDir, control.SocketName)
	client := control.NewClient(sock)
	// A short probe: a daemon answers "status" at once; a socket nobody
	// serves is refused at once. Nothing waits on a hung peer for long.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err = client.Call(ctx, "status", nil, nil)
	cancel()
	switch {
	case err == nil:
		return remoteOps{client}, func() {}, 0, true
	case errors.Is(err, control.ErrNoDaemon):
		// No daemon: open the database directly (below).
	case errors.Is(err, fs.ErrPermission):
		fmt.Fprintf(stderr, "%s: the daemon is running, but you may not use its control socket %s (%v).\n"+
			"Run it as root (sudo %s ...) or as a member of the service's group (usermod -aG gsmgate $USER, then log in again),\n"+
			"or use the admin web pages or the admin API (/api/v1/users, /api/v1/tokens).\n", cmd, sock, errors.Unwrap(err), cmd)
		return nil, nil, 1, false
	default:
		fmt.Fprintf(stderr, "%s: the daemon's control socket %s did not answer: %v\n"+
			"(is gsmgate serve stuck? systemctl status gsmgate; the admin web pages and API also work)\n", cmd, sock, err)
		return nil, nil, 1, false
	}
	svc, closeDB, err := openService(cfg, create, stderr)
	if err != nil {
		fmt.Fprintln(stderr, cmd+":", err)
		return nil, nil, 1, false
	}
	return localOps{svc}, closeDB, 0, true
}
