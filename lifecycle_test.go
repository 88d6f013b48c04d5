package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// paused runs a request in the background whose handler calls before(s),
// then waits for resume before returning (and so before its commit). It
// returns a channel closed once the handler reached the pause, the resume
// function, and a channel that yields the response once it is done.
func (f *fixture) paused(cookie string, before func(s *session.Session)) (reached <-chan struct{}, resume func(), done <-chan *httptest.ResponseRecorder) {
	at := make(chan struct{})
	goOn := make(chan struct{})
	out := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		out <- f.serve(func(w http.ResponseWriter, r *http.Request) {
			s, err := f.m.Load(r.Context())
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				close(at)
				return
			}
			before(s)
			close(at)
			<-goOn
		}, cookie)
	}()
	return at, func() { close(goOn) }, out
}

func (f *fixture) set(id, key string, value any) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.serve(func(w http.ResponseWriter, r *http.Request) { load(f.t.(*testing.T), f.m, r).Set(key, value) }, id)
}

// renew logs in on id: Renew then Set("user", user). It returns the new ID.
func (f *fixture) renew(id, user string) string {
	f.t.Helper()
	var newID string
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(f.t.(*testing.T), f.m, r)
		if err := s.Renew(); err != nil {
			f.t.Fatal(err)
		}
		s.Set("user", user)
		newID = s.ID()
	}, id)
	if rec.Code != http.StatusOK {
		f.t.Fatalf("login: status %d: %s", rec.Code, rec.Body)
	}
	return newID
}

func (f *fixture) destroy(id string) {
	f.t.Helper()
	f.serve(func(w http.ResponseWriter, r *http.Request) { load(f.t.(*testing.T), f.m, r).Destroy() }, id)
}

// Item 1: saving the session keeps every other Set-Cookie line.
func TestOtherCookiesSurvive(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "token1"})
		load(t, f.m, r).Set("k", "v")
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: "fr"})
	}, "")
	names := map[string]int{}
	for _, c := range rec.Result().Cookies() {
		names[c.Name]++
	}
	if names["csrf"] != 1 || names["lang"] != 1 || names["session"] != 1 {
		t.Fatalf("cookies sent: %v (Set-Cookie %q)", names, rec.Header().Values("Set-Cookie"))
	}
}

// Item 1: two nested Managers with different cookie names each set theirs,
// and a second request with both cookies stores no new record.
func TestTwoManagersEachSetTheirCookie(t *testing.T) {
	store := newCounting(time.Now)
	a := session.New(store)
	a.Cookie.Name = "a"
	b := session.New(store)
	b.Cookie.Name = "b"
	h := a.Handler(b.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sa, _ := a.Load(r.Context())
		sb, _ := b.Load(r.Context())
		sa.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
		sb.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("want cookies a and b, got %q", rec.Header().Values("Set-Cookie"))
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := store.Len(); n != 2 {
		t.Fatalf("store holds %d records after two requests of two managers, want 2 (no orphans)", n)
	}
}

// Item 2: the old ID never sees what the login wrote, and dies with the
// session whichever ID logs out.
func TestRenewOldIDNeverSeesLogin(t *testing.T) {
	for _, from := range []string{"new", "old"} {
		t.Run("logout from "+from, func(t *testing.T) {
			f := newFixture(t)
			old := f.newSession("cart", "1 book")
			newID := f.renew(old, "alice")
			if got := f.value(old, "user"); got != nil {
				t.Fatalf("pre-login ID answers as user %v during the grace period", got)
			}
			if f.value(old, "cart") != "1 book" {
				t.Fatal("old ID lost its data during the grace period")
			}
			if f.value(newID, "user") != "alice" || f.value(newID, "cart") != "1 book" {
				t.Fatal("renewed session lost data")
			}
			if from == "new" {
				f.destroy(newID)
			} else {
				f.destroy(old)
			}
			if f.value(old, "cart") != nil || f.value(newID, "user") != nil || f.value(newID, "cart") != nil {
				t.Fatal("an ID of the destroyed session still answers")
			}
			if n := f.store.Len(); n != 0 {
				t.Fatalf("%d records left after logout", n)
			}
		})
	}
}

// Item 2: a second Renew from the old ID does not push its grace.
func TestRenewGraceNeverExtended(t *testing.T) {
	f := newFixture(t)
	f.m.RenewGrace = 10 * time.Second
	old := f.newSession("cart", "1 book")
	f.renew(old, "alice")
	f.clock.Advance(6 * time.Second)
	second := f.renew(old, "alice") // a double-submitted login
	f.set(old, "x", 1)              // a write through the old ID
	f.clock.Advance(5 * time.Second)
	if got := f.value(old, "cart"); got != nil {
		t.Fatalf("old ID alive 11 s after Renew with a 10 s grace: %v", got)
	}
	if f.value(second, "user") != "alice" {
		t.Fatal("second login lost")
	}
}

// Item 3: Renew from an ID in its grace period gives a normal session,
// without lifecycle metadata among the values.
func TestDoubleSubmittedLoginWorks(t *testing.T) {
	f := newFixture(t)
	f.m.RenewGrace = 10 * time.Second
	old := f.newSession("cart", "1 book")
	first := f.renew(old, "alice")
	second := f.renew(old, "alice")
	f.clock.Advance(time.Minute)
	for name, id := range map[string]string{"first": first, "second": second} {
		var keys []string
		f.serve(func(w http.ResponseWriter, r *http.Request) { keys = load(t, f.m, r).Keys() }, id)
		if strings.Join(keys, ",") != "cart,user" {
			t.Fatalf("%s login a minute later: keys %v, want cart,user", name, keys)
		}
	}
}

// Item 4: a write acknowledged on the old ID while a slow login renews
// reaches the renewed session, whichever commits first.
func TestWriteDuringRenewIsKept(t *testing.T) {
	for _, order := range []string{"write first", "login first"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(t)
			old := f.newSession("cart", "1 book")
			var newID string
			loginAt, loginGo, loginDone := f.paused(old, func(s *session.Session) {
				if err := s.Renew(); err != nil {
					t.Error(err)
				}
				s.Set("user", "alice")
				newID = s.ID()
			})
			<-loginAt
			writeAt, writeGo, writeDone := f.paused(old, func(s *session.Session) { s.Set("cart", "2 books") })
			<-writeAt
			var w, l *httptest.ResponseRecorder
			if order == "write first" {
				writeGo()
				w = <-writeDone
				loginGo()
				l = <-loginDone
			} else {
				loginGo()
				l = <-loginDone
				writeGo()
				w = <-writeDone
			}
			if w.Code != http.StatusOK || l.Code != http.StatusOK {
				t.Fatalf("write %d, login %d", w.Code, l.Code)
			}
			if got := f.value(newID, "cart"); got != "2 books" {
				t.Fatalf("acknowledged write lost: cart = %v in the renewed session", got)
			}
			if f.value(newID, "user") != "alice" {
				t.Fatal("login lost")
			}
			if f.value(old, "user") != nil {
				t.Fatal("old ID sees the login")
			}
		})
	}
}

// Item 5: after a conflict, Pop, Delete and Clear remove only values this
// request saw; a value saved meanwhile by another request survives.
func TestReplaysAreConditional(t *testing.T) {
	cases := []struct {
		name   string
		change func(s *session.Session)
		check  func(t *testing.T, f *fixture, id string)
	}{
		{"Pop", func(s *session.Session) { s.Pop("flash") }, func(t *testing.T, f *fixture, id string) {
			if got := f.value(id, "flash"); got != "second" {
				t.Fatalf("flash = %v, want the second message kept", got)
			}
		}},
		{"Delete", func(s *session.Session) { s.Delete("flash") }, func(t *testing.T, f *fixture, id string) {
			if got := f.value(id, "flash"); got != "second" {
				t.Fatalf("flash = %v, want the second message kept", got)
			}
		}},
		{"Clear", func(s *session.Session) { s.Clear() }, func(t *testing.T, f *fixture, id string) {
			if got := f.value(id, "flash"); got != "second" {
				t.Fatalf("flash = %v, want the value saved meanwhile kept", got)
			}
			if got := f.value(id, "other"); got != nil {
				t.Fatalf("other = %v, want it cleared (seen and unchanged)", got)
			}
			if got := f.value(id, "late"); got != 1 {
				t.Fatalf("late = %v, want the key added meanwhile kept", got)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.newSession("flash", "first")
			f.set(id, "other", "x")
			at, resume, done := f.paused(id, c.change)
			<-at
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				s := load(t, f.m, r)
				s.Set("flash", "second")
				s.Set("late", 1)
			}, id)
			resume()
			if rec := <-done; rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			c.check(t, f, id)
		})
	}
}

// blockingStore holds Save of one key until released.
type blockingStore struct {
	*memstore.Store
	key     string
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingStore) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if key == b.key {
		b.once.Do(func() { close(b.entered) })
		select {
		case <-b.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return b.Store.Save(ctx, key, rec)
}

// Item 6: a slow save of one session never delays another session, and a
// save waiting behind a save of its own session gives up at its deadline.
func TestSaveSerializationHonoursContext(t *testing.T) {
	bs := &blockingStore{Store: memstore.New(), entered: make(chan struct{}), release: make(chan struct{})}
	m := session.New(bs)
	newID := func() string {
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Load(r.Context())
			s.Set("n", 0)
		})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec.Result().Cookies()[0].Value
	}
	x, y := newID(), newID()
	bs.key = m.KeyOf(y)
	write := func(ctx context.Context, id string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
		req.AddCookie(&http.Cookie{Name: "session", Value: id})
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.Load(r.Context())
			s.Set("n", 1)
		})).ServeHTTP(rec, req)
		return rec.Code
	}
	slow := make(chan int, 1)
	go func() { slow <- write(context.Background(), y) }()
	<-bs.entered // y's save is now stuck in the store
	if code := write(context.Background(), x); code != http.StatusOK {
		t.Fatalf("unrelated session: status %d while another session's save is slow", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if code := write(ctx, y); code != http.StatusInternalServerError {
		t.Fatalf("second save of the slow session: status %d, want it to give up at its deadline", code)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("returned before the deadline")
	}
	close(bs.release)
	if code := <-slow; code != http.StatusOK {
		t.Fatalf("slow save: status %d", code)
	}
}

// Item 7: an Update function may read the session, also when it runs again
// after a conflict.
func TestUpdateMayReadSession(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("step", 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		at, resume, out := f.paused(id, func(s *session.Session) {
			s.Update("total", func(old any) any {
				step, _ := s.Get("step").(int)
				n, _ := old.(int)
				return n + step
			})
		})
		<-at
		f.set(id, "total", 10) // forces a conflict and a replay of fn
		resume()
		<-out
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: Update's function reading the session")
	}
	if got := f.value(id, "total"); got != 12 {
		t.Fatalf("total = %v, want 12 (10 saved meanwhile + step 2)", got)
	}
}

// Item 8: a Manager built as a struct literal sends a secure cookie, and
// persistent cookies take Max-Age from Manager.Now.
func TestZeroValueManagerIsSecure(t *testing.T) {
	m := &session.Manager{Store: memstore.New()}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			t.Fatal(err)
		}
		s.Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	c := rec.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || c[0].Path != "/" {
		t.Fatalf("zero-value Manager cookie: %q", rec.Header().Values("Set-Cookie"))
	}
	m2 := &session.Manager{Store: memstore.New(), Cookie: session.CookieOptions{Insecure: true, ScriptAccessible: true}}
	rec = httptest.NewRecorder()
	m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m2.Load(r.Context())
		s.Set("k", 1)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].Secure || c[0].HttpOnly {
		t.Fatalf("opted-out cookie: %q", rec.Header().Values("Set-Cookie"))
	}
}

func TestPersistentCookieMaxAgeFromManagerClock(t *testing.T) {
	f := newFixture(t)
	f.clock.Advance(-10 * 365 * 24 * time.Hour) // a test clock far from the wall clock
	f.m.Cookie.Persist = true
	rec := f.set("", "k", 1)
	c := f.sessionCookie(rec)
	if c == nil || c.MaxAge != int((30*time.Minute)/time.Second) {
		t.Fatalf("persistent cookie under a test clock: %q, want Max-Age=1800", rec.Header().Values("Set-Cookie"))
	}
}

// Item 9: no store write when it would change nothing.
func TestNoUselessWrites(t *testing.T) {
	t.Run("no idle timeout", func(t *testing.T) {
		f := newFixture(t)
		f.m.IdleTimeout = -1
		id := f.newSession("k", "v")
		for range 3 {
			f.clock.Advance(2 * time.Minute)
			f.store.reset()
			if f.value(id, "k") != "v" {
				t.Fatal("lost")
			}
			if f.store.get("Touch")+f.store.get("Save") != 0 {
				t.Fatalf("read-only request without idle timeout wrote: %v", f.store.calls)
			}
		}
	})
	t.Run("same owner", func(t *testing.T) {
		f := newFixture(t)
		id := f.newSession("k", "v")
		f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).SetOwner("alice") }, id)
		f.store.reset()
		f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).SetOwner("alice") }, id)
		if f.store.get("Save") != 0 {
			t.Fatalf("SetOwner with the stored owner saved: %v", f.store.calls)
		}
	})
}

// fullWriter is a ResponseWriter with every optional interface, recording
// which were used.
type fullWriter struct {
	*httptest.ResponseRecorder
	pushed, readFrom, deadline bool
}

func (w *fullWriter) Push(string, *http.PushOptions) error { w.pushed = true; return nil }
func (w *fullWriter) ReadFrom(r io.Reader) (int64, error) {
	w.readFrom = true
	return io.Copy(w.ResponseRecorder, r)
}
func (w *fullWriter) SetWriteDeadline(time.Time) error { w.deadline = true; return nil }

// Item 10: the wrapper keeps Pusher, ReaderFrom and the ResponseController
// calls, and a failed Hijack does not mark the headers as sent.
func TestResponseWriterHidesNothing(t *testing.T) {
	f := newFixture(t)
	fw := &fullWriter{ResponseRecorder: httptest.NewRecorder()}
	f.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := w.(http.Pusher)
		if !ok || p.Push("/style.css", nil) != nil {
			t.Error("http.Pusher not reachable")
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through ResponseController: %v", err)
		}
		load(t, f.m, r).Set("k", 1)
		if _, err := io.Copy(w, io.LimitReader(strings.NewReader("body"), 4)); err != nil { // not a WriterTo: ReadFrom is used
			t.Error(err)
		}
	})).ServeHTTP(fw, httptest.NewRequest(http.MethodGet, "/", nil))
	if !fw.pushed || !fw.deadline || !fw.readFrom {
		t.Fatalf("pushed %v, deadline %v, readFrom %v", fw.pushed, fw.deadline, fw.readFrom)
	}
	if fw.Body.String() != "body" || f.sessionCookie(fw.ResponseRecorder) == nil {
		t.Fatalf("body %q, cookie %v: the session must be saved before ReadFrom writes", fw.Body, fw.Header())
	}

	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(t, f.m, r)
		s.Set("k", 1)
		if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
			t.Fatal("httptest.ResponseRecorder was hijacked")
		}
		if err := s.Renew(); err != nil {
			t.Fatalf("Renew after a failed Hijack: %v", err)
		}
	}, "")
	if f.sessionCookie(rec) == nil {
		t.Fatal("no cookie after a failed Hijack")
	}
}
