package session

import (
	"net/http"
	"time"
)

// CookieOptions configures the session cookie. The defaults of [New] are
// secure: HttpOnly, Secure, SameSite=Lax, Path=/.
type CookieOptions struct {
	// Name is the cookie name (default "session"; "PHPSESSID" in the
	// Phalcon preset).
	Name string
	// Path is the cookie path (default "/").
	Path string
	// Domain is the cookie domain (default: host-only).
	Domain string
	// Secure sends the cookie over HTTPS only (default true).
	Secure bool
	// HTTPOnly hides the cookie from scripts (default true).
	HTTPOnly bool
	// SameSite is the SameSite attribute (default http.SameSiteLaxMode).
	SameSite http.SameSite
	// Partitioned sets the CHIPS Partitioned attribute.
	Partitioned bool
	// Persist makes the cookie outlive the browser session: it carries an
	// expiry equal to the session's. When false the cookie is a browser
	// session cookie. [Session.RememberMe] overrides it per session.
	Persist bool
}

func (m *Manager) cookie(id string, expiry time.Time, persist bool) *http.Cookie {
	c := &http.Cookie{
		Name:        m.Cookie.Name,
		Value:       id,
		Path:        m.Cookie.Path,
		Domain:      m.Cookie.Domain,
		Secure:      m.Cookie.Secure,
		HttpOnly:    m.Cookie.HTTPOnly,
		SameSite:    m.Cookie.SameSite,
		Partitioned: m.Cookie.Partitioned,
	}
	if persist {
		c.Expires = expiry.UTC()
		c.MaxAge = int(time.Until(expiry).Round(time.Second) / time.Second)
		if c.MaxAge <= 0 {
			c.MaxAge = -1
		}
	}
	return c
}

func (m *Manager) expiredCookie() *http.Cookie {
	c := m.cookie("", time.Time{}, false)
	c.MaxAge = -1
	c.Expires = time.Unix(1, 0)
	return c
}

// cookieID returns the session ID of the request's cookie, or "" when there
// is none, there are several, or it is malformed.
func (m *Manager) cookieID(r *http.Request) (id string, bad bool) {
	n := 0
	for _, c := range r.CookiesNamed(m.Cookie.Name) {
		n++
		id = c.Value
	}
	switch {
	case n == 0:
		return "", false
	case n > 1:
		return "", true
	case !m.ids.valid(id):
		return "", true
	}
	return id, false
}
