package api

import (
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// bearerAuth authenticates "Authorization: Bearer <token>" and rate-limits
// per token before any handler runs.
func (s *Server) bearerAuth(c *gin.Context) {
	scheme, secret, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		c.Header("WWW-Authenticate", `Bearer realm="gsmgate"`)
		s.sh.Fail(c, httpkit.ErrUnauthorized.With(nil, "send the API token as \"Authorization: Bearer <token>\""))
		return
	}
	u, t, err := s.sh.Auth.Authenticate(c.Request.Context(), secret)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="gsmgate"`)
		s.sh.Fail(c, httpkit.ErrUnauthorized.With(nil, "the token is unknown, revoked or expired"))
		return
	}
	p := httpkit.TokenPrincipal(u, t)
	if d, ok := s.sh.Limits.Allow(p.LimitKey(), s.sh.Now()); !ok {
		c.Header("Retry-After", httpkit.RetryAfter(d.Seconds()))
		s.sh.Fail(c, httpkit.ErrRateLimited.With(map[string]float64{"retry_after_seconds": d.Seconds()},
			"too many requests for this token; retry in %s s", httpkit.RetryAfter(d.Seconds())))
		return
	}
	httpkit.SetPrincipal(c, p)
	c.Next()
}

// require answers 403 unless the principal carries scope. For the admin
// scope the token's user must also be an enabled admin now: a token keeps
// the scopes it was made with when its user is demoted.
func (s *Server) require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := httpkit.PrincipalFrom(c)
		if !p.Has(scope) {
			s.sh.Fail(c, httpkit.ErrForbidden.With(map[string]string{"required_scope": scope},
				"this route needs a token with the %q scope", scope))
			return
		}
		if scope == httpkit.ScopeAdmin {
			if err := s.admin.RequireAdmin(c.Request.Context(), p.UserID); err != nil {
				s.sh.Fail(c, httpkit.ErrForbidden.With(map[string]string{"required_role": "admin"},
					"this token's user is no longer an admin"))
				return
			}
		}
		c.Next()
	}
}
