// Package flowtest is the behaviour suite every framework example of this
// module passes: the same login, counter, logout and flash flows, with the
// same guarantees as the manager's own middleware (lazy loading, no lost
// updates, Renew's grace period, saves before the headers, a failed save
// answered by the manager's ErrorHandler).
//
// An application under test serves these routes:
//
//	GET  /health  "ok", without touching the session
//	GET  /        "hello <user>" ("guest" when logged out), then " | <flash>" once when a flash message is set
//	POST /login   form value user: Renew, SetOwner(user), Set("user", user); "welcome <user>"
//	GET  /count   "count <n>"
//	POST /count   Update("count", n+1); "count <n+1>"
//	POST /logout  Destroy, then Set("flash", "You have been logged out."); "bye"
//	POST /late    writes "started", then Update("count", n+1) after the response started
//	POST /big     Set("big", a value over the manager's MaxSize); "stored"
package flowtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// MaxSize is the MaxSize of the managers the suite builds; POST /big must
// store more than this.
const MaxSize = 64 << 10

// LogoutFlash is the flash message POST /logout sets.
const LogoutFlash = "You have been logged out."

// Env is one application under test with its manager.
type Env struct {
	// Manager is the application's manager, on a memory store.
	Manager *session.Manager
	// Clock is the clock of the manager and its store.
	Clock *Clock
	// Calls counts the manager's store calls.
	Calls *Calls
	// Server serves the application over TLS.
	Server *httptest.Server
	// Client sends requests to Server.
	*Client
}

// NewManager returns a manager on a memory store, both on clock, with
// calls counting its store calls.
func NewManager(clock *Clock, calls *Calls) *session.Manager {
	m := session.New(memstore.NewWithClock(clock.Now))
	m.Now = clock.Now
	m.MaxSize = MaxSize
	m.Observer = calls
	return m
}

// Start builds the application with newApp on a fresh manager and serves
// it over TLS (the cookie is Secure) until the test ends.
func Start(t *testing.T, newApp func(m *session.Manager) http.Handler) *Env {
	t.Helper()
	clock := NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	calls := &Calls{}
	m := NewManager(clock, calls)
	srv := httptest.NewTLSServer(newApp(m))
	t.Cleanup(srv.Close)
	return &Env{Manager: m, Clock: clock, Calls: calls, Server: srv, Client: NewClient(t, srv)}
}

// Run runs every flow of the suite against applications built by newApp.
func Run(t *testing.T, newApp func(m *session.Manager) http.Handler) {
	t.Run("Counter", func(t *testing.T) { testCounter(t, Start(t, newApp)) })
	t.Run("StoreCalls", func(t *testing.T) { testStoreCalls(t, Start(t, newApp)) })
	t.Run("LoginRenews", func(t *testing.T) { testLoginRenews(t, Start(t, newApp)) })
	t.Run("LogoutAndFlash", func(t *testing.T) { testLogoutAndFlash(t, Start(t, newApp)) })
	t.Run("ConcurrentIncrements", func(t *testing.T) { testConcurrentIncrements(t, Start(t, newApp)) })
	t.Run("ChangeAfterResponseStarted", func(t *testing.T) { testChangeAfterResponseStarted(t, Start(t, newApp)) })
	t.Run("SaveFailure", func(t *testing.T) { testSaveFailure(t, Start(t, newApp)) })
}

// Expect fails the test unless res has the status and body.
func Expect(t *testing.T, what string, res Response, status int, body string) {
	t.Helper()
	if res.Status != status || res.Body != body {
		t.Fatalf("%s: got %d %q, want %d %q", what, res.Status, res.Body, status, body)
	}
}

// NewSession makes a session with count n through POST /count and
// returns its ID.
func (e *Env) NewSession(t *testing.T, n int) string {
	t.Helper()
	res := e.Do(http.MethodPost, "/count", "", nil)
	Expect(t, "first POST /count", res, http.StatusOK, "count 1")
	if res.Cookie == "" {
		t.Fatal("a new session with a change got no cookie")
	}
	for i := 2; i <= n; i++ {
		Expect(t, "POST /count", e.Do(http.MethodPost, "/count", res.Cookie, nil), http.StatusOK, fmt.Sprintf("count %d", i))
	}
	return res.Cookie
}

// Login logs user in on the session id and returns the renewed ID.
func (e *Env) Login(t *testing.T, id, user string) string {
	t.Helper()
	res := e.Do(http.MethodPost, "/login", id, url.Values{"user": {user}})
	Expect(t, "POST /login", res, http.StatusOK, "welcome "+user)
	if res.Cookie == "" || res.Cookie == id || res.SetCookies != 1 {
		t.Fatalf("login: cookie %q (%d Set-Cookie lines) for session %q, want one new ID", res.Cookie, res.SetCookies, id)
	}
	return res.Cookie
}

func testCounter(t *testing.T, e *Env) {
	id := e.NewSession(t, 1)
	for i := 2; i <= 3; i++ {
		res := e.Do(http.MethodPost, "/count", id, nil)
		Expect(t, "POST /count", res, http.StatusOK, fmt.Sprintf("count %d", i))
		if res.SetCookies != 0 {
			t.Errorf("POST /count on a known session sent Set-Cookie again")
		}
	}
	Expect(t, "GET /count", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, "count 3")
	// Another client has its own session.
	Expect(t, "GET /count without a cookie", e.Do(http.MethodGet, "/count", "", nil), http.StatusOK, "count 0")
}

func testStoreCalls(t *testing.T, e *Env) {
	check := func(what string, want map[session.StoreOp]int) {
		t.Helper()
		got := e.Calls.Take()
		if Total(got) != Total(want) {
			t.Errorf("%s: store calls %v, want %v", what, got, want)
			return
		}
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: store calls %v, want %v", what, got, want)
			}
		}
	}
	res := e.Do(http.MethodPost, "/count", "", nil)
	Expect(t, "POST /count", res, http.StatusOK, "count 1")
	check("new session with a change", map[session.StoreOp]int{session.OpSave: 1})
	id := res.Cookie
	Expect(t, "GET /health", e.Do(http.MethodGet, "/health", id, nil), http.StatusOK, "ok")
	check("request that never loads the session", nil)
	Expect(t, "GET /count", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, "count 1")
	check("read-only request", map[session.StoreOp]int{session.OpLoad: 1})
	Expect(t, "POST /count", e.Do(http.MethodPost, "/count", id, nil), http.StatusOK, "count 2")
	check("write", map[session.StoreOp]int{session.OpLoad: 1, session.OpSave: 1})
	res = e.Do(http.MethodGet, "/count", "", nil)
	Expect(t, "GET /count without a cookie", res, http.StatusOK, "count 0")
	check("new session left unchanged", nil)
	if res.SetCookies != 0 {
		t.Error("a new session left unchanged was sent a cookie")
	}
}

func testLoginRenews(t *testing.T, e *Env) {
	anon := e.NewSession(t, 2)
	user := e.Login(t, anon, "alice")

	Expect(t, "GET / after login", e.Do(http.MethodGet, "/", user, nil), http.StatusOK, "hello alice")
	Expect(t, "GET /count after login", e.Do(http.MethodGet, "/count", user, nil), http.StatusOK, "count 2")

	// The old ID is in its grace period: readable, with the data as it
	// was before the login (never the login itself).
	Expect(t, "GET / with the pre-login ID", e.Do(http.MethodGet, "/", anon, nil), http.StatusOK, "hello guest")
	Expect(t, "GET /count with the pre-login ID", e.Do(http.MethodGet, "/count", anon, nil), http.StatusOK, "count 2")
	// A write through it in the grace period goes to the renewed session.
	Expect(t, "POST /count with the pre-login ID", e.Do(http.MethodPost, "/count", anon, nil), http.StatusOK, "count 3")
	Expect(t, "GET /count after a write through the old ID", e.Do(http.MethodGet, "/count", user, nil), http.StatusOK, "count 3")

	e.Clock.Advance(e.Manager.RenewGrace + time.Second)
	Expect(t, "GET /count with the pre-login ID after the grace", e.Do(http.MethodGet, "/count", anon, nil), http.StatusOK, "count 0")
	Expect(t, "GET / with the renewed ID after the grace", e.Do(http.MethodGet, "/", user, nil), http.StatusOK, "hello alice")
}

func testLogoutAndFlash(t *testing.T, e *Env) {
	user := e.Login(t, e.NewSession(t, 1), "bob")
	res := e.Do(http.MethodPost, "/logout", user, nil)
	Expect(t, "POST /logout", res, http.StatusOK, "bye")
	// Destroy then Set: one Set-Cookie line, for a fresh session that
	// holds the flash message.
	if res.Cookie == "" || res.Cookie == user || res.SetCookies != 1 {
		t.Fatalf("logout: cookie %q (%d lines, expired %v), want one new ID for the flash", res.Cookie, res.SetCookies, res.Expired)
	}
	flash := res.Cookie
	Expect(t, "GET / with the logged-out ID", e.Do(http.MethodGet, "/", user, nil), http.StatusOK, "hello guest")
	Expect(t, "GET /count with the logged-out ID", e.Do(http.MethodGet, "/count", user, nil), http.StatusOK, "count 0")
	Expect(t, "GET / after logout", e.Do(http.MethodGet, "/", flash, nil), http.StatusOK, "hello guest | "+LogoutFlash)
	Expect(t, "GET / again", e.Do(http.MethodGet, "/", flash, nil), http.StatusOK, "hello guest")
}

func testConcurrentIncrements(t *testing.T, e *Env) {
	const n = 20
	id := e.NewSession(t, 1)
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]Response, n)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = e.Do(http.MethodPost, "/count", id, nil)
		})
	}
	close(start)
	wg.Wait()
	seen := map[string]bool{}
	for i, res := range results {
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Body, "count ") {
			t.Fatalf("request %d: %d %q", i, res.Status, res.Body)
		}
		seen[res.Body] = true
	}
	Expect(t, "GET /count after the concurrent increments", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, fmt.Sprintf("count %d", n+1))
	t.Logf("%d distinct counts seen by %d concurrent requests", len(seen), n)
}

func testChangeAfterResponseStarted(t *testing.T, e *Env) {
	id := e.NewSession(t, 1)
	Expect(t, "POST /late", e.Do(http.MethodPost, "/late", id, nil), http.StatusOK, "started")
	Expect(t, "GET /count after POST /late", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, "count 2")
}

func testSaveFailure(t *testing.T, e *Env) {
	id := e.NewSession(t, 1)
	res := e.Do(http.MethodPost, "/big", id, nil)
	if res.Status != http.StatusInternalServerError || strings.Contains(res.Body, "stored") || res.SetCookies != 0 {
		t.Fatalf("POST /big over MaxSize: %d %q with %d Set-Cookie lines, want the ErrorHandler's 500 and no cookie", res.Status, res.Body, res.SetCookies)
	}
	Expect(t, "GET /count after the failed save", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, "count 1")

	res = e.Do(http.MethodPost, "/big", "", nil)
	if res.Status != http.StatusInternalServerError || res.SetCookies != 0 {
		t.Fatalf("POST /big on a new session: %d with %d Set-Cookie lines, want 500 and no cookie", res.Status, res.SetCookies)
	}
}
