package cachestore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

// TestCacheDown: with the fast store failing every call, every operation
// works on the durable store and nothing is lost.
func TestCacheDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backoff time.Duration
	}{{"no backoff", 0}, {"default backoff", cachestore.DefaultBackoff}} {
		t.Run(tc.name, func(t *testing.T) { cacheDown(t, tc.backoff) })
	}
}

func cacheDown(t *testing.T, backoff time.Duration) {
	ctx := context.Background()
	fast := &flaky{Store: memstore.New()}
	durable := memstore.New()
	s := cachestore.New(fast, durable, quiet, cachestore.WithBackoff(backoff))
	key := storetest.Key()
	v := mustSave(t, s, key, rec("one", time.Hour))
	mustLoad(t, s, key) // cached
	fast.down.Store(true)

	r := mustLoad(t, s, key)
	if string(r.Data) != "one" || r.Version != v {
		t.Fatalf("Load with the cache down = %q version %d", r.Data, r.Version)
	}
	r.Data = []byte("two")
	v2 := mustSave(t, s, key, r)
	if got := mustLoad(t, durable, key); string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("durable store after a save with the cache down: %q", got.Data)
	}
	if err := s.(session.Toucher).Touch(ctx, key, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatalf("Touch with the cache down: %v", err)
	}
	other := storetest.Key()
	mustSave(t, s, other, rec("doomed", time.Hour))
	if err := s.Delete(ctx, other); err != nil {
		t.Fatalf("Delete with the cache down: %v", err)
	}
	if st := stats(t, s); st.Errors == 0 {
		t.Fatalf("stats %+v: no cache error counted", st)
	}

	// The cache comes back holding the entry of "one": it must not be
	// served, since this process could not delete it.
	fast.down.Store(false)
	if got := mustLoad(t, s, key); string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("after the cache came back: Load = %q version %d, want %q version %d (stale entry served)", got.Data, got.Version, "two", v2)
	}
	if _, err := s.Load(ctx, other); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("deleted record after the cache came back: %v", err)
	}
}

// TestCacheBackoff: after a failure, reads skip the fast store for the
// backoff period instead of waiting for it on every request.
func TestCacheBackoff(t *testing.T) {
	fast := &flaky{Store: memstore.New()}
	s := cachestore.New(fast, memstore.New(), quiet, cachestore.WithBackoff(time.Hour))
	key := storetest.Key()
	mustSave(t, s, key, rec("x", time.Hour))
	fast.down.Store(true)
	mustLoad(t, s, key)
	calls := fast.calls.Load()
	for range 10 {
		mustLoad(t, s, key)
	}
	if n := fast.calls.Load() - calls; n != 0 {
		t.Fatalf("%d calls reached the failing fast store during the backoff", n)
	}
}

// TestCacheDownAfterCancel: a save whose context ends right after the
// durable store took it still removes the entry it made stale (the cache
// work runs on a context of its own).
func TestCacheDownAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fast := memstore.New()
	durable := &hooked{Store: memstore.New()}
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	v1 := mustSave(t, s, key, rec("one", time.Hour))
	mustLoad(t, s, key) // cached
	old := mustLoad(t, fast, key)
	durable.afterSave = func(context.Context, string, uint64) { cancel() }
	r := rec("two", time.Hour)
	r.Version = v1
	v2, err := s.Save(ctx, key, r)
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	durable.afterSave = nil
	if cur, err := fast.Load(context.Background(), key); err == nil && string(cur.Data) == string(old.Data) {
		t.Fatal("the cache still holds the entry of the version replaced")
	}
	if st := stats(t, s); st.Errors != 0 || st.Moves != 1 {
		t.Fatalf("stats %+v: want the entry moved without a cache error", st)
	}
	if got := mustLoad(t, s, key); string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("Load = %q version %d, want %q version %d", got.Data, got.Version, "two", v2)
	}
}

// TestCacheTooSmall: a record the fast store refuses (too large) is served
// from the durable store, and a save that cannot be cached removes the old
// entry.
func TestCacheTooSmall(t *testing.T) {
	fast := &limited{Store: memstore.New(), max: 100}
	s := cachestore.New(fast, memstore.New())
	key := storetest.Key()
	v := mustSave(t, s, key, rec("small", time.Hour))
	mustLoad(t, s, key) // cached
	big := rec(string(make([]byte, 500)), time.Hour)
	big.Version = v
	v2 := mustSave(t, s, key, big)
	for range 2 {
		if got := mustLoad(t, s, key); len(got.Data) != 500 || got.Version != v2 {
			t.Fatalf("Load = %d bytes version %d, want 500 version %d", len(got.Data), got.Version, v2)
		}
	}
	if st := stats(t, s); st.Errors != 0 {
		t.Fatalf("refusals counted as errors: %+v", st)
	}
}

// limited refuses data over max bytes with session.ErrTooLarge.
type limited struct {
	session.Store
	max int
}

func (l *limited) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if len(rec.Data) > l.max {
		return 0, session.ErrTooLarge
	}
	return l.Store.Save(ctx, key, rec)
}
