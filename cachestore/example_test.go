package cachestore_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/memstore"
)

// A Manager on a cache tier. In production the fast store would be
// redisstore or memcachestore and the durable one sqlstore; memory stores
// stand in for both here.
func ExampleNew() {
	fast, durable := memstore.New(), memstore.New()
	tier := cachestore.New(fast, durable)
	m := session.New(tier)

	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		n, _ := session.Get[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	}))

	var cookie *http.Cookie
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 {
			cookie = c[0]
		}
		fmt.Println(rec.Body.String())
	}
	st, _ := cachestore.StatsOf(tier)
	fmt.Printf("read from the cache %d times, from the durable store %d times\n", st.Hits, st.Misses)
	// Output:
	// visit 1
	// visit 2
	// visit 3
	// read from the cache 1 times, from the durable store 1 times
}
