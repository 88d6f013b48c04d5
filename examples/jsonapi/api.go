// Package jsonapi shows sessions in a JSON API on plain net/http, with the
// session ID in a header instead of a cookie: with
// Manager.TokenHeader = "Authorization", clients send
// "Authorization: Bearer <token>", and a response that creates or renews
// the session carries the new token in its Session-Token header (empty when
// the session was destroyed). No cookie is involved, so there is no CSRF
// surface; responses that carry a token get Vary: Authorization and
// Cache-Control: no-store from the manager.
package jsonapi

import (
	"encoding/json"
	"net/http"

	"github.com/sessionkit/session"
)

// Configure sets m up for the API: the token travels in the Authorization
// header as a bearer token.
func Configure(m *session.Manager) {
	m.TokenHeader = "Authorization"
}

// NewHandler returns the API behind m's middleware:
//
//	POST /login   {"user": "alice"} -> {"user": "alice"}, new token in Session-Token
//	GET  /me      -> {"user": "alice"}, or 401 without a logged-in session
//	POST /count   -> {"count": n+1}
//	POST /logout  -> 204, Session-Token empty
//
// Call [Configure] on m first.
func NewHandler(m *session.Manager) http.Handler {
	a := api{m: m}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /me", a.me)
	mux.HandleFunc("POST /count", a.count)
	mux.HandleFunc("POST /logout", a.logout)
	return m.Handler(mux)
}

type api struct{ m *session.Manager }

// User is the body of /login and /me.
type User struct {
	User string `json:"user"`
}

// Count is the body of /count.
type Count struct {
	Count int `json:"count"`
}

// Error is the body of an error response.
type Error struct {
	Error string `json:"error"`
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a api) load(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, err := a.m.Load(r.Context())
	if err != nil {
		reply(w, http.StatusServiceUnavailable, Error{"session store unavailable"})
		return nil, false
	}
	return s, true
}

func (a api) login(w http.ResponseWriter, r *http.Request) {
	var in User
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.User == "" {
		reply(w, http.StatusBadRequest, Error{`body must be {"user": "<name>"}`})
		return
	}
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	if err := s.Renew(); err != nil {
		reply(w, http.StatusInternalServerError, Error{err.Error()})
		return
	}
	s.SetOwner(in.User)
	s.Set("user", in.User)
	reply(w, http.StatusOK, User{in.User})
}

func (a api) me(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	user, ok := session.Get[string](s, "user")
	if !ok {
		reply(w, http.StatusUnauthorized, Error{"not logged in"})
		return
	}
	reply(w, http.StatusOK, User{user})
}

func (a api) count(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
	n, _ := session.Get[int](s, "count")
	reply(w, http.StatusOK, Count{n})
}

func (a api) logout(w http.ResponseWriter, r *http.Request) {
	s, ok := a.load(w, r)
	if !ok {
		return
	}
	s.Destroy()
	w.WriteHeader(http.StatusNoContent)
}
