package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// lostUpdateRequests is the number of increments, and also of distinct keys
// written, in TestLostUpdates.
const lostUpdateRequests = 50

// TestLostUpdates sends 50 increments of "n" and 50 writes of distinct keys,
// all at once, on one session, through every library on every backend
// (but those that differ from another one only in size), and logs what the
// session kept as
//
//	LOSTUPDATES backend=B lib=L incr=K/50 keys=K/50 errors=E
//
// (the report command collects these lines). Peers are only measured;
// sessionkit must keep every change on every store, or the test fails.
//
// For a library that keeps the session in the cookie (gorilla-cookie) the
// client keeps the last cookie it received, as a browser would.
func TestLostUpdates(t *testing.T) {
	for _, bs := range backends {
		if bs.sizeOnly {
			continue // the same store as another backend, only fuller
		}
		t.Run(bs.name, func(t *testing.T) {
			be := bs.setup(t)
			for _, l := range be.libs {
				if l.name == "driver" {
					continue
				}
				t.Run(l.name, func(t *testing.T) { lostUpdates(t, be, l) })
			}
		})
	}
}

func lostUpdates(t *testing.T, be *backend, l *lib) {
	cookie := l.seed(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		last  = cookie
		errs  int
		first string
		start = make(chan struct{})
		nreq  = 2 * lostUpdateRequests
	)
	for i := range nreq {
		path := "/write"
		if i%2 == 1 {
			path = fmt.Sprintf("/set?k=k%02d", i/2)
		}
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
			rec := httptest.NewRecorder()
			<-start
			l.handler.ServeHTTP(rec, req)
			mu.Lock()
			defer mu.Unlock()
			if rec.Code != http.StatusNoContent {
				errs++
				if first == "" {
					first = fmt.Sprintf("%s: %d %s", path, rec.Code, rec.Body)
				}
				return
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name == cookieName && c.Value != "" {
					last = c.Value
				}
			}
		})
	}
	close(start)
	wg.Wait()
	n, keys := dumpState(t, l.handler, last)
	t.Logf("LOSTUPDATES backend=%s lib=%s incr=%d/%d keys=%d/%d errors=%d", be.name, l.name, n, lostUpdateRequests, keys, lostUpdateRequests, errs)
	if first != "" {
		t.Logf("first failed request: %s", first)
	}
	if strings.HasPrefix(l.name, "sessionkit") && (n != lostUpdateRequests || keys != lostUpdateRequests || errs != 0) {
		t.Errorf("sessionkit kept %d/%d increments and %d/%d keys with %d failed requests; want every change kept", n, lostUpdateRequests, keys, lostUpdateRequests, errs)
	}
}
