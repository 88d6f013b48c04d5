package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// benchManager returns a handler for the workload and a valid session ID.
func benchManager(b *testing.B, work func(s *session.Session)) (http.Handler, string) {
	m := session.New(memstore.New())
	var id string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/untouched" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s, err := m.Load(r.Context())
		if err != nil {
			b.Fatal(err)
		}
		if id == "" {
			s.Set("user", "alice")
			s.Set("n", 0)
			id = s.ID()
			return
		}
		work(s)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	return h, id
}

func benchRequests(b *testing.B, path string, work func(s *session.Session), withCookie bool) {
	h, id := benchManager(b, work)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if withCookie {
		req.AddCookie(&http.Cookie{Name: "session", Value: id})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

func BenchmarkMiddlewareUntouched(b *testing.B) {
	benchRequests(b, "/untouched", nil, true)
}

func BenchmarkMiddlewareReadOnly(b *testing.B) {
	benchRequests(b, "/", func(s *session.Session) { _ = s.Get("user") }, true)
}

func BenchmarkMiddlewareWrite(b *testing.B) {
	benchRequests(b, "/", func(s *session.Session) {
		s.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
	}, true)
}

func BenchmarkMiddlewareNewSession(b *testing.B) {
	benchRequests(b, "/", func(s *session.Session) { s.Set("user", "bob") }, false)
}
