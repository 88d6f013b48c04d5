package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
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

	cookieID  string // the request's valid session ID, or ""
	cookieBad bool   // a session cookie was present but malformed

	mu   sync.Mutex // serialises Load and commits
	sess *Session   // nil until Load
	sent atomic.Bool
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
		st.cookieID, st.cookieBad = m.cookieID(r)
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

// Load returns the request's session, reading it from the store on the
// first call of the request (one round trip when the request carries a
// session cookie, none otherwise). Later calls return the same Session.
//
// A missing, malformed or unknown session cookie gives a fresh, empty
// session with a new ID: an ID chosen by a client is never adopted. A record
// that cannot be decoded is logged and also gives a fresh session; the
// record itself is left untouched.
func (m *Manager) Load(ctx context.Context) (*Session, error) {
	st, ok := ctx.Value(ctxKey{m}).(*requestState)
	if !ok {
		return nil, ErrNoSession
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess != nil {
		return st.sess, nil
	}
	s, err := m.load(ctx, st)
	if err != nil {
		return nil, err
	}
	st.sess = s
	return s, nil
}

func (m *Manager) load(ctx context.Context, st *requestState) (*Session, error) {
	now := m.Now()
	s := &Session{state: st}
	if st.cookieID != "" {
		key := m.key(st.cookieID)
		rec, err := m.Store.Load(ctx, key)
		switch {
		case err == nil:
			values, derr := m.decode(key, rec.Data)
			if derr != nil {
				m.Logger.Error("session: stored data cannot be decoded; starting a fresh session", "err", derr)
				break
			}
			if rec.Created.IsZero() {
				// Written by another system (PHP's tables and documents
				// have no creation time): the lifetime counts from now.
				rec.Created = now
			} else if !now.Before(rec.Created.Add(m.Lifetime)) {
				break // past its absolute lifetime
			}
			rec.Data = nil
			s.id, s.key, s.rec, s.values = st.cookieID, key, rec, values
			return s, nil
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidKey):
			// Unknown, or an ID the store cannot even hold (longer than
			// its key column): a fresh session, never an error the
			// client could provoke.
		default:
			return nil, fmt.Errorf("session: load: %w", err)
		}
	}
	s.id = m.ids.generate()
	s.key = m.key(s.id)
	s.isNew = true
	s.values = newValues()
	s.rec.Created = now
	return s, nil
}

// responseWriter commits the session before the headers go out.
type responseWriter struct {
	http.ResponseWriter
	st          *requestState
	wroteHeader bool
	failed      bool // the ErrorHandler answered instead
	failErr     error
	hijacked    bool
}

// before commits the session before the headers are sent. It reports
// whether the response may go on.
func (w *responseWriter) before() bool {
	if w.failed {
		return false
	}
	if err := w.st.commit(w.st.r.Context()); err != nil {
		w.failed, w.failErr = true, err
		w.st.sent.Store(true)
		w.st.m.Logger.Error("session: save failed", "err", err, "path", w.st.r.URL.Path)
		w.st.m.ErrorHandler(w.ResponseWriter, w.st.r, err)
		return false
	}
	w.st.sent.Store(true)
	return true
}

// WriteHeader saves the session and sets its cookie, then sends the
// headers. Informational (1xx) headers pass straight through.
func (w *responseWriter) WriteHeader(code int) {
	if w.failed || w.hijacked {
		return
	}
	if w.wroteHeader || (code >= 100 && code < 200 && code != http.StatusSwitchingProtocols) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.before() {
		return
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

// Write sends the headers first if needed.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader && !w.failed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, fmt.Errorf("session: response replaced by the error handler: %w", w.failErr)
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController calls to flush.
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader && !w.failed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return w.failErr
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker. The session is saved first; no cookie
// can be set on a hijacked connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.wroteHeader && !w.failed {
		if err := w.st.commit(w.st.r.Context()); err != nil {
			return nil, nil, err
		}
		w.st.sent.Store(true)
	}
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
