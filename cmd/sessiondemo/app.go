package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// config is what the demo's flags choose.
type config struct {
	// Secure sets the Secure attribute on the session cookie.
	Secure bool
	// Logger receives the demo's and the manager's log lines.
	Logger *slog.Logger
	// MaxSessions, when positive, is the limit of sessions per user
	// (Manager.MaxSessionsPerOwner), on stores that keep owners.
	MaxSessions int
}

// app is the demo web application: a session manager over one store and
// the handlers of its pages.
type app struct {
	m      *session.Manager
	target *storeurl.Target
	log    *slog.Logger
}

// newApp builds the application on an opened store.
func newApp(t *storeurl.Target, cfg config) *app {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := session.New(t.Store)
	m.Logger = cfg.Logger
	m.Cookie.Insecure = !cfg.Secure
	if t.Codec != nil {
		m.Codec = t.Codec
	}
	if t.RawIDs {
		// PHP-style IDs that fit the VARCHAR(35) session_id column of Phalcon's incubator Database adapter:
		// 32 characters of 6 bits, 192 bits.
		m.RawIDs = true
		m.IDAlphabet = session.AlphabetPHP
		m.IDLength = 32
	}
	if t.MaxLifetime > 0 {
		// The compatibility layouts keep no expiry: a PHP application
		// expires a record MaxLifetime after its modification time, and
		// the store writes the modification time that gives the expiry.
		// With an idle timeout of MaxLifetime that is the time of the
		// save, as PHP itself would write it, not a time in the future.
		m.IdleTimeout = t.MaxLifetime
	}
	if _, ok := t.Store.(session.OwnerIndex); ok && cfg.MaxSessions > 0 && !t.NoOwners {
		m.MaxSessionsPerOwner = cfg.MaxSessions
	}
	return &app{m: m, target: t, log: cfg.Logger}
}

// handler returns the application's routes wrapped by the session manager.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /devices", a.devices)
	mux.HandleFunc("POST /logout-others", a.logoutOthers)
	mux.HandleFunc("GET /record", a.record)
	// Browsers ask for /favicon.ico on their own; answer without touching
	// the session so that the page counter never counts it.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "max-age=86400")
		w.Write([]byte(favicon))
	})
	return securityHeaders(a.m.Handler(mux))
}

// favicon is the demo's icon: a cookie.
const favicon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#c8893b"/><circle cx="5" cy="6" r="1.2" fill="#5a3510"/><circle cx="10" cy="5" r="1" fill="#5a3510"/><circle cx="9" cy="10" r="1.3" fill="#5a3510"/></svg>`

// securityHeaders adds headers that every page of the demo wants.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// session loads the request's session or answers 503.
func (a *app) session(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, err := a.m.Load(r.Context())
	if err != nil {
		a.fail(w, r, "load session", err)
		return nil, false
	}
	return s, true
}

// fail logs err and answers 500, or 503 when the store is unreachable.
func (a *app) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.log.Error("sessiondemo: "+what, "err", err, "path", r.URL.Path)
	code := http.StatusInternalServerError
	if errors.Is(err, context.DeadlineExceeded) {
		code = http.StatusServiceUnavailable
	}
	http.Error(w, fmt.Sprintf("%s: %v", what, err), code)
}

// collect removes expired sessions in the background until ctx ends, the
// way the README tells applications to: Manager.Cleanup, which does nothing
// for stores whose server expires records by itself.
func (a *app) collect(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	if err := a.m.Cleanup(ctx, every); err != nil {
		a.log.Error("sessiondemo: background GC", "err", err)
	}
}
