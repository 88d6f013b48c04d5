package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/sessions"
	"github.com/sessionkit/session"
)

// The application every library serves. The path selects what the request
// does with its session; the logic is the same for every library, written
// in each library's idiom:
//
//	/untouched  nothing (the session is never loaded)
//	/read       reads "user" and checks it is "alice"
//	/write      increments the integer "n"
//	/new        sets "user" (sent without a cookie: a new session)
//	/set?k=K    sets key K to true
//	/seed       sets user=alice and n=0 (sent without a cookie)
//	/dump       writes "n=<n> keys=<number of keys starting with k>"
//
// Every request answers 204 No Content (200 for /dump); anything else is a
// failure that stops the benchmark.

const (
	cookieName  = "session"
	idleTimeout = 30 * time.Minute
	lifetime    = 24 * time.Hour
)

// lib is one library (or the raw driver ceiling) serving the application on
// one backend.
type lib struct {
	name    string
	handler http.Handler
	// only, when set, limits the library to these workloads.
	only map[string]bool
	// seed returns the cookie value of a fresh session holding user=alice
	// and n=0.
	seed func(tb testing.TB) string
}

func (l *lib) supports(work string) bool { return l.only == nil || l.only[work] }

// seedVia creates a session by sending /seed through h.
func seedVia(tb testing.TB, h http.Handler) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/seed", nil))
	if rec.Code != http.StatusNoContent {
		tb.Fatalf("seed: status %d: %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName && c.Value != "" {
			return c.Value
		}
	}
	tb.Fatalf("seed: no %q cookie in %v", cookieName, rec.Header())
	return ""
}

// dumpState reads n and the number of k* keys of the session behind cookie.
func dumpState(tb testing.TB, h http.Handler, cookie string) (n, keys int) {
	tb.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/dump", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("dump: status %d: %s", rec.Code, rec.Body)
	}
	if _, err := fmt.Sscanf(rec.Body.String(), "n=%d keys=%d", &n, &keys); err != nil {
		tb.Fatalf("dump: %q: %v", rec.Body.String(), err)
	}
	return n, keys
}

func fail(w http.ResponseWriter, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), http.StatusInternalServerError)
}

// ---- sessionkit ----

// sessionkitLib serves the application through sessionkit with its
// defaults (IdleTimeout 30 min, TouchInterval 1 min, Lifetime 24 h).
func sessionkitLib(store session.Store) *lib {
	return sessionkitLibM("sessionkit", session.New(store))
}

// sessionkitLibM serves the application through m, under name.
func sessionkitLibM(name string, m *session.Manager) *lib {
	m.Cookie.Name = cookieName
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/untouched" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s, err := m.Load(r.Context())
		if err != nil {
			fail(w, "load: %v", err)
			return
		}
		switch r.URL.Path {
		case "/read":
			if u, _ := session.Get[string](s, "user"); u != "alice" {
				fail(w, "user = %q", u)
				return
			}
		case "/write":
			s.Update("n", func(old any) any { return toInt(old) + 1 })
		case "/new":
			s.Set("user", "bob")
		case "/set":
			s.Set(r.URL.Query().Get("k"), true)
		case "/seed":
			s.Set("user", "alice")
			s.Set("n", 0)
		case "/dump":
			n, _ := session.Get[int](s, "n")
			fmt.Fprintf(w, "n=%d keys=%d", n, countK(s.Keys()))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := m.Handler(app)
	return &lib{name: name, handler: h, seed: func(tb testing.TB) string { return seedVia(tb, h) }}
}

// ---- scs ----

// scsLib serves the application through scs as its documentation
// recommends: LoadAndSave, IdleTimeout 30 min and Lifetime 24 h.
func scsLib(name string, store scs.Store) *lib {
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = idleTimeout
	sm.Lifetime = lifetime
	sm.Cookie.Name = cookieName
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.URL.Path {
		case "/read":
			if u := sm.GetString(ctx, "user"); u != "alice" {
				fail(w, "user = %q", u)
				return
			}
		case "/write":
			sm.Put(ctx, "n", sm.GetInt(ctx, "n")+1)
		case "/new":
			sm.Put(ctx, "user", "bob")
		case "/set":
			sm.Put(ctx, r.URL.Query().Get("k"), true)
		case "/seed":
			sm.Put(ctx, "user", "alice")
			sm.Put(ctx, "n", 0)
		case "/dump":
			fmt.Fprintf(w, "n=%d keys=%d", sm.GetInt(ctx, "n"), countK(sm.Keys(ctx)))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := sm.LoadAndSave(app)
	return &lib{name: name, handler: h, seed: func(tb testing.TB) string { return seedVia(tb, h) }}
}

// ---- gorilla/sessions ----

// gorillaKey authenticates gorilla's cookies (HMAC only, as its README's
// example does).
var gorillaKey = []byte("bench-hash-key-0123456789abcdef!")

// gorillaLib serves the application through gorilla/sessions: Get, change
// Values, Save before writing, as its README shows. gorilla has no idle
// timeout, so a read-only request saves nothing (its MaxAge, set to the idle
// timeout, then runs from the last write).
func gorillaLib(name string, store sessions.Store) *lib {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/untouched" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s, err := store.Get(r, cookieName)
		if err != nil {
			fail(w, "get: %v", err)
			return
		}
		switch r.URL.Path {
		case "/read":
			if u, _ := s.Values["user"].(string); u != "alice" {
				fail(w, "user = %q", u)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		case "/write":
			n, _ := s.Values["n"].(int)
			s.Values["n"] = n + 1
		case "/new":
			s.Values["user"] = "bob"
		case "/set":
			s.Values[r.URL.Query().Get("k")] = true
		case "/seed":
			s.Values["user"] = "alice"
			s.Values["n"] = 0
		case "/dump":
			n, _ := s.Values["n"].(int)
			keys := make([]string, 0, len(s.Values))
			for k := range s.Values {
				if ks, ok := k.(string); ok {
					keys = append(keys, ks)
				}
			}
			fmt.Fprintf(w, "n=%d keys=%d", n, countK(keys))
			return
		}
		if err := s.Save(r, w); err != nil {
			fail(w, "save: %v", err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return &lib{name: name, handler: app, seed: func(tb testing.TB) string { return seedVia(tb, app) }}
}

// gorillaOptions are the cookie options given to every gorilla store.
func gorillaOptions() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: int(idleTimeout / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// ---- raw driver ceiling ----

// ceiling is the work of the raw-driver floor on one backend, keyed by the
// store key (hex SHA-256 of the cookie, as sessionkit computes it).
type ceiling struct {
	read   func(ctx context.Context, key string) error // the primary-key read
	write  func(ctx context.Context, key string) error // the read, then the primary-key update
	insert func(ctx context.Context, key string) error // a new record
}

// driverLib serves the application with no session library: the request's
// cookie is hashed and the record read or written straight through the
// driver, one statement or command per store operation. It seeds its own
// record through sk (a sessionkit library on the same store) so that it
// reads a real record, and leaves sessionkit's benchmark records alone.
func driverLib(sk *lib, c ceiling) *lib {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/untouched" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ctx := r.Context()
		var key string
		if r.URL.Path == "/new" {
			key = newKey()
			if err := c.insert(ctx, key); err != nil {
				fail(w, "insert: %v", err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ck, err := r.Cookie(cookieName)
		if err != nil {
			fail(w, "no cookie")
			return
		}
		key = storeKey(ck.Value)
		op := c.read
		if r.URL.Path == "/write" {
			op = c.write
		}
		if err := op(ctx, key); err != nil {
			fail(w, "%s: %v", r.URL.Path, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return &lib{
		name: "driver", handler: app, seed: sk.seed,
		only: map[string]bool{"untouched": true, "readonly": true, "write": true, "new": true},
	}
}

// storeKey is sessionkit's default store key of a session ID.
func storeKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

var (
	keyPrefix = strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	keySeq    atomic.Uint64
)

// newKey returns a fresh 64-character key for the ceiling's inserts.
func newKey() string {
	return storeKey(keyPrefix + strconv.FormatUint(keySeq.Add(1), 10))
}

// toInt reads a counter as GobCodec (int) or JSONCodec (json.Number)
// decodes it.
func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// countK counts the keys written by /set.
func countK(keys []string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, "k") {
			n++
		}
	}
	return n
}
