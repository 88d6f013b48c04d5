package interop_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phalcon"
	"github.com/sessionkit/session/phpcodec"
)

// uniqueID is the Phalcon session manager's uniqueId option of the PHP
// application: its keys are stored as "app#<key>".
const uniqueID = "app"

// clock is the test's clock, shared by the Go manager and the Go store; the
// PHP side gets the same instants in its steps' "now".
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// goTurn is the Go service for one turn: a manager in Phalcon
// compatibility mode on a store opened for the turn.
type goTurn struct {
	t     *testing.T
	m     *session.Manager
	store session.Store
	done  func()
	// err is what the manager handed to its ErrorHandler in the last
	// request.
	err error
}

// goService opens the Go side on b at the clock's time. Configure changes
// the manager before first use (nil for none). Close the turn with
// g.done() before PHP runs again.
func goService(t *testing.T, b backend, clk *clock, configure func(m *session.Manager)) *goTurn {
	t.Helper()
	st, done := b.store(t, clk.Now)
	g := &goTurn{t: t, store: st, done: done}
	m := session.New(st)
	phalcon.Configure(m)
	m.IdleTimeout = maxLifetime // = PHP's session.gc_maxlifetime = the store's MaxLifetime
	m.Now = clk.Now
	m.Logger = slog.New(failOnError{t})
	m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		g.err = err
		http.Error(w, "session error", http.StatusInternalServerError)
	}
	if configure != nil {
		configure(m)
	}
	g.m = m
	return g
}

// request runs fn as a handler behind the manager, in a request carrying
// the PHPSESSID cookie id ("" for none). It returns the session ID of the
// response's cookie (or id when none was set) and the error that the
// manager or Load reported, if any.
func (g *goTurn) request(id string, fn func(s *session.Session, p *phalcon.Session)) (string, error) {
	g.t.Helper()
	g.err = nil
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if id != "" {
		req.AddCookie(&http.Cookie{Name: phalcon.CookieName, Value: id})
	}
	rec := httptest.NewRecorder()
	var loadErr error
	g.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := g.m.Load(r.Context())
		if err != nil {
			loadErr = err
			http.Error(w, "load failed", http.StatusInternalServerError)
			return
		}
		fn(s, phalcon.Wrap(s, uniqueID))
	})).ServeHTTP(rec, req)
	if loadErr != nil {
		return id, loadErr
	}
	if g.err != nil {
		return id, g.err
	}
	if rec.Code != http.StatusOK {
		g.t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == phalcon.CookieName {
			v, err := url.PathUnescape(c.Value) // PHP's cookie encoding: "," is "%2C"
			if err != nil {
				g.t.Fatalf("cookie value %q: %v", c.Value, err)
			}
			return v, nil
		}
	}
	return id, nil
}

// failOnError is a slog handler that fails the test on every record of
// level Error (an undecodable record, a failed save after the response
// started) and drops the rest.
type failOnError struct{ t *testing.T }

func (h failOnError) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h failOnError) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.t.Errorf("manager logged: %s", b.String())
	return nil
}

func (h failOnError) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h failOnError) WithGroup(string) slog.Handler      { return h }

// render writes a decoded PHP value in a notation of its own, independent
// of phpcodec's encoder, with the Go type of every scalar visible: strings
// quoted, int64 bare, float64 as float(...), arrays as [key => value, ...]
// in their order.
func render(v any) string {
	switch x := phpcodec.Deref(v).(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return "float(" + strconv.FormatFloat(x, 'g', -1, 64) + ")"
	case string:
		return strconv.Quote(x)
	case *phpcodec.Array:
		parts := make([]string, 0, x.Len())
		for _, e := range x.Entries() {
			k := ""
			switch key := e.Key.(type) {
			case int64:
				k = strconv.FormatInt(key, 10)
			default:
				k = strconv.Quote(fmt.Sprint(key))
			}
			parts = append(parts, k+" => "+render(e.Value))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}
