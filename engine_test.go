package session_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phalcon"
	"github.com/sessionkit/session/phpcodec"
)

// The tests of the save engine's guarantees where they break: a second
// Manager (app server) on the same store saves between a request's load and
// its commit, so that the request's changes are replayed.

// second returns another Manager on f's store, configured like f.m: a
// second app server.
func (f *fixture) second() *fixture {
	m2 := *f
	m := session.New(f.store)
	m.Now, m.Logger, m.Codec, m.RawIDs = f.m.Now, f.m.Logger, f.m.Codec, f.m.RawIDs
	m.IDAlphabet, m.IDLength, m.MinIDLength, m.Cookie.Name = f.m.IDAlphabet, f.m.IDLength, f.m.MinIDLength, f.m.Cookie.Name
	m2.m = m
	return &m2
}

// conflictThenCommit pauses a request on f after change, saves other
// through a second Manager, then lets the first request commit (so it
// conflicts and replays), and returns its response.
func (f *fixture) conflictThenCommit(id string, change, other func(s *session.Session)) *httptest.ResponseRecorder {
	f.t.Helper()
	at, resume, done := f.paused(id, change)
	<-at
	g := f.second()
	if rec := g.serve(func(w http.ResponseWriter, r *http.Request) {
		s, err := g.m.Load(r.Context())
		if err != nil {
			f.t.Error(err)
			return
		}
		other(s)
	}, id); rec.Code != http.StatusOK {
		f.t.Fatalf("second app server: status %d", rec.Code)
	}
	resume()
	return <-done
}

// Bug 1: an Update function that panics when it is replayed after a
// conflict fails its own request (500), and the process, the key's turn and
// the next request go on.
func TestReplayPanicFailsOnlyItsRequest(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("n", 0)
	var calls atomic.Int32
	rec := f.conflictThenCommit(id, func(s *session.Session) {
		s.Update("n", func(old any) any {
			if calls.Add(1) > 1 {
				panic("replayed")
			}
			return old.(int) + 1
		})
	}, func(s *session.Session) { s.Set("n", 5) })
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("panicking replay: status %d, want 500", rec.Code)
	}
	if !strings.Contains(f.logs.String(), "replayed") {
		t.Fatalf("the panic value is not in the error: %s", f.logs)
	}
	// The turn was released: the next request saves at once.
	if rec := f.set(id, "after", 1); rec.Code != http.StatusOK {
		t.Fatalf("next request: status %d", rec.Code)
	}
	if got := f.value(id, "n"); got != 5 {
		t.Fatalf("n = %v, want the other server's 5", got)
	}
	if got := f.value(id, "after"); got != 1 {
		t.Fatalf("after = %v", got)
	}
}

// Bug 2: Pop, Delete and Clear replay by value, for values of every shape:
// a flash message held as a pointer, a struct with an interface field
// holding a slice, a []any, a map, a time.Time, is removed after a
// conflict and never shown twice.
func TestReplaysCompareValuesNotAddresses(t *testing.T) {
	type note struct{ Text string }
	type withAny struct{ V any }
	gob.Register(&note{})
	gob.Register(withAny{})
	shapes := map[string]func() any{
		"pointer":         func() any { return &note{Text: "saved!"} },
		"struct with any": func() any { return withAny{V: []int{1, 2}} },
		"[]any":           func() any { return []any{"a", 1} },
		"map[string]any":  func() any { return map[string]any{"a": "b"} },
		"time.Time":       func() any { return time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC) },
	}
	removals := map[string]func(s *session.Session){
		"Pop":    func(s *session.Session) { s.Pop("flash") },
		"Delete": func(s *session.Session) { s.Delete("flash") },
		"Clear":  func(s *session.Session) { s.Clear() },
	}
	for shape, value := range shapes {
		for how, remove := range removals {
			t.Run(shape+"/"+how, func(t *testing.T) {
				f := newFixture(t)
				id := f.newSession("flash", value())
				rec := f.conflictThenCommit(id, remove, func(s *session.Session) { s.Set("other", 1) })
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d", rec.Code)
				}
				if got := f.value(id, "flash"); got != nil {
					t.Fatalf("flash %v is still there after a replayed %s", got, how)
				}
				if got := f.value(id, "other"); got != 1 {
					t.Fatalf("other = %v, want the other server's write kept", got)
				}
			})
		}
	}
}

// Bug 2: a Phalcon flash message (a *phpcodec.Array) read on one app
// server while another saves the session is shown once.
func TestPhalconFlashShownOnceAcrossServers(t *testing.T) {
	f := newFixture(t)
	phalcon.Configure(f.m)
	f.m.Now = f.clock.Now
	f.m.Store = f.store
	var id string
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		p := phalcon.Wrap(load(t, f.m, r), "")
		p.Flash().Success("saved!")
		id = p.Session().ID()
	}, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var shown map[string][]string
	rec = f.conflictThenCommit(id, func(s *session.Session) {
		shown = phalcon.Wrap(s, "").Flash().Messages("")
	}, func(s *session.Session) { s.Set("other", 1) })
	if rec.Code != http.StatusOK || len(shown["success"]) != 1 {
		t.Fatalf("status %d, shown %v", rec.Code, shown)
	}
	var again bool
	f.serve(func(w http.ResponseWriter, r *http.Request) {
		again = phalcon.Wrap(load(t, f.m, r), "").Flash().Has("")
	}, id)
	if again {
		t.Fatal("the flash message is shown a second time")
	}
	if _, ok := f.value(id, "other").(*phpcodec.Array); ok {
		t.Fatal("unexpected array")
	}
}

// Bug 3: a request reports success only when its change is stored, and a
// plain error only when it is not; when its context ends while its write
// is in flight it says ErrCommitUnknown. Checked over many requests
// cancelled at random moments: the stored count lies between the
// successes and the successes plus the unknowns.
func TestCommitOutcomeIsNeverWrong(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("n", 0)
	const n = 300
	var ok, unknown, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx, err := f.m.Attach(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			s, err := f.m.Load(ctx)
			if err != nil {
				cancel()
				failed.Add(1) // nothing changed yet: not counted below
				return
			}
			s.Update("n", func(old any) any { return old.(int) + 1 })
			time.AfterFunc(time.Duration(i%7)*50*time.Microsecond, cancel) // cancel at a random moment
			_, err = f.m.Commit(ctx)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, session.ErrCommitUnknown):
				unknown.Add(1)
			case errors.Is(err, context.Canceled):
				failed.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	got, _ := f.value(id, "n").(int)
	if int64(got) < ok.Load() || int64(got) > ok.Load()+unknown.Load() {
		t.Fatalf("stored %d increments; %d succeeded, %d unknown, %d failed", got, ok.Load(), unknown.Load(), failed.Load())
	}
	t.Logf("%d succeeded, %d unknown, %d failed, %d stored", ok.Load(), unknown.Load(), failed.Load(), got)
}

// Bug 4a: a logout through any ID of a Renew chain ends every ID of it:
// two logins within the grace period, then a logout from the newest ID or
// from a stale tab's oldest one.
func TestLogoutEndsTheWholeRenewChain(t *testing.T) {
	for _, from := range []int{0, 1, 2} {
		t.Run([]string{"oldest", "middle", "newest"}[from], func(t *testing.T) {
			f := newFixture(t)
			ids := []string{f.newSession("cart", 1)}
			ids = append(ids, f.renew(ids[0], "alice"))
			ids = append(ids, f.renew(ids[1], "alice-again"))
			f.destroy(ids[from])
			if n := f.store.Len(); n != 0 {
				t.Fatalf("%d records left after logout through ID %d", n, from)
			}
			for i, id := range ids {
				var isNew bool
				f.serve(func(w http.ResponseWriter, r *http.Request) { isNew = load(t, f.m, r).IsNew() }, id)
				if !isNew {
					t.Fatalf("ID %d still opens a session after logout through ID %d", i, from)
				}
			}
		})
	}
}

// Bug 4b: a pre-login ID never reports the login's owner, whether the
// owner was set before Renew or the retirement met another save.
func TestPreLoginIDNeverShowsTheLogin(t *testing.T) {
	login := func(s *session.Session) {
		s.SetOwner("alice")
		if err := s.Renew(); err != nil {
			t.Error(err)
		}
		s.Set("user", "alice")
	}
	check := func(t *testing.T, f *fixture, id string) {
		f.serve(func(w http.ResponseWriter, r *http.Request) {
			s := load(t, f.m, r)
			if s.Owner() != "" || s.Get("user") != nil {
				t.Fatalf("pre-login ID shows owner %q, user %v", s.Owner(), s.Get("user"))
			}
		}, id)
	}
	t.Run("SetOwner before Renew", func(t *testing.T) {
		f := newFixture(t)
		id := f.newSession("cart", 1)
		f.serve(func(w http.ResponseWriter, r *http.Request) { login(load(t, f.m, r)) }, id)
		check(t, f, id)
	})
	t.Run("retirement conflicts", func(t *testing.T) {
		f := newFixture(t)
		id := f.newSession("cart", 1)
		if rec := f.conflictThenCommit(id, login, func(s *session.Session) { s.Set("cart", 2) }); rec.Code != http.StatusOK {
			t.Fatalf("login: status %d", rec.Code)
		}
		check(t, f, id)
	})
}

// Bug 4c: a write through a pre-login ID whose renewed session was logged
// out answers at once: the session has ended, nothing is written, the
// client's ID is revoked.
func TestWriteToEndedChainEndsAtOnce(t *testing.T) {
	f := newFixture(t)
	id := f.newSession("cart", 1)
	newID := f.renew(id, "alice")
	// A stale tab's request loaded the pre-login ID before the logout.
	at, resume, done := f.paused(id, func(s *session.Session) { s.Set("cart", 2) })
	<-at
	f.destroy(newID)
	f.store.reset()
	resume()
	rec := <-done
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls := f.store.total(); calls > 3 {
		t.Fatalf("%d store calls for a write to an ended session", calls)
	}
	if f.store.Len() != 0 {
		t.Fatal("a write to an ended chain stored something")
	}
	if c := f.sessionCookie(rec); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the ended ID was not revoked: %v", c)
	}
}

// Bug 5: every path reaches the Observer: owner-wide and administrator
// destroys report their store calls and a destroyed event.
func TestObserverSeesAdminPaths(t *testing.T) {
	f := newFixture(t)
	obs := &recorder{ops: map[session.StoreOp]int{}, events: map[session.Event]int{}}
	f.m.Observer = obs
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = f.newSession("n", i)
		f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).SetOwner("bob") }, ids[i])
	}
	obs.ops, obs.events = map[session.StoreOp]int{}, map[session.Event]int{}
	if n, err := f.m.DestroyOwnerSessions(t.Context(), "bob", f.m.KeyOf(ids[0])); err != nil || n != 2 {
		t.Fatalf("DestroyOwnerSessions = %d, %v", n, err)
	}
	if obs.events[session.EventOwnerDestroyed] != 2 || obs.ops[session.OpDelete] != 2 {
		t.Fatalf("owner destroy: events %v, calls %v", obs.events, obs.ops)
	}
	if err := f.m.DestroyKey(t.Context(), f.m.KeyOf(ids[0])); err != nil {
		t.Fatal(err)
	}
	if obs.events[session.EventDestroyed] != 1 || obs.ops[session.OpDelete] != 3 {
		t.Fatalf("admin destroy: events %v, calls %v", obs.events, obs.ops)
	}
	if _, _, err := f.m.Inspect(t.Context(), f.m.KeyOf(ids[0])); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Inspect of a destroyed key: %v", err)
	}
	if obs.ops[session.OpLoad] == 0 {
		t.Fatalf("admin loads not observed: %v", obs.ops)
	}
}

// looseIndex is an owner index that, like a MariaDB collation, ignores
// case and trailing spaces.
type looseIndex struct{ *countingStore }

func (l looseIndex) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	var keys []string
	err := l.Store.Iterate(ctx, func(k string, rec session.Record) bool {
		if strings.EqualFold(strings.TrimRight(rec.Owner, " "), strings.TrimRight(owner, " ")) {
			keys = append(keys, k)
		}
		return true
	})
	return keys, err
}

// The manager compares owners exactly whatever the store's index returns:
// "bob " and "BOB" never list or log out bob.
func TestOwnersComparedExactly(t *testing.T) {
	f := newFixture(t)
	f.m.Store = looseIndex{f.store}
	id := f.newSession("n", 1)
	f.serve(func(w http.ResponseWriter, r *http.Request) { load(t, f.m, r).SetOwner("bob") }, id)
	for _, other := range []string{"bob ", "BOB", "Bob"} {
		if infos, err := f.m.OwnerSessions(t.Context(), other); err != nil || len(infos) != 0 {
			t.Fatalf("OwnerSessions(%q) = %v, %v", other, infos, err)
		}
		if n, err := f.m.DestroyOwnerSessions(t.Context(), other, ""); err != nil || n != 0 {
			t.Fatalf("DestroyOwnerSessions(%q) destroyed %d (%v)", other, n, err)
		}
	}
	if f.value(id, "n") != 1 {
		t.Fatal("bob was logged out by a look-alike owner")
	}
	if n, err := f.m.DestroyOwnerSessions(t.Context(), "bob", ""); err != nil || n != 1 {
		t.Fatalf("DestroyOwnerSessions(bob) = %d, %v", n, err)
	}
}

// undecodable is a store whose Load reports every record as undecodable,
// as sqlstore does for a compatibility row that is not base64.
type undecodable struct{ *countingStore }

func (u undecodable) Load(context.Context, string) (session.Record, error) {
	return session.Record{}, fmt.Errorf("store: load: %w: not base64", session.ErrDecode)
}

// A destroy removes a record the store cannot decode (an administrator's
// rm of a corrupt row), instead of failing on it.
func TestDestroyKeyRemovesUndecodableRecord(t *testing.T) {
	f := newFixture(t)
	const key = "corrupt-record-key-0123456789"
	f.store.Store.Save(t.Context(), key, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
	f.m.Store = undecodable{f.store}
	if err := f.m.DestroyKey(t.Context(), key); err != nil {
		t.Fatalf("DestroyKey: %v", err)
	}
	if f.store.Len() != 0 {
		t.Fatal("the record is still there")
	}
}
