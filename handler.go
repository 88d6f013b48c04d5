package session

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
)

// ctxKey finds a manager's request state in a request context.
type ctxKey struct{ m *Manager }

// requestState is the manager's per-request bookkeeping.
type requestState struct {
	m *Manager
	r *http.Request
	w *responseWriter

	cookieID  string // the request's valid session ID (cookie or header), or ""
	cookieBad bool   // a session cookie was present but malformed

	mu   sync.Mutex // serialises Load and commits
	sess *Session   // nil until Load
	sent atomic.Bool
	out  Token // the token sent (or to send) to the client
}

func (st *requestState) headersSent() bool { return st.sent.Load() }

// Handler wraps next so that it can use sessions through [Manager.Load].
//
// The session is saved, and its cookie set, just before the response
// headers go out: on WriteHeader, the first Write, Flush, or when next
// returns without writing. A save that fails then is answered by the
// ErrorHandler instead of next's response. Changes made after the headers
// went out are saved when next returns; a failure then can only be logged.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.init(); err != nil {
			if m.Logger != nil {
				m.Logger.Error("session: manager misconfigured", "err", err)
			}
			defaultErrorHandler(w, r, err)
			return
		}
		st := &requestState{m: m}
		st.cookieID, st.cookieBad = m.requestID(r)
		rw := &responseWriter{ResponseWriter: w, st: st}
		st.w = rw
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{m}, st))
		st.r = r
		next.ServeHTTP(rw, r)
		switch {
		case rw.failed:
		case !rw.wroteHeader && !rw.hijacked:
			rw.before()
		default:
			if err := st.commit(r.Context()); err != nil {
				m.Logger.Error("session: saving changes made after the response started failed", "err", err, "path", r.URL.Path)
			}
		}
	})
}
