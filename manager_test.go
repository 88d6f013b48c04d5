package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func TestStoreCallsPerRequest(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("n", 1)

	cases := []struct {
		name    string
		handler http.HandlerFunc
		cookie  string
		want    map[string]int
	}{
		{"untouched", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hi") }, id, map[string]int{}},
		{"read-only", func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Get("n") }, id, map[string]int{"Load": 1}},
		{"write", func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("n", 2) }, id, map[string]int{"Load": 1, "Save": 1}},
		{"new session", func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("n", 3) }, "", map[string]int{"Save": 1}},
		{"new session untouched", func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r) }, "", map[string]int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.store.reset()
			rec := f.serve(tc.handler, tc.cookie)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := f.store.total(); got != sum(tc.want) {
				t.Fatalf("store calls = %v, want %v", f.store.calls, tc.want)
			}
			for m, n := range tc.want {
				if got := f.store.get(m); got != n {
					t.Fatalf("%s calls = %d, want %d", m, got, n)
				}
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestTouchInterval(t *testing.T) {
	f := newFixture(t)
	f.m.IdleTimeout = 10 * time.Minute
	f.m.TouchInterval = time.Minute
	id := f.newSession("k", "v")
	read := func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Get("k") }

	f.clock.Advance(30 * time.Second)
	f.store.reset()
	f.serve(read, id)
	if f.store.get("Touch") != 0 {
		t.Fatalf("touched before the touch interval: %v", f.store.calls)
	}
	// Past the interval the idle expiry is pushed once, then not again.
	f.clock.Advance(45 * time.Second)
	f.store.reset()
	f.serve(read, id)
	f.serve(read, id)
	if got := f.store.get("Touch"); got != 1 {
		t.Fatalf("Touch calls = %d over two reads past the interval, want 1", got)
	}
	// A session read every 5 minutes outlives its 10 minute idle timeout.
	for range 6 {
		f.clock.Advance(5 * time.Minute)
		if got := f.value(id, "k"); got != "v" {
			t.Fatalf("read-only session died while in use: %v", got)
		}
	}
	// Left alone past the idle timeout, it is gone.
	f.clock.Advance(11 * time.Minute)
	if got := f.value(id, "k"); got != nil {
		t.Fatalf("session alive after idle timeout: %v", got)
	}
}

func TestAbsoluteLifetime(t *testing.T) {
	f := newFixture(t)
	f.m.IdleTimeout = time.Hour
	f.m.Lifetime = 3 * time.Hour
	id := f.newSession("k", "v")
	for range 4 {
		f.clock.Advance(40 * time.Minute)
		if f.value(id, "k") != "v" {
			t.Fatal("session died before its lifetime")
		}
	}
	f.clock.Advance(21 * time.Minute) // 3h01 after creation, 21 min after the last use
	if got := f.value(id, "k"); got != nil {
		t.Fatalf("session alive past its absolute lifetime: %v", got)
	}
}

func TestCookieDefaults(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("a", 1) }, "")
	c := f.sessionCookie(rec)
	if c == nil {
		t.Fatal("no cookie")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("cookie %q lacks secure defaults", rec.Header().Get("Set-Cookie"))
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Fatalf("default cookie should be a browser-session cookie: %q", rec.Header().Get("Set-Cookie"))
	}
	if len(c.Value) != 43 {
		t.Fatalf("ID %q has %d characters, want 43", c.Value, len(c.Value))
	}
	if got := f.store.keys[len(f.store.keys)-1]; got == c.Value || len(got) != 64 {
		t.Fatalf("store key %q: want the SHA-256 of the ID, not the ID", got)
	}
}

func TestCookieOptions(t *testing.T) {
	f := newFixture(t)
	f.m.Cookie.Domain = "example.com"
	f.m.Cookie.Partitioned = true
	f.m.Cookie.Persist = true
	f.m.Cookie.SameSite = http.SameSiteStrictMode
	f.m.Cookie.Name = "sid"
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("a", 1) }, "")
	h := rec.Header().Get("Set-Cookie")
	for _, want := range []string{"sid=", "Domain=example.com", "Partitioned", "SameSite=Strict", "Max-Age=1800", "Expires="} {
		if !strings.Contains(h, want) {
			t.Errorf("Set-Cookie %q lacks %q", h, want)
		}
	}
	// Remember-me off for this session: a browser-session cookie.
	rec = f.serve(func(w http.ResponseWriter, r *http.Request) {
		if err := load(t, f.m, r).RememberMe(false); err != nil {
			t.Fatal(err)
		}
	}, f.sessionCookie(rec).Value)
	h = rec.Header().Get("Set-Cookie")
	if h == "" || strings.Contains(h, "Max-Age") || strings.Contains(h, "Expires") {
		t.Fatalf("RememberMe(false): Set-Cookie %q, want a browser-session cookie", h)
	}
}

func TestBadCookiesNeverReachTheStore(t *testing.T) {
	f := newFixture(t)
	valid := f.newSession("k", "v")
	unknown := strings.Repeat("A", 43)
	cases := map[string][]string{
		"unknown ID":        {unknown},
		"over 256 bytes":    {strings.Repeat("a", 300)},
		"bad characters":    {strings.Repeat("a", 40) + "%2F."},
		"dots and slashes":  {"../../../../etc/passwd" + strings.Repeat("a", 30)},
		"too short":         {"abc"},
		"empty":             {""},
		"several cookies":   {valid, valid},
		"valid and unknown": {valid, unknown},
	}
	for name, values := range cases {
		t.Run(name, func(t *testing.T) {
			f.store.reset()
			req, _ := http.NewRequest(http.MethodGet, "/", nil)
			for _, v := range values {
				req.Header.Add("Cookie", f.m.Cookie.Name+"="+v)
			}
			var s *session.Session
			var fresh bool
			rw := httptest.NewRecorder()
			f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s = load(t, f.m, r)
				fresh = s.IsNew()
				s.Set("fresh", true)
			})).ServeHTTP(rw, req)
			if rw.Code != http.StatusOK {
				t.Fatalf("status %d", rw.Code)
			}
			if !fresh || s.ID() == values[0] || s.Get("k") != nil {
				t.Fatalf("client ID or its data adopted")
			}
			if name == "unknown ID" {
				// Looked up (by hash), not found, never adopted.
				if f.store.get("Load") != 1 || s.ID() == unknown {
					t.Fatalf("unknown ID: calls %v, ID adopted: %v", f.store.calls, s.ID() == unknown)
				}
				return
			}
			if f.store.get("Load") != 0 {
				t.Fatalf("malformed cookie reached the store: %v", f.store.calls)
			}
			for _, k := range f.store.keys {
				for _, v := range values {
					if v != "" && (k == v || strings.Contains(k, v)) {
						t.Fatalf("store saw the client's value %q", v)
					}
				}
			}
		})
	}
	if f.value(valid, "k") != "v" {
		t.Fatal("the valid session was damaged")
	}
}

func TestFixationImpossible(t *testing.T) {
	f := newFixture(t)
	attacker := strings.Repeat("x", 43)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("user", "victim") }, attacker)
	c := f.sessionCookie(rec)
	if c == nil || c.Value == attacker {
		t.Fatalf("attacker-chosen ID adopted: %v", c)
	}
	if f.value(attacker, "user") != nil {
		t.Fatal("data reachable under the attacker's ID")
	}
}

func TestSaveFailureAnswersWithErrorHandler(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	f.store.failing.Store(true)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.m.Load(r.Context())
		if !errors.Is(err, errInjected) {
			t.Fatalf("Load error = %v, want the store's", err)
		}
		if s != nil {
			t.Fatal("session returned with an error")
		}
		http.Error(w, "store down", http.StatusServiceUnavailable)
	}, id)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
	f.store.failing.Store(false)

	// A save failure before the headers: the error handler answers.
	var handled error
	f.m.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		handled = err
		http.Error(w, "custom", http.StatusTeapot)
	}
	rec = f.serve(func(w http.ResponseWriter, r *http.Request) {
		load(t, f.m, r).Set("k", "changed")
		f.store.failing.Store(true)
		w.Write([]byte("should not be seen"))
	}, id)
	f.store.failing.Store(false)
	if rec.Code != http.StatusTeapot || strings.Contains(rec.Body.String(), "should not") || !errors.Is(handled, errInjected) {
		t.Fatalf("status %d body %q handled %v", rec.Code, rec.Body, handled)
	}
	if f.value(id, "k") != "v" {
		t.Fatal("stored session changed by a failed save")
	}
}

func TestMaxSize(t *testing.T) {
	f := newFixture(t)
	f.m.MaxSize = 1024
	id := f.newSession("k", "small")
	var handled error
	f.m.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		handled = err
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("k", strings.Repeat("x", 2000)) }, id)
	if rec.Code != http.StatusRequestEntityTooLarge || !errors.Is(handled, session.ErrTooLarge) {
		t.Fatalf("status %d, err %v; want ErrTooLarge", rec.Code, handled)
	}
	if f.value(id, "k") != "small" {
		t.Fatal("an oversized save changed the stored session")
	}
}

func TestCorruptRecordGivesFreshSession(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	key := f.m.KeyOf(id)
	rec, err := f.store.Store.Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Data = []byte("\x00\xffnot gob at all")
	if _, err := f.store.Store.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	var s *session.Session
	f.serve(func(w http.ResponseWriter, r *http.Request) { s = load(t, f.m, r) }, id)
	if !s.IsNew() || s.ID() == id || s.Get("k") != nil {
		t.Fatal("corrupt record did not give a fresh session")
	}
	if !strings.Contains(f.logs.String(), "cannot be decoded") {
		t.Fatalf("decode failure not logged: %q", f.logs.String())
	}
	after, err := f.store.Store.Load(t.Context(), key)
	if err != nil || string(after.Data) != string(rec.Data) {
		t.Fatalf("corrupt record was touched: %v", err)
	}
}

// TestRecordWithoutCreatedTime: records written by PHP carry no creation
// time; reading one must not expire it.
func TestRecordWithoutCreatedTime(t *testing.T) {
	f := newFixture(t)
	f.m.TouchInterval = time.Second
	id := f.newSession("k", "v")
	key := f.m.KeyOf(id)
	rec, err := f.store.Store.Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Created = time.Time{}
	if _, err := f.store.Store.Save(t.Context(), key, rec); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second) // past the touch interval: a read touches
	if f.value(id, "k") != "v" {
		t.Fatal("record without a creation time not read")
	}
	after, err := f.store.Store.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("a read-only request ended a record without a creation time: %v", err)
	}
	if !after.Expiry.After(f.clock.Now().Add(f.m.IdleTimeout - time.Minute)) {
		t.Fatalf("expiry %v not pushed by the touch", after.Expiry)
	}
}

// keyLimited refuses keys longer than 35 bytes, like a VARCHAR(35) column.
type keyLimited struct{ *countingStore }

func (k keyLimited) Load(ctx context.Context, key string) (session.Record, error) {
	if len(key) > 35 {
		return session.Record{}, fmt.Errorf("key of %d bytes: %w", len(key), session.ErrInvalidKey)
	}
	return k.countingStore.Load(ctx, key)
}

func TestIDTheStoreCannotHoldGivesFreshSession(t *testing.T) {
	f := newFixture(t)
	f.m.Store = keyLimited{f.store}
	f.m.RawIDs = true
	f.m.IDLength = 32
	f.m.MinIDLength = 22
	long := strings.Repeat("a", 64)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		if !s.IsNew() || s.ID() == long {
			t.Fatal("long ID adopted")
		}
		s.Set("k", "v")
	}, long)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: a client-provoked store refusal became an error", rec.Code)
	}
}

// noCreated drops the creation time of loaded records, as stores do for
// records PHP wrote.
type noCreated struct{ *countingStore }

func (n noCreated) Load(ctx context.Context, key string) (session.Record, error) {
	rec, err := n.countingStore.Load(ctx, key)
	rec.Created = time.Time{}
	return rec, err
}

// A save after a conflict on a record without a creation time keeps the
// session alive (the reload gives it the creation time of the load).
func TestReloadOfRecordWithoutCreatedTime(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("a", 1)
	f.m.Store = noCreated{f.store}
	at, resume, done := f.paused(id, func(s *session.Session) { s.Set("go", 1) })
	<-at
	f.set(id, "php", 1) // the other writer
	resume()
	if rec := <-done; rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if f.value(id, "php") != 1 || f.value(id, "go") != 1 {
		t.Fatal("a write lost, or the session saved already expired")
	}
}
