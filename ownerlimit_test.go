package session_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// loginAs logs in on id as user (SetOwner, Renew) and returns the response.
func (f *fixture) loginAs(id, user string) (string, int) {
	f.t.Helper()
	var newID string
	rec := f.serve(func(w http.ResponseWriter, r *http.Request) {
		s := load(f.t.(*testing.T), f.m, r)
		s.SetOwner(user)
		if err := s.Renew(); err != nil {
			f.t.Fatal(err)
		}
		newID = s.ID()
	}, id)
	return newID, rec.Code
}

// MaxSessionsPerOwner ends the owner's least recently used session, and
// reports it as evicted; other owners are untouched.
func TestOwnerLimitEndsLeastRecentlyUsed(t *testing.T) {
	f := newFixture(t)
	obs := &recorder{ops: map[session.StoreOp]int{}, events: map[session.Event]int{}}
	f.m.Observer, f.m.MaxSessionsPerOwner = obs, 2
	bob, _ := f.loginAs(f.newSession("n", 0), "bob")
	var ids []string
	for range 3 {
		f.clock.Advance(time.Minute)
		id, code := f.loginAs(f.newSession("n", 1), "alice")
		if code != http.StatusOK {
			t.Fatalf("login: status %d", code)
		}
		ids = append(ids, id)
	}
	if f.value(ids[0], "n") != nil || f.value(ids[1], "n") != 1 || f.value(ids[2], "n") != 1 {
		t.Fatal("not the least recently used session ended")
	}
	if f.value(bob, "n") != 0 {
		t.Fatal("another owner's session ended")
	}
	if obs.events[session.EventEvicted] != 1 {
		t.Fatalf("events %v", obs.events)
	}
}

// With RefuseOverLimit a login over the limit fails with
// ErrTooManySessions, and the owner's sessions stay as they were.
func TestOwnerLimitRefusesLogin(t *testing.T) {
	f := newFixture(t)
	f.m.MaxSessionsPerOwner, f.m.RefuseOverLimit = 1, true
	var got error
	f.m.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		http.Error(w, "too many devices", http.StatusConflict)
	}
	first, code := f.loginAs(f.newSession("n", 1), "alice")
	if code != http.StatusOK {
		t.Fatalf("first login: status %d", code)
	}
	if _, code := f.loginAs(f.newSession("n", 2), "alice"); code != http.StatusConflict || !errors.Is(got, session.ErrTooManySessions) {
		t.Fatalf("second login: status %d, error %v", code, got)
	}
	if f.value(first, "n") != 1 {
		t.Fatal("the first session ended")
	}
	if infos, _ := f.m.OwnerSessions(t.Context(), "alice"); len(infos) != 1 {
		t.Fatalf("%d sessions of alice", len(infos))
	}
}

// A store without an owner index cannot hold the limit: the manager says
// so at once.
func TestOwnerLimitNeedsOwnerIndex(t *testing.T) {
	m := session.New(noIndex{newCounting(nil)})
	m.MaxSessionsPerOwner = 1
	if _, err := m.Attach(t.Context(), ""); !errors.Is(err, session.ErrUnsupported) {
		t.Fatalf("Attach = %v", err)
	}
}

// noIndex hides the owner index of the store it wraps.
type noIndex struct{ s *countingStore }

func (n noIndex) Load(ctx context.Context, key string) (session.Record, error) {
	return n.s.Load(ctx, key)
}
func (n noIndex) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	return n.s.Save(ctx, key, rec)
}
func (n noIndex) Delete(ctx context.Context, key string) error { return n.s.Delete(ctx, key) }

// GC reports every session it removed as expired.
func TestGCReportsExpiredSessions(t *testing.T) {
	f := newFixture(t)
	obs := &recorder{ops: map[session.StoreOp]int{}, events: map[session.Event]int{}}
	f.m.Observer = obs
	for range 3 {
		f.newSession("n", 1)
	}
	f.clock.Advance(48 * time.Hour)
	if n, err := f.m.GC(t.Context()); err != nil || n != 3 {
		t.Fatalf("GC = %d, %v", n, err)
	}
	if obs.events[session.EventExpired] != 3 {
		t.Fatalf("events %v", obs.events)
	}
	if reason, ok := session.EventExpired.Ended(); !ok || reason != "expired" {
		t.Fatalf("Ended = %q, %v", reason, ok)
	}
}
