package storetest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/sessionkit/session"
)

// RunLifecycle checks, through real session.Managers on one store, the
// guarantees the manager builds on the store's compare-and-set: a write
// acknowledged during a Renew is never lost (whichever commits first), the
// old ID never sees the login and dies with the session, and a replayed
// Pop never removes a value saved meanwhile. newManager is called twice per
// check: two application servers sharing the store, so that the
// interleavings go through the store and not through one process's queue.
// On a store with an owner index, it also checks that MaxSessionsPerOwner
// holds across the two.
// The managers must accept their own cookies over plain HTTP requests (the
// suite sends them directly to the handler).
func RunLifecycle(t *testing.T, newManager func(t *testing.T) *session.Manager) {
	t.Helper()
	checks := []struct {
		name string
		fn   func(*lifecycle, *testing.T)
	}{
		{"WriteDuringRenew/write first", func(l *lifecycle, t *testing.T) { l.writeDuringRenew(t, true) }},
		{"WriteDuringRenew/login first", func(l *lifecycle, t *testing.T) { l.writeDuringRenew(t, false) }},
		{"RenewedOldID", (*lifecycle).renewedOldID},
		{"ConditionalPop", (*lifecycle).conditionalPop},
	}
	if _, ok := newManager(t).Store.(session.OwnerIndex); ok {
		checks = append(checks, struct {
			name string
			fn   func(*lifecycle, *testing.T)
		}{"OwnerLimit", (*lifecycle).ownerLimit})
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(&lifecycle{a: newManager(t), b: newManager(t)}, t)
		})
	}
}

// lifecycle is two app servers on one store.
type lifecycle struct{ a, b *session.Manager }

// serve runs one request on m with the session ID id ("" for none); fn
// runs inside the handler. It returns the session ID the client holds
// afterwards ("" when the cookie was expired) and the status.
func serve(t *testing.T, m *session.Manager, id string, fn func(s *session.Session)) (string, int) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if id != "" {
		req.AddCookie(&http.Cookie{Name: m.Cookie.Name, Value: url.PathEscape(id)})
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fn(s)
	})).ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == m.Cookie.Name {
			id = ""
			if c.MaxAge >= 0 {
				id, _ = url.PathUnescape(c.Value)
			}
		}
	}
	return id, rec.Code
}

// paused starts a request whose handler runs fn and then waits; it returns
// once fn ran, with the function that lets the request finish and report
// its status.
func paused(t *testing.T, m *session.Manager, id string, fn func(s *session.Session)) (finish func() int) {
	ran, goOn, code := make(chan struct{}), make(chan struct{}), make(chan int, 1)
	go func() {
		_, c := serve(t, m, id, func(s *session.Session) {
			fn(s)
			close(ran)
			<-goOn
		})
		code <- c
	}()
	select {
	case <-ran:
	case c := <-code:
		t.Fatalf("request ended with status %d before its change", c)
	}
	return func() int { close(goOn); return <-code }
}

func get(t *testing.T, m *session.Manager, id, key string) any {
	t.Helper()
	var v any
	serve(t, m, id, func(s *session.Session) { v = s.Get(key) })
	return v
}

func (l *lifecycle) newSession(t *testing.T, key string, value any) string {
	t.Helper()
	id, code := serve(t, l.a, "", func(s *session.Session) { s.Set(key, value) })
	if code != http.StatusOK || id == "" {
		t.Fatalf("new session: status %d, id %q", code, id)
	}
	return id
}

func (l *lifecycle) writeDuringRenew(t *testing.T, writeFirst bool) {
	old := l.newSession(t, "cart", "1 book")
	var newID string
	login := paused(t, l.a, old, func(s *session.Session) {
		if err := s.Renew(); err != nil {
			t.Error(err)
		}
		s.Set("user", "alice")
		newID = s.ID()
	})
	write := paused(t, l.b, old, func(s *session.Session) { s.Set("cart", "2 books") })
	var lc, wc int
	if writeFirst {
		wc, lc = write(), login()
	} else {
		lc, wc = login(), write()
	}
	if lc != http.StatusOK || wc != http.StatusOK {
		t.Fatalf("login %d, write %d", lc, wc)
	}
	if got := get(t, l.b, newID, "cart"); got != "2 books" {
		t.Fatalf("acknowledged write lost: cart = %v in the renewed session", got)
	}
	if get(t, l.b, newID, "user") != "alice" {
		t.Fatal("login lost")
	}
	if get(t, l.a, old, "user") != nil {
		t.Fatal("the old ID sees the login")
	}
}

func (l *lifecycle) renewedOldID(t *testing.T) {
	old := l.newSession(t, "cart", "1 book")
	var newID string
	serve(t, l.a, old, func(s *session.Session) {
		if err := s.Renew(); err != nil {
			t.Fatal(err)
		}
		s.Set("user", "alice")
		newID = s.ID()
	})
	if get(t, l.b, old, "user") != nil || get(t, l.b, old, "cart") != "1 book" {
		t.Fatal("the old ID in its grace period: want the data before the login, without it")
	}
	serve(t, l.b, old, func(s *session.Session) { s.Destroy() }) // logout through the old ID
	if get(t, l.a, newID, "user") != nil || get(t, l.a, old, "cart") != nil {
		t.Fatal("an ID of the destroyed session still answers")
	}
}

func (l *lifecycle) conditionalPop(t *testing.T) {
	id := l.newSession(t, "flash", "first")
	pop := paused(t, l.a, id, func(s *session.Session) { s.Pop("flash") })
	if _, c := serve(t, l.b, id, func(s *session.Session) { s.Set("flash", "second") }); c != http.StatusOK {
		t.Fatalf("second message: status %d", c)
	}
	if c := pop(); c != http.StatusOK {
		t.Fatalf("pop: status %d", c)
	}
	if got := get(t, l.b, id, "flash"); got != "second" {
		t.Fatalf("flash = %v: the replayed Pop removed a message it never saw", got)
	}
}

// ownerLimit: with MaxSessionsPerOwner 2, two logins of one user on two
// app servers at once, on top of two sessions of that user, leave at most
// two, the least recently used ended; another user's session is untouched.
func (l *lifecycle) ownerLimit(t *testing.T) {
	l.a.MaxSessionsPerOwner, l.b.MaxSessionsPerOwner = 2, 2
	owner, other := "limit-"+Key()[:12], "other-"+Key()[:12]
	login := func(user string) func(s *session.Session) {
		return func(s *session.Session) {
			s.SetOwner(user)
			if err := s.Renew(); err != nil {
				t.Error(err)
			}
			s.Set("user", user)
		}
	}
	otherID, _ := serve(t, l.a, l.newSession(t, "cart", 1), login(other))
	oldest, _ := serve(t, l.a, l.newSession(t, "cart", 1), login(owner))
	serve(t, l.b, l.newSession(t, "cart", 1), login(owner))
	if n := l.count(t, owner); n != 2 {
		t.Fatalf("%d sessions after two logins", n)
	}
	// Two more logins, one on each app server, committed at once.
	first := paused(t, l.a, l.newSession(t, "cart", 1), login(owner))
	second := paused(t, l.b, l.newSession(t, "cart", 1), login(owner))
	codes := make(chan int, 2)
	go func() { codes <- first() }()
	go func() { codes <- second() }()
	for range 2 {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("login: status %d", c)
		}
	}
	if n := l.count(t, owner); n > 2 || n == 0 {
		t.Fatalf("%d live sessions of the owner, the limit is 2", n)
	}
	if get(t, l.a, oldest, "user") != nil {
		t.Fatal("the least recently used session survived")
	}
	if get(t, l.b, otherID, "user") != other || l.count(t, other) != 1 {
		t.Fatal("another user's session was touched")
	}
}

func (l *lifecycle) count(t *testing.T, owner string) int {
	t.Helper()
	infos, err := l.a.OwnerSessions(t.Context(), owner)
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}
