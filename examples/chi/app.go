// Package chiexample shows sessions in a chi router. The manager's
// middleware is net/http middleware, which is what chi's Use takes:
// r.Use(m.Handler) is the whole integration.
package chiexample

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sessionkit/session"
)

// FlashLoggedOut is the message the logout handler leaves for the next
// page.
const FlashLoggedOut = "You have been logged out."

// NewRouter returns a chi router with the example's routes: a home page
// with flash messages, login, a counter and logout.
func NewRouter(m *session.Manager) chi.Router {
	r := chi.NewRouter()
	r.Use(m.Handler)
	a := app{m: m}
	r.Get("/health", a.health)
	r.Get("/", a.home)
	r.Post("/login", a.login)
	r.Get("/count", a.count)
	r.Post("/count", a.increment)
	r.Post("/logout", a.logout)
	return r
}

type app struct{ m *session.Manager }

// load returns the request's session, or answers 503 when the store is
// unavailable.
func (a app) load(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, err := a.m.Load(r.Context())
	if err != nil {
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		return nil, false
	}
	return s, true
}

// health never loads the session: it costs no store call.
func (a app) health(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprint(w, "ok")
}

func (a app) home(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	user, ok := session.Get[string](s, "user")
	if !ok {
		user = "guest"
	}
	page := "hello " + user
	if msg, ok := s.Pop("flash").(string); ok {
		page += " | " + msg
	}
	fmt.Fprint(w, page)
}

func (a app) login(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if user == "" {
		http.Error(w, "user missing", http.StatusBadRequest)
		return
	}
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	// A new ID at login: an ID planted before the login never becomes a
	// logged-in session.
	if err := s.Renew(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.SetOwner(user)
	s.Set("user", user)
	fmt.Fprintf(w, "welcome %s", user)
}

func (a app) count(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	n, _ := session.Get[int](s, "count")
	fmt.Fprintf(w, "count %d", n)
}

func (a app) increment(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	// Update runs again on the stored value if a concurrent request saved
	// first: no increment is lost.
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
	n, _ := session.Get[int](s, "count")
	fmt.Fprintf(w, "count %d", n)
}

func (a app) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	s.Destroy()
	// A change after Destroy starts a fresh session (new ID) for the
	// message; the destroyed ID stays dead.
	s.Set("flash", FlashLoggedOut)
	fmt.Fprint(w, "bye")
}
