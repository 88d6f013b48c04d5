package session

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Token is the session ID a client must present from now on, as reported
// by [Manager.Commit] for callers that send it themselves.
type Token struct {
	// Value is the session ID, or "" when the session was destroyed or
	// the request never loaded it: Commit vouches only for an ID the
	// store confirmed or the manager issued, never for the client's
	// unchecked one.
	Value string
	// Expiry is when the session ends if it is not used (zero when
	// destroyed).
	Expiry time.Time
	// Persist reports whether a cookie for it should outlive the browser
	// session (CookieOptions.Persist, Session.RememberMe).
	Persist bool
	// Changed reports whether the client does not hold this token yet (a
	// new session, Renew, Destroy, RememberMe, a pushed expiry of a
	// persistent cookie): only then must it be sent.
	Changed bool
}

// issue sends the session ID to the client, as a cookie or a header.
func (st *requestState) issue(id string, expiry time.Time, persist bool) {
	if st.headersSent() {
		return
	}
	st.out = Token{Value: id, Expiry: expiry, Persist: persist, Changed: true}
	if st.w != nil {
		st.m.WriteToken(st.w.Header(), st.out)
	}
}

// revoke tells the client that its session ID is dead.
func (st *requestState) revoke() {
	st.issue("", time.Time{}, false)
}

// WriteToken sets tok on a response's headers the way [Manager.Handler]
// does: this manager's own Set-Cookie line (replacing one set earlier and
// keeping every other cookie), or the TokenHeader when the manager uses
// one, with Vary and Cache-Control so that shared caches never store it.
// A token with an empty Value expires the cookie (or sends an empty
// header).
func (m *Manager) WriteToken(h http.Header, tok Token) {
	if err := m.init(); err != nil {
		return
	}
	if m.TokenHeader != "" {
		h.Set(m.tokenResponseHeader(), tok.Value)
		guardTokenCaches(h, m.TokenHeader)
		return
	}
	if tok.Value == "" {
		setCookieLine(h, m.expiredCookie())
		return
	}
	setCookieLine(h, m.cookie(tok.Value, tok.Expiry, tok.Persist))
}

// tokenResponseHeader is the response header that carries a new token.
func (m *Manager) tokenResponseHeader() string {
	if m.TokenResponseHeader != "" {
		return m.TokenResponseHeader
	}
	if strings.EqualFold(m.TokenHeader, "Authorization") {
		return "Session-Token"
	}
	return m.TokenHeader
}

// guardTokenCaches keeps shared caches from storing a response that
// carries a session token in a header.
func guardTokenCaches(h http.Header, vary string) {
	if !headerHasToken(h, "Vary", vary) && !headerHasToken(h, "Vary", "*") {
		h.Add("Vary", vary)
	}
	if !headerHasToken(h, "Cache-Control", "no-store") {
		if cc := strings.TrimSpace(h.Get("Cache-Control")); cc != "" {
			h.Set("Cache-Control", cc+", no-store")
		} else {
			h.Set("Cache-Control", "no-store")
		}
	}
}

// TokenFrom returns the session ID that r carries, decoded: its cookie, or
// with TokenHeader its header ("Authorization: Bearer <id>" when
// TokenHeader is "Authorization"). It returns "" when there is none, or
// several, or it is malformed.
func (m *Manager) TokenFrom(r *http.Request) string {
	if err := m.init(); err != nil {
		return ""
	}
	id, _ := m.requestID(r)
	return id
}

// requestID returns the session ID of r and whether r carried a malformed
// one.
func (m *Manager) requestID(r *http.Request) (id string, bad bool) {
	if m.TokenHeader == "" {
		return m.cookieID(r)
	}
	vals := r.Header.Values(m.TokenHeader)
	switch {
	case len(vals) == 0:
		return "", false
	case len(vals) > 1:
		return "", true
	}
	v := strings.TrimSpace(vals[0])
	if strings.EqualFold(m.TokenHeader, "Authorization") {
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", true
		}
		v = strings.TrimSpace(tok)
	}
	return m.parseID(v)
}

// Attach returns a context that carries a session of this manager for the
// ID a client sent ("" for none; see [Manager.TokenFrom]). It is the way in
// where Handler cannot wrap the handler: frameworks with their own
// middleware shape, tests, jobs. [Manager.Load] then works on the returned
// context and [Manager.Commit] saves, with the same guarantees as the
// middleware (lazy loading, compare-and-set, replays, Renew). An ID that is
// malformed is treated as none.
func (m *Manager) Attach(ctx context.Context, id string) (context.Context, error) {
	if err := m.init(); err != nil {
		return ctx, err
	}
	st := &requestState{m: m}
	st.cookieID, st.cookieBad = m.parseID(id)
	return context.WithValue(ctx, ctxKey{m}, st), nil
}

// Commit saves the changes of the session in ctx (from [Manager.Attach])
// and returns the token the client must present from now on; send it when
// Token.Changed is set, with [Manager.WriteToken] or your framework's own
// call. Changes made after Commit are saved by a later Commit. A context
// from [Manager.Handler] is committed by the handler itself; Commit there
// saves early and leaves the headers to it.
func (m *Manager) Commit(ctx context.Context) (Token, error) {
	st, ok := ctx.Value(ctxKey{m}).(*requestState)
	if !ok {
		return Token{}, ErrNoSession
	}
	if err := st.commit(ctx); err != nil {
		return Token{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	tok := st.out
	st.out.Changed = false
	if s := st.sess; s != nil && !tok.Changed {
		s.mu.Lock()
		if !s.isNew && !s.destroyed {
			tok = Token{Value: s.id, Expiry: s.base.Expiry, Persist: s.persist()}
		}
		s.mu.Unlock()
	}
	return tok, nil
}

// CommitResponse commits the session in ctx (from [Manager.Attach]) and,
// when the client must get a new token, writes it on w's headers. Call it
// just before the response headers are sent: from then on, as under
// [Manager.Handler], a change that needs a new token (Renew, RememberMe,
// the first change of a new session) is refused with ErrHeadersWritten,
// and other changes are saved by a later Commit.
func (m *Manager) CommitResponse(ctx context.Context, w http.ResponseWriter) error {
	tok, err := m.Commit(ctx)
	if err != nil {
		return fmt.Errorf("session: commit: %w", err)
	}
	if tok.Changed {
		m.WriteToken(w.Header(), tok)
	}
	m.HeadersWritten(ctx)
	return nil
}

// HeadersWritten tells the manager that the response of the request in
// ctx (from [Manager.Attach]) has started, so that changes needing a new
// token are refused with ErrHeadersWritten instead of being saved with a
// token nobody can send. CommitResponse calls it.
func (m *Manager) HeadersWritten(ctx context.Context) {
	if st, ok := ctx.Value(ctxKey{m}).(*requestState); ok {
		st.sent.Store(true)
	}
}
