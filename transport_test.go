package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sessionkit/session"
)

// apiRequest runs one request through the manager with a bearer token
// ("" for none) and returns the response.
func apiRequest(m *session.Manager, token string, h http.HandlerFunc) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, req)
	return rec
}

// A JSON API carries the session in Authorization: Bearer, gets new tokens
// in Session-Token, and never sees a cookie.
func TestHeaderTransport(t *testing.T) {
	f := newFixture(t)
	f.m.TokenHeader = "Authorization"
	rec := apiRequest(f.m, "", func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("cart", 1) })
	tok := rec.Header().Get("Session-Token")
	if tok == "" || len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("new session: token %q, Set-Cookie %q", tok, rec.Header().Values("Set-Cookie"))
	}
	if rec.Header().Get("Vary") != "Authorization" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("cache guards: %v", rec.Header())
	}
	var cart any
	rec = apiRequest(f.m, tok, func(w http.ResponseWriter, r *http.Request) { cart = load(t, f.m, r).Get("cart") })
	if cart != 1 || rec.Header().Get("Session-Token") != "" {
		t.Fatalf("second request: cart %v, token header %q", cart, rec.Header().Get("Session-Token"))
	}
	rec = apiRequest(f.m, tok, func(w http.ResponseWriter, r *http.Request) {
		if err := load(t, f.m, r).Renew(); err != nil {
			t.Fatal(err)
		}
	})
	renewed := rec.Header().Get("Session-Token")
	if renewed == "" || renewed == tok {
		t.Fatalf("Renew: token %q", renewed)
	}
	rec = apiRequest(f.m, renewed, func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Destroy() })
	if v, ok := rec.Header()["Session-Token"]; !ok || v[0] != "" {
		t.Fatalf("Destroy: want an empty Session-Token header, got %v", rec.Header())
	}
	// A token in a cookie, or a non-Bearer scheme, is not a session.
	for _, hdr := range []string{"Basic " + renewed, renewed} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", hdr)
		var isNew bool
		f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { isNew = load(t, f.m, r).IsNew() })).ServeHTTP(httptest.NewRecorder(), req)
		if !isNew {
			t.Fatalf("Authorization %q accepted", hdr)
		}
	}
}

// A named header works both ways under its own name.
func TestNamedTokenHeader(t *testing.T) {
	f := newFixture(t)
	f.m.TokenHeader = "X-Session"
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("k", "v") }, "")
	tok := rec.Header().Get("X-Session")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Session", tok)
	var got any
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = load(t, f.m, r).Get("k") })).ServeHTTP(httptest.NewRecorder(), req)
	if tok == "" || got != "v" {
		t.Fatalf("token %q, value %v", tok, got)
	}
}

// Attach, Load and Commit drive a session by hand with the guarantees of
// the middleware: lazy, a token only when it changed, no lost updates.
func TestAttachCommit(t *testing.T) {
	f := newFixture(t)
	ctx, err := f.m.Attach(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.m.Commit(ctx)
	if err != nil || tok.Changed || f.store.total() != 0 {
		t.Fatalf("untouched: token %+v, err %v, %d store calls", tok, err, f.store.total())
	}
	s, _ := f.m.Load(ctx)
	s.Set("n", 0)
	tok, err = f.m.Commit(ctx)
	if err != nil || !tok.Changed || tok.Value == "" || tok.Value != s.ID() {
		t.Fatalf("new session: %+v, %v", tok, err)
	}
	if again, _ := f.m.Commit(ctx); again.Changed || again.Value != tok.Value {
		t.Fatalf("second Commit of an unchanged session: %+v", again)
	}
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, _ := f.m.Attach(context.Background(), tok.Value)
			s, err := f.m.Load(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			s.Update("n", func(old any) any { v, _ := old.(int); return v + 1 })
			if _, err := f.m.Commit(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := f.value(tok.Value, "n"); got != n {
		t.Fatalf("n = %v after %d concurrent increments through Attach/Commit", got, n)
	}
	rec := httptest.NewRecorder()
	f.m.WriteToken(rec.Header(), tok)
	if c := f.sessionCookie(rec); c == nil || c.Value != tok.Value || !c.Secure {
		t.Fatalf("WriteToken: %q", rec.Header().Values("Set-Cookie"))
	}
	if _, err := f.m.Commit(context.Background()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Commit without Attach: %v", err)
	}
}

// After CommitResponse, a change that needs a new token is refused, as
// under the middleware once the headers are out.
func TestCommitResponseMarksHeadersWritten(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("n", 1)
	ctx, _ := f.m.Attach(context.Background(), id)
	s, _ := f.m.Load(ctx)
	s.Set("n", 2)
	rec := httptest.NewRecorder()
	if err := f.m.CommitResponse(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(); !errors.Is(err, session.ErrHeadersWritten) {
		t.Fatalf("Renew after CommitResponse: %v, want ErrHeadersWritten", err)
	}
	s.Set("n", 3) // no new token needed: saved by the next Commit
	if _, err := f.m.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.value(id, "n"); got != 3 {
		t.Fatalf("n = %v", got)
	}
}
