package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/sessionkit/session"
)

// newToken returns a fresh random CSRF token.
func newToken() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken returns the session's CSRF token, creating it when missing. Every
// form carries it in a hidden field; every POST handler checks it.
func csrfToken(s *session.Session) string {
	if t, ok := session.Get[string](s, keyCSRF); ok && t != "" {
		return t
	}
	t := newToken()
	s.Set(keyCSRF, t)
	return t
}

// checkedSession loads the session of a form POST and checks its CSRF token,
// answering 403 when it does not match.
func (a *app) checkedSession(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, ok := a.session(w, r)
	if !ok {
		return nil, false
	}
	want, _ := session.Get[string](s, keyCSRF)
	got := r.PostFormValue(keyCSRF)
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		http.Error(w, "This form has expired or did not come from this site: reload the page and try again.", http.StatusForbidden)
		return nil, false
	}
	return s, true
}
