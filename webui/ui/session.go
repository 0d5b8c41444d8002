package ui

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
	"golang.org/x/time/rate"
)

// CookieName is the session cookie. It holds only a random secret; the
// session itself (user, expiry, CSRF token) is in the database.
const CookieName = "gsmgate_session"

// csrfField is the form field (and csrfHeader the header, for the
// script's fetches) carrying the session's CSRF token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// viewer is the logged-in user of a request.
type viewer struct {
	User    model.User
	Session model.Session
	secret  string
}

func (v *viewer) admin() bool { return v.User.Role == "admin" }

// IsAdmin is admin for the templates (the Admin link in the bar).
func (v *viewer) IsAdmin() bool { return v.admin() }

const viewerKey = "ui.viewer"

func viewerOf(c *gin.Context) *viewer { return c.MustGet(viewerKey).(*viewer) }

// requireSession loads the session named by the cookie. Without a live
// one, a page redirects to the login page (coming back here after), and a
// script's request gets 401. State-changing requests must also carry the
// session's CSRF token.
func (h *Handler) requireSession(c *gin.Context) {
	var u model.User
	var sess model.Session
	ck, err := c.Request.Cookie(CookieName)
	if err == nil {
		u, sess, err = h.gw.SessionByToken(c.Request.Context(), ck.Value)
	}
	if err != nil {
		if ck != nil {
			h.clearCookie(c) // a cookie without a session: drop it
		}
		if c.Request.Method == http.MethodGet && !isScript(c) {
			c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		} else {
			c.String(http.StatusUnauthorized, "not logged in")
		}
		c.Abort()
		return
	}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		tok := c.Request.Header.Get(csrfHeader)
		if tok == "" {
			tok = c.Request.PostFormValue(csrfField)
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
			c.String(http.StatusForbidden, "missing or wrong form token; reload the page")
			c.Abort()
			return
		}
	}
	p := httpkit.SessionPrincipal(u, sess.Hash)
	if h.opt.Limits != nil && c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		if d, ok := h.opt.Limits.Allow(p.LimitKey(), h.opt.Now()); !ok {
			c.Header("Retry-After", httpkit.RetryAfter(d.Seconds()))
			c.String(http.StatusTooManyRequests, "too many requests from this session; try again in "+httpkit.RetryAfter(d.Seconds())+" s")
			c.Abort()
			return
		}
	}
	c.Set(viewerKey, &viewer{User: u, Session: sess, secret: ck.Value})
	httpkit.SetPrincipal(c, p)
	c.Next()
}

// isScript: the request came from the page's script (fetch), which wants
// a status, not a redirect.
func isScript(c *gin.Context) bool {
	return c.Request.Header.Get("X-Requested-With") == "fetch" || strings.HasPrefix(c.Request.URL.Path, "/ui/")
}

// secure is whether this response's cookies are marked Secure. Behind a
// TLS-terminating proxy the request comes over plain HTTP, and
// X-Forwarded-Proto is not trusted (anyone could send it): "always" is
// for that case.
func (h *Handler) secure(c *gin.Context) bool {
	switch h.opt.SecureCookies {
	case CookiesSecureAlways:
		return true
	case CookiesSecureNever:
		return false
	}
	return c.Request.TLS != nil
}

func (h *Handler) setCookie(c *gin.Context, secret string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieName, Value: secret, Path: "/", Expires: expires,
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
}

func (h *Handler) clearCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(c), SameSite: http.SameSiteLaxMode})
}

// loginLimits holds one token bucket per user name and one per client
// address, so that guessing one user's password from many addresses and
// many users' passwords from one address are both slowed.
type loginLimits struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLoginLimits(perMinute int) *loginLimits {
	return &loginLimits{every: rate.Limit(float64(perMinute) / 60), burst: perMinute, m: map[string]*rate.Limiter{}}
}

var errTooManyLogins = errors.New("too many login attempts; wait a minute and try again")

// allow takes one attempt from both buckets.
func (l *loginLimits) allow(user, addr string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) > 10000 {
		l.m = map[string]*rate.Limiter{} // bound memory under a spray of names
	}
	ok := true
	for _, key := range []string{"u:" + strings.ToLower(user), "a:" + addr} {
		lim := l.m[key]
		if lim == nil {
			lim = rate.NewLimiter(l.every, l.burst)
			l.m[key] = lim
		}
		if !lim.AllowN(now, 1) {
			ok = false
		}
	}
	if !ok {
		return errTooManyLogins
	}
	return nil
}
