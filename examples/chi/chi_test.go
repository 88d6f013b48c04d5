package chiexample_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionkit/session"
	chiexample "github.com/sessionkit/session/examples/chi"
	"github.com/sessionkit/session/examples/internal/flowtest"
)

// newApp is the example router plus the two routes the flow suite needs
// beyond it.
func newApp(m *session.Manager) http.Handler {
	r := chiexample.NewRouter(m)
	r.Post("/late", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "started")
		w.(http.Flusher).Flush() // the response has started
		s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
	})
	r.Post("/big", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.Set("big", strings.Repeat("x", 2*flowtest.MaxSize))
		fmt.Fprint(w, "stored")
	})
	return r
}

func TestFlows(t *testing.T) { flowtest.Run(t, newApp) }

func TestLoginNeedsUser(t *testing.T) {
	e := flowtest.Start(t, newApp)
	res := e.Do(http.MethodPost, "/login", "", nil)
	if res.Status != http.StatusBadRequest || res.SetCookies != 0 {
		t.Fatalf("login without user: %d, %d Set-Cookie lines; want 400 and no cookie", res.Status, res.SetCookies)
	}
}
