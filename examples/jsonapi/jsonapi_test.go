package jsonapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/examples/internal/flowtest"
	"github.com/sessionkit/session/examples/jsonapi"
)

type env struct {
	t     *testing.T
	m     *session.Manager
	clock *flowtest.Clock
	calls *flowtest.Calls
	srv   *httptest.Server
}

func start(t *testing.T) *env {
	clock := flowtest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	calls := &flowtest.Calls{}
	m := flowtest.NewManager(clock, calls)
	jsonapi.Configure(m)
	srv := httptest.NewServer(jsonapi.NewHandler(m))
	t.Cleanup(srv.Close)
	return &env{t: t, m: m, clock: clock, calls: calls, srv: srv}
}

type reply struct {
	status int
	body   string
	header http.Header
}

// token returns the Session-Token the response carried, and whether it
// carried one.
func (r reply) token() (string, bool) {
	v, ok := r.header["Session-Token"]
	if !ok || len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// call sends a request with auth as its Authorization header ("" for none).
func (e *env) call(method, path, auth, body string) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Errorf("%s %s: %v", method, path, err)
		return reply{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Errorf("%s %s: %v", method, path, err)
	}
	if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
		e.t.Errorf("%s %s: the header transport sent Set-Cookie %q", method, path, sc)
	}
	return reply{status: res.StatusCode, body: strings.TrimSpace(string(b)), header: res.Header}
}

func expect(t *testing.T, what string, r reply, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("%s: %d %s, want %d %s", what, r.status, r.body, status, body)
	}
}

func bearer(tok string) string { return "Bearer " + tok }

func (e *env) login(user, auth string) string {
	e.t.Helper()
	r := e.call(http.MethodPost, "/login", auth, fmt.Sprintf(`{"user":%q}`, user))
	expect(e.t, "POST /login", r, http.StatusOK, fmt.Sprintf(`{"user":%q}`, user))
	tok, ok := r.token()
	if !ok || tok == "" {
		e.t.Fatalf("login: no Session-Token (headers %v)", r.header)
	}
	if !strings.Contains(r.header.Get("Vary"), "Authorization") || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		e.t.Errorf("login: Vary %q, Cache-Control %q; a shared cache could store the token", r.header.Get("Vary"), r.header.Get("Cache-Control"))
	}
	return tok
}

func TestLoginMeLogout(t *testing.T) {
	e := start(t)
	expect(t, "GET /me without a token", e.call(http.MethodGet, "/me", "", ""), http.StatusUnauthorized, `{"error":"not logged in"}`)
	tok := e.login("alice", "")
	r := e.call(http.MethodGet, "/me", bearer(tok), "")
	expect(t, "GET /me", r, http.StatusOK, `{"user":"alice"}`)
	if _, ok := r.token(); ok {
		t.Error("GET /me sent a token the client already holds")
	}
	r = e.call(http.MethodPost, "/logout", bearer(tok), "")
	if got, ok := r.token(); r.status != http.StatusNoContent || !ok || got != "" {
		t.Fatalf("POST /logout: %d, Session-Token %q (present %v); want 204 with an empty Session-Token", r.status, got, ok)
	}
	expect(t, "GET /me after logout", e.call(http.MethodGet, "/me", bearer(tok), ""), http.StatusUnauthorized, `{"error":"not logged in"}`)
}

func TestLoginRenewsToken(t *testing.T) {
	e := start(t)
	r := e.call(http.MethodPost, "/count", "", "")
	expect(t, "POST /count", r, http.StatusOK, `{"count":1}`)
	anon, _ := r.token()
	tok := e.login("bob", bearer(anon))
	if tok == anon {
		t.Fatal("login kept the anonymous token")
	}
	expect(t, "POST /count after login", e.call(http.MethodPost, "/count", bearer(tok), ""), http.StatusOK, `{"count":2}`)
	// The old token is in its grace period without the login, then dead.
	expect(t, "GET /me with the old token", e.call(http.MethodGet, "/me", bearer(anon), ""), http.StatusUnauthorized, `{"error":"not logged in"}`)
	e.clock.Advance(e.m.RenewGrace + time.Second)
	expect(t, "POST /count with the old token after the grace", e.call(http.MethodPost, "/count", bearer(anon), ""), http.StatusOK, `{"count":1}`)
	expect(t, "GET /me with the new token", e.call(http.MethodGet, "/me", bearer(tok), ""), http.StatusOK, `{"user":"bob"}`)
}

func TestMalformedAuthorizationIsNoSession(t *testing.T) {
	e := start(t)
	tok := e.login("carol", "")
	e.calls.Take()
	for _, auth := range []string{"Basic " + tok, "Bearer", "Bearer not-a-session-id", tok} {
		expect(t, "GET /me with "+auth, e.call(http.MethodGet, "/me", auth, ""), http.StatusUnauthorized, `{"error":"not logged in"}`)
	}
	if calls := e.calls.Take(); flowtest.Total(calls) != 0 {
		t.Errorf("malformed Authorization headers reached the store: %v", calls)
	}
}

func TestConcurrentIncrements(t *testing.T) {
	const n = 20
	e := start(t)
	r := e.call(http.MethodPost, "/count", "", "")
	tok, _ := r.token()
	var wg sync.WaitGroup
	startAll := make(chan struct{})
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			<-startAll
			statuses[i] = e.call(http.MethodPost, "/count", bearer(tok), "").status
		})
	}
	close(startAll)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	r = e.call(http.MethodPost, "/count", bearer(tok), "")
	var c jsonapi.Count
	if err := json.Unmarshal([]byte(r.body), &c); err != nil || c.Count != n+2 {
		t.Fatalf("count after %d concurrent increments: %s (%v), want %d", n, r.body, err, n+2)
	}
}

func TestLoginBadBody(t *testing.T) {
	e := start(t)
	r := e.call(http.MethodPost, "/login", "", `{"name":"x"}`)
	if _, ok := r.token(); r.status != http.StatusBadRequest || ok {
		t.Fatalf("login with a bad body: %d, token sent %v; want 400 without a token", r.status, ok)
	}
}
