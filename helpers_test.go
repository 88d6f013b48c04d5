package session_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// countingStore wraps a memstore and counts calls per method, recording
// every key the manager asked for.
type countingStore struct {
	*memstore.Store
	mu      sync.Mutex
	calls   map[string]int
	keys    []string
	failing atomic.Bool
}

var errInjected = errors.New("injected store failure")

func newCounting(clock func() time.Time) *countingStore {
	return &countingStore{Store: memstore.NewWithClock(clock), calls: map[string]int{}}
}

func (c *countingStore) count(method, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[method]++
	c.keys = append(c.keys, key)
	if c.failing.Load() {
		return errInjected
	}
	return nil
}

func (c *countingStore) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
	c.keys = nil
}

func (c *countingStore) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *countingStore) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

func (c *countingStore) Load(ctx context.Context, key string) (session.Record, error) {
	if err := c.count("Load", key); err != nil {
		return session.Record{}, err
	}
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := c.count("Save", key); err != nil {
		return 0, err
	}
	return c.Store.Save(ctx, key, rec)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	if err := c.count("Delete", key); err != nil {
		return err
	}
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) Touch(ctx context.Context, key string, exp time.Time) error {
	if err := c.count("Touch", key); err != nil {
		return err
	}
	return c.Store.Touch(ctx, key, exp)
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is a manager on a counting memstore with a test clock.
type fixture struct {
	t     testing.TB
	logs  *syncBuffer
	clock *clock
	store *countingStore
	m     *session.Manager
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	c := newClock()
	st := newCounting(c.Now)
	m := session.New(st)
	m.Now = c.Now
	logs := &syncBuffer{}
	m.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return &fixture{t: t, logs: logs, clock: c, store: st, m: m}
}

// serve runs one request through the manager's middleware with the given
// cookie value ("" for none) and returns the recorder.
func (f *fixture) serve(h http.HandlerFunc, cookie string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: f.m.Cookie.Name, Value: cookie})
	}
	rec := httptest.NewRecorder()
	f.m.Handler(h).ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the session cookie a response set, or nil.
func (f *fixture) sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == f.m.Cookie.Name {
			return c
		}
	}
	return nil
}

// newSession creates a session holding key=value and returns its ID.
func (f *fixture) newSession(key string, value any) string {
	f.t.Helper()
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.m.Load(r.Context())
		if err != nil {
			f.t.Fatal(err)
		}
		s.Set(key, value)
	}, "")
	c := f.sessionCookie(rec)
	if c == nil {
		f.t.Fatalf("no session cookie set; status %d", rec.Code)
	}
	id, err := url.PathUnescape(c.Value) // PHP-style encoding of ',' as %2C
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// value reads key in the session with the given ID, in a request of its own.
func (f *fixture) value(id, key string) any {
	f.t.Helper()
	var v any
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.m.Load(r.Context())
		if err != nil {
			f.t.Fatal(err)
		}
		v = s.Get(key)
	}, id)
	return v
}

func load(t *testing.T, m *session.Manager, r *http.Request) *session.Session {
	t.Helper()
	s, err := m.Load(r.Context())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func newTextLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
