package httpkit

import (
	"context"
	"encoding/hex"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"golang.org/x/time/rate"
)

// The scopes an API token can carry. admin implies the other two.
const (
	ScopeSend  = "send"
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// Principal is who a request acts for: the API token it carries, or a
// staff member's UI session (its cookie). Handlers and the shared helpers
// (rate-limit keys, the audit log's actor) read it with PrincipalFrom
// whatever authenticated it, so that UI and API callers are treated alike.
type Principal struct {
	// TokenID and TokenName name the token (empty for a session).
	TokenID   string
	TokenName string
	// Session names a UI session (empty for a token): a short hex prefix
	// of the session's stored hash, never its secret.
	Session string
	// UserID and User are the user the request acts as: it sends as that
	// user and reads what that user may see.
	UserID model.ID
	User   string
	// Admin is true when the user has the admin role.
	Admin  bool
	Scopes []string
}

// Has reports whether the principal carries scope (admin carries all).
func (p Principal) Has(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope || s == ScopeAdmin {
			return true
		}
	}
	return false
}

// TokenPrincipal is the Principal of an authenticated API token.
func TokenPrincipal(u model.User, t model.Token) Principal {
	p := Principal{TokenID: t.ID.String(), TokenName: t.Name, UserID: u.ID, User: u.Name, Admin: u.Role == model.RoleAdmin}
	for _, s := range t.Scopes {
		p.Scopes = append(p.Scopes, string(s))
	}
	return p
}

// SessionPrincipal is the Principal of a logged-in UI session: it acts as
// its user with every scope the user's role gives (the pages do what the
// user may do; the core checks each call): send and read, and admin for an
// admin. session is the session's stored hash (not its secret).
func SessionPrincipal(u model.User, session []byte) Principal {
	p := Principal{Session: hex.EncodeToString(session[:min(len(session), 8)]), UserID: u.ID, User: u.Name,
		Admin: u.Role == model.RoleAdmin, Scopes: []string{ScopeSend, ScopeRead}}
	if p.Admin {
		p.Scopes = append(p.Scopes, ScopeAdmin)
	}
	return p
}

// LimitKey is the key of the principal's rate-limit bucket: its token, or
// its session.
func (p Principal) LimitKey() string {
	if p.TokenID != "" {
		return "token:" + p.TokenID
	}
	return "session:" + p.Session
}

// Actor is the principal as the core's administration calls (and their
// audit log entries) take it.
func (p Principal) Actor() gateway.Actor { return gateway.Actor{UserID: p.UserID} }

// Authenticator checks a presented token secret (the core does).
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (model.User, model.Token, error)
}

const principalKey = "gsmgate.principal"

// SetPrincipal records who the request acts for.
func SetPrincipal(c *gin.Context, p Principal) { c.Set(principalKey, p) }

// PrincipalFrom is who the request acts for (zero before authentication).
func PrincipalFrom(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

// Limiters holds one token bucket per key (a token's id). Tokens are few
// (made by admins), so the map is bounded by the token table.
type Limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

// NewLimiters gives each key perSecond requests a second, burst at once.
func NewLimiters(perSecond float64, burst int) *Limiters {
	return &Limiters{every: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// Allow takes one request from the key's bucket, or says how long until
// one is available.
func (l *Limiters) Allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Second, false
	}
	if d := r.DelayFrom(now); d > 0 {
		// Refused requests do not consume the budget.
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}
