package testingexample_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/sessionkit/session"
	testingexample "github.com/sessionkit/session/examples/testing"
	"github.com/sessionkit/session/memstore"
)

// Without HTTP: Attach gives a context with a session (a new one for the
// ID ""), the code under test runs on it, and Commit saves it and returns
// the token a client would hold from then on.
func TestCartWithoutHTTP(t *testing.T) {
	m := session.New(memstore.New())
	cart := testingexample.Cart{M: m}

	ctx, err := m.Attach(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cart.Add(ctx, "book"); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Changed || tok.Value == "" {
		t.Fatalf("a new session with a change: token %+v, want a new value to send", tok)
	}

	// A later "request" of the same client.
	ctx, err = m.Attach(context.Background(), tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	items, err := cart.Add(ctx, "pen")
	if err != nil || !slices.Equal(items, []string{"book", "pen"}) {
		t.Fatalf("second add: %v %v", items, err)
	}
	again, err := m.Commit(ctx)
	if err != nil || again.Changed || again.Value != tok.Value {
		t.Fatalf("second commit: %+v %v; want the same token, nothing to send", again, err)
	}

	// Errors of the code under test are plain errors.
	if _, err := cart.Add(ctx, ""); err == nil {
		t.Fatal("adding an empty item succeeded")
	}
	// Without Attach there is no session.
	if _, err := cart.Items(context.Background()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Items without a session: %v, want ErrNoSession", err)
	}
}

// loggedIn stores a session for user and returns its ID: a handler test
// can then start logged in without driving the login form.
func loggedIn(t *testing.T, m *session.Manager, user string, values map[string]any) string {
	t.Helper()
	ctx, err := m.Attach(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.SetOwner(user)
	s.Set("user", user)
	for k, v := range values {
		s.Set(k, v)
	}
	tok, err := m.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Value
}

// A handler test with a recorder: the session is prepared with Attach and
// Commit, and the request carries its ID as the cookie.
func TestHandlerWithPreparedSession(t *testing.T) {
	m := session.New(memstore.New())
	h := testingexample.Cart{M: m}.Handler()
	id := loggedIn(t, m, "dana", map[string]any{"cart": []string{"lamp"}})

	req := httptest.NewRequest(http.MethodPost, "/cart?item=desk", nil)
	req.AddCookie(&http.Cookie{Name: m.Cookie.Name, Value: id})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "lamp, desk" {
		t.Fatalf("POST /cart: %d %q", rec.Code, rec.Body)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Errorf("a known session was sent a cookie again: %v", rec.Result().Cookies())
	}

	// What the handler saved, read back without HTTP.
	ctx, err := m.Attach(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if items, _ := session.Get[[]string](s, "cart"); !slices.Equal(items, []string{"lamp", "desk"}) || s.Owner() != "dana" {
		t.Fatalf("stored session: cart %v, owner %q", items, s.Owner())
	}
}
