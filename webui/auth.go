package webui

import (
	"crypto/subtle"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
	"golang.org/x/time/rate"
)

// The scopes an API token can carry. admin implies the other two.
const (
	ScopeSend  = "send"
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// Principal is who a request acts for, as its token says.
type Principal struct {
	TokenID   string
	TokenName string
	// UserID and User are the user the token belongs to: it sends as that
	// user and reads what that user may see. Tokens of admin users read
	// everything.
	UserID model.ID
	User   string
	// Admin is true when the token's user has the admin role.
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

const principalKey = "gsmgate.principal"

func principal(c *gin.Context) Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(Principal)
	return pr
}

// bearerAuth authenticates "Authorization: Bearer <token>" and rate-limits
// per token before any handler runs.
func (s *Server) bearerAuth(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="gsmgate"`)
		s.fail(c, ErrUnauthorized.With(nil, "send the API token as \"Authorization: Bearer <token>\""))
		return
	}
	s.authenticate(c, strings.TrimSpace(secret), "", `Bearer realm="gsmgate"`)
}

func (s *Server) authenticate(c *gin.Context, secret, wantName, challenge string) {
	u, t, err := s.auth.Authenticate(c.Request.Context(), secret)
	p := principalOf(u, t)
	if err == nil && wantName != "" && subtle.ConstantTimeCompare([]byte(p.TokenName), []byte(wantName)) != 1 {
		err = ErrUnauthorized
	}
	if err != nil {
		c.Header("WWW-Authenticate", challenge)
		s.fail(c, ErrUnauthorized.With(nil, "the token is unknown, revoked or expired"))
		return
	}
	if d, ok := s.limits.allow(p.TokenID, s.now()); !ok {
		c.Header("Retry-After", retryAfter(d.Seconds()))
		s.fail(c, ErrRateLimited.With(map[string]float64{"retry_after_seconds": d.Seconds()},
			"too many requests for this token; retry in %s s", retryAfter(d.Seconds())))
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// require answers 403 unless the principal carries scope.
func (s *Server) require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Has(scope) {
			s.fail(c, ErrForbidden.With(map[string]string{"required_scope": scope},
				"this route needs a token with the %q scope", scope))
			return
		}
		c.Next()
	}
}

// limiters holds one token bucket per token. Tokens are few (made by
// admins), so the map is bounded by the token table.
type limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLimiters(perSecond float64, burst int) *limiters {
	return &limiters{every: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one request from the token's bucket, or says how long until
// one is available.
func (l *limiters) allow(token string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	lim, ok := l.m[token]
	if !ok {
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[token] = lim
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
