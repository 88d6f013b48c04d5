package session

import (
	"net/http"
	"strings"
	"time"
)

// CookieOptions configures the session cookie. The zero value is secure:
// Secure, HttpOnly, SameSite=Lax, Path=/, host-only. Each weaker choice is an
// opt-out named for what it gives up.
type CookieOptions struct {
	// Name is the cookie name (default "session"; "PHPSESSID" in the
	// Phalcon preset).
	Name string
	// Path is the cookie path (default "/").
	Path string
	// Domain is the cookie domain (default: host-only).
	Domain string
	// Insecure omits the Secure attribute, so that the cookie also travels
	// over plain HTTP (development on http://localhost). Leave it false in
	// production.
	Insecure bool
	// ScriptAccessible omits the HttpOnly attribute, so that JavaScript on
	// the page can read the session ID. Leave it false unless a script
	// really needs the ID.
	ScriptAccessible bool
	// SameSite is the SameSite attribute. The zero value means
	// http.SameSiteLaxMode; http.SameSiteDefaultMode omits the attribute.
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
		Value:       encodeCookieValue(id),
		Path:        m.Cookie.Path,
		Domain:      m.Cookie.Domain,
		Secure:      !m.Cookie.Insecure,
		HttpOnly:    !m.Cookie.ScriptAccessible,
		SameSite:    m.Cookie.SameSite,
		Partitioned: m.Cookie.Partitioned,
	}
	switch c.SameSite {
	case 0:
		c.SameSite = http.SameSiteLaxMode
	case http.SameSiteDefaultMode:
		c.SameSite = 0
	}
	if persist {
		c.Expires = expiry.UTC()
		c.MaxAge = int(expiry.Sub(m.Now()).Round(time.Second) / time.Second)
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
	}
	return m.parseID(id)
}

// parseID decodes and validates an ID received from a client.
func (m *Manager) parseID(raw string) (id string, bad bool) {
	if raw == "" {
		return "", false
	}
	id, ok := decodeCookieValue(raw)
	if !ok || !m.ids.valid(id) {
		return "", true
	}
	return id, false
}

// cookieSafe reports whether b travels in a cookie value as it is: the
// bytes PHP's setcookie leaves alone when it URL-encodes the session ID.
func cookieSafe(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_' || b == '.'
}

// encodeCookieValue URL-encodes id the way PHP writes its session cookie,
// so that an ID with a comma (PHP's 6-bit alphabet) is sent as %2C rather
// than quoted, and PHP reads back the ID it would have written.
func encodeCookieValue(id string) string {
	i := 0
	for i < len(id) && cookieSafe(id[i]) {
		i++
	}
	if i == len(id) {
		return id
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(id) + 8)
	b.WriteString(id[:i])
	for ; i < len(id); i++ {
		if c := id[i]; cookieSafe(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// decodeCookieValue reverses encodeCookieValue. It accepts what browsers
// and PHP send: the encoded form, the raw form, and (net/http having
// removed the quotes) a quoted raw form. A malformed escape is refused.
func decodeCookieValue(v string) (string, bool) {
	if strings.IndexByte(v, '%') < 0 {
		return v, true
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			out = append(out, v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", false
		}
		hi, ok1 := unhex(v[i+1])
		lo, ok2 := unhex(v[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return string(out), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// setCookieLine replaces this manager's own Set-Cookie line in h (a cookie
// set earlier in the request), keeps every other cookie, and guards the
// response against shared caches.
func setCookieLine(h http.Header, c *http.Cookie) {
	line := c.String()
	prefix := c.Name + "="
	lines := h["Set-Cookie"]
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimLeft(l, " "), prefix) {
			kept = append(kept, l)
		}
	}
	h["Set-Cookie"] = append(kept, line)
	guardCaches(h, "Cookie")
}

// guardCaches adds vary to the Vary header and forbids shared caches from
// storing the response's Set-Cookie, merged with what the handler set.
func guardCaches(h http.Header, vary string) {
	if !headerHasToken(h, "Vary", vary) && !headerHasToken(h, "Vary", "*") {
		h.Add("Vary", vary)
	}
	cc := h.Get("Cache-Control")
	lower := strings.ToLower(cc)
	if strings.Contains(lower, "no-store") || strings.Contains(lower, "private") || strings.Contains(lower, `no-cache="set-cookie"`) {
		return
	}
	guard := `no-cache="Set-Cookie"`
	if strings.TrimSpace(cc) == "" {
		h.Set("Cache-Control", guard)
		return
	}
	h.Set("Cache-Control", cc+", "+guard)
}

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
