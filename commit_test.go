package session_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func TestSaveHappensBeforeHeaders(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	for _, how := range []string{"WriteHeader", "Write", "Flush"} {
		t.Run(how, func(t *testing.T) {
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				load(t, f.m, r).Set("k", how)
				switch how {
				case "WriteHeader":
					w.WriteHeader(http.StatusAccepted)
				case "Write":
					w.Write([]byte("body"))
				case "Flush":
					w.(http.Flusher).Flush()
				}
				// The save happened before the headers went out.
				if got := f.storedValue(t, id, "k"); got != how {
					t.Errorf("after %s the store holds %v", how, got)
				}
			}, id)
		})
	}
}

// storedValue reads key straight from the store, bypassing any request.
func (f *fixture) storedValue(t *testing.T, id, key string) any {
	t.Helper()
	rec, err := f.store.Store.Load(t.Context(), f.m.KeyOf(id))
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	values, err := f.m.Codec.Decode(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	return values[key]
}

func TestChangesAfterHeadersSavedAtReturn(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	f.store.reset()
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		w.Write([]byte("streaming"))
		s.Set("late", "yes")
		if err := s.Err(); err != nil {
			t.Fatalf("late change on an existing session: %v", err)
		}
	}, id)
	if got := f.value(id, "late"); got != "yes" {
		t.Fatalf("change after headers lost: %v", got)
	}
}

func TestNewCookieAfterHeadersIsAnError(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("k", "v")
	var setErr, renewErr, rememberErr error
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r) // fresh: no cookie
		w.WriteHeader(http.StatusOK)
		s.Set("k", "needs a cookie")
		setErr = s.Err()
	}, "")
	if !errors.Is(setErr, session.ErrHeadersWritten) || f.sessionCookie(rec) != nil {
		t.Fatalf("new session changed after headers: err %v, cookie %v", setErr, f.sessionCookie(rec))
	}
	if f.store.Len() != 1 {
		t.Fatalf("a session that could never get its cookie was stored")
	}
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		w.Write([]byte("x"))
		renewErr = s.Renew()
		rememberErr = s.RememberMe(true)
	}, id)
	if !errors.Is(renewErr, session.ErrHeadersWritten) || !errors.Is(rememberErr, session.ErrHeadersWritten) {
		t.Fatalf("Renew after headers: %v; RememberMe: %v", renewErr, rememberErr)
	}
	if f.value(id, "k") != "v" {
		t.Fatal("session damaged")
	}
}

func TestWriterInterfacesKeepWorking(t *testing.T) {
	f := newFixture(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		load(t, f.m, r).Set("flushed", true)
		if _, ok := w.(http.Flusher); !ok {
			t.Error("not a Flusher")
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		fmt.Fprint(w, "part1;")
		if err := rc.Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
		fmt.Fprint(w, "part2")
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		load(t, f.m, r).Set("hijacked", true)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		buf.Flush()
	})
	srv := httptest.NewServer(f.m.Handler(mux))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "part1;part2" || res.Header.Get("Set-Cookie") == "" {
		t.Fatalf("flush: body %q, Set-Cookie %q", body, res.Header.Get("Set-Cookie"))
	}
	res, err = http.Get(srv.URL + "/hijack")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(bufio.NewReader(res.Body))
	res.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("hijack: body %q", body)
	}
	if f.store.Len() != 2 {
		t.Fatalf("store holds %d sessions, want 2 (flush and hijack both saved)", f.store.Len())
	}
}

// TestNoLostUpdates runs 50 concurrent requests on one session, each
// setting its own key and incrementing a shared counter through Update.
func TestNoLostUpdates(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("counter", 0)
	const n = 50
	handler := f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := f.m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s.Set("key-"+r.URL.Query().Get("i"), true)
		s.Update("counter", func(old any) any { n, _ := old.(int); return n + 1 })
	}))
	var wg sync.WaitGroup
	codes := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/?i=%d", i), nil)
			req.AddCookie(&http.Cookie{Name: f.m.Cookie.Name, Value: id})
			rec := httptest.NewRecorder()
			<-start
			handler.ServeHTTP(rec, req)
			codes[i] = rec.Code
		}()
	}
	close(start)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	if got := f.value(id, "counter"); got != n {
		t.Fatalf("counter = %v after %d concurrent increments", got, n)
	}
	for i := range n {
		if f.value(id, fmt.Sprintf("key-%d", i)) != true {
			t.Fatalf("key-%d lost", i)
		}
	}
	t.Logf("%d saves for %d requests (retries after conflicts)", f.store.get("Save")-1, n)
}

func TestRenewKeepsDataAndRetiresOldID(t *testing.T) {
	f := newFixture(t)
	f.m.RenewGrace = 10 * time.Second
	old := f.newSession("cart", "3 items")
	var newID string
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		if err := s.Renew(); err != nil {
			t.Fatal(err)
		}
		s.Set("user", "alice")
		newID = s.ID()
	}, old)
	if c := f.sessionCookie(rec); c == nil || c.Value != newID || newID == old {
		t.Fatalf("renew: cookie %v, new ID %q, old %q", c, newID, old)
	}
	if f.value(newID, "cart") != "3 items" || f.value(newID, "user") != "alice" {
		t.Fatal("renewed session lost data")
	}
	// In flight with the old ID during the grace period: still served.
	if f.value(old, "cart") != "3 items" {
		t.Fatal("old ID dead during the grace period")
	}
	// A write on the old ID does not extend it past the grace period.
	f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Set("x", 1) }, old)
	f.clock.Advance(11 * time.Second)
	if got := f.value(old, "cart"); got != nil {
		t.Fatalf("old ID alive after the grace period: %v", got)
	}
	if f.value(newID, "user") != "alice" {
		t.Fatal("new ID dead")
	}
}

func TestDestroyKillsIDAtOnce(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("user", "bob")
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		s.Destroy()
		if s.Get("user") != nil {
			t.Error("values visible after Destroy")
		}
	}, id)
	c := f.sessionCookie(rec)
	if c == nil || c.MaxAge >= 0 {
		t.Fatalf("cookie not expired: %v", c)
	}
	if f.value(id, "user") != nil {
		t.Fatal("destroyed session still loads")
	}
	if f.store.Len() != 0 {
		t.Fatalf("store still holds %d records", f.store.Len())
	}
}

func TestOwnerSessions(t *testing.T) {
	f := newFixture(t)
	login := func(user string) string {
		rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
			s := load(t, f.m, r)
			s.SetOwner(user)
			s.Set("user", user)
		}, "")
		return f.sessionCookie(rec).Value
	}
	laptop, phone, tablet := login("alice"), login("alice"), login("alice")
	bob := login("bob")
	infos, err := f.m.OwnerSessions(t.Context(), "alice")
	if err != nil || len(infos) != 3 {
		t.Fatalf("OwnerSessions = %v, %v; want 3", infos, err)
	}
	n, err := f.m.DestroyOwnerSessions(t.Context(), "alice", f.m.KeyOf(laptop))
	if err != nil || n != 2 {
		t.Fatalf("DestroyOwnerSessions = %d, %v; want 2", n, err)
	}
	if f.value(phone, "user") != nil || f.value(tablet, "user") != nil {
		t.Fatal("other devices still logged in")
	}
	if f.value(laptop, "user") != "alice" || f.value(bob, "user") != "bob" {
		t.Fatal("kept sessions lost")
	}
	var keys []string
	if err := f.m.Iterate(t.Context(), func(i session.Info) bool { keys = append(keys, i.Key); return true }); err != nil || len(keys) != 2 {
		t.Fatalf("Iterate: %v %v", keys, err)
	}
	if err := f.m.DestroyKey(t.Context(), f.m.KeyOf(bob)); err != nil || f.value(bob, "user") != nil {
		t.Fatalf("DestroyKey: %v", err)
	}
}

func TestDestroyedElsewhereIsNotResurrected(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("user", "carol")
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		// Another request logs this session out meanwhile.
		if err := f.m.DestroyKey(r.Context(), f.m.KeyOf(id)); err != nil {
			t.Fatal(err)
		}
		s.Set("user", "carol-again")
	}, id)
	if f.store.Len() != 0 || f.value(id, "user") != nil {
		t.Fatal("a destroyed session was written back")
	}
}

func TestValuesAPI(t *testing.T) {
	f := newFixture(t)
	f.m.Codec = session.JSONCodec{}
	id := f.newSession("n", 41)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		if n, ok := session.Get[int](s, "n"); !ok || n != 41 {
			t.Fatalf("Get[int] after JSON = %v %v", n, ok)
		}
		if _, ok := session.Get[string](s, "n"); ok {
			t.Fatal("Get[string] of a number succeeded")
		}
		if _, ok := session.Get[uint8](s, "missing"); ok {
			t.Fatal("Get of a missing key succeeded")
		}
		s.Set("flash", "saved!")
		s.Set("other", "x")
		if got := s.Keys(); strings.Join(got, ",") != "flash,n,other" {
			t.Fatalf("Keys = %v", got)
		}
		s.Delete("other")
		if s.Has("other") {
			t.Fatal("Delete")
		}
	}, id)
	var first, second any
	f.serve(func(w http.ResponseWriter, r *http.Request) { first = load(t, f.m, r).Pop("flash") }, id)
	f.serve(func(w http.ResponseWriter, r *http.Request) { second = load(t, f.m, r).Pop("flash") }, id)
	if first != "saved!" || second != nil {
		t.Fatalf("flash: first %v, second %v", first, second)
	}
	f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).Clear() }, id)
	if f.value(id, "n") != nil {
		t.Fatal("Clear")
	}
}

func TestGetConversions(t *testing.T) {
	f := newFixture(t)
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		s.Set("f", 2.5)
		s.Set("neg", int64(-1))
		s.Set("big", int64(300))
		if _, ok := session.Get[int](s, "f"); ok {
			t.Error("2.5 converted to int")
		}
		if _, ok := session.Get[uint](s, "neg"); ok {
			t.Error("-1 converted to uint")
		}
		if _, ok := session.Get[int8](s, "big"); ok {
			t.Error("300 converted to int8")
		}
		if v, ok := session.Get[float64](s, "big"); !ok || v != 300 {
			t.Error("300 to float64")
		}
	}, "")
}

func TestNoSessionOutsideHandler(t *testing.T) {
	f := newFixture(t)
	if _, err := f.m.Load(t.Context()); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("err = %v", err)
	}
}

func TestRealClientRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.m.Cookie.Insecure = true // the test server speaks plain HTTP
	srv := httptest.NewServer(f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		s.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
		fmt.Fprint(w, s.Get("n"))
	})))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	var last string
	for range 3 {
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		last = string(b)
	}
	if last != "3" {
		t.Fatalf("counter = %s after 3 requests", last)
	}
}

// TestNoLostUpdatesAcrossManagers has two managers (two app servers) share
// one store, so conflicts go through reload, re-apply and retry.
func TestNoLostUpdatesAcrossManagers(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("counter", 0)
	other := session.New(f.store)
	other.Logger = f.m.Logger
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	start := make(chan struct{})
	for i := range n {
		m := f.m
		if i%2 == 1 {
			m = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := m.Load(r.Context())
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				s.Set(fmt.Sprintf("key-%d", i), i)
				s.Update("counter", func(old any) any { n, _ := old.(int); return n + 1 })
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(&http.Cookie{Name: "session", Value: id})
			rec := httptest.NewRecorder()
			<-start
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				errs <- fmt.Sprintf("request %d: %d %s", i, rec.Code, rec.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := f.value(id, "counter"); got != n {
		t.Fatalf("counter = %v after %d concurrent increments on two managers", got, n)
	}
	for i := range n {
		if f.value(id, fmt.Sprintf("key-%d", i)) != i {
			t.Fatalf("key-%d lost", i)
		}
	}
}
