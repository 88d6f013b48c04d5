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

// TestStaleEntryConflicts puts an entry of an old version back into the
// cache, as a cache restored from an old snapshot would hold. The process
// that saw the newer entry does not serve it (the entry is older than one
// it saw); another process that did not may, but a save based on it
// conflicts in the durable store and takes it out, so the reload reads the
// truth and nothing acknowledged is lost.
func TestStaleEntryConflicts(t *testing.T) {
	ctx := context.Background()
	fast, durable := memstore.New(), memstore.New()
	a := cachestore.New(fast, durable) // one application server
	b := cachestore.New(fast, durable) // another
	key := storetest.Key()
	mustSave(t, a, key, rec("one", time.Hour))
	mustLoad(t, b, key) // b fills the cache
	old := mustLoad(t, fast, key)

	r := mustLoad(t, a, key)
	r.Data = []byte("two")
	v2 := mustSave(t, a, key, r)

	plant := func() {
		t.Helper()
		cur, err := fast.Load(ctx, key)
		old.Version = 0
		if err == nil {
			old.Version = cur.Version
		}
		mustSave(t, fast, key, old)
	}
	plant()
	stale := mustLoad(t, b, key)
	if string(stale.Data) != "one" {
		t.Fatalf("setup: b did not serve the planted entry (%q)", stale.Data)
	}
	stale.Data = []byte("three from stale")
	if _, err := b.Save(ctx, key, stale); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save based on the stale entry: %v, want ErrConflict", err)
	}
	fresh := mustLoad(t, b, key)
	if string(fresh.Data) != "two" || fresh.Version != v2 {
		t.Fatalf("reload after the conflict = %q version %d, want %q version %d", fresh.Data, fresh.Version, "two", v2)
	}
	fresh.Data = []byte("three")
	v3 := mustSave(t, b, key, fresh)
	if got := mustLoad(t, b, key); string(got.Data) != "three" || got.Version != v3 {
		t.Fatalf("after the retry: %q version %d", got.Data, got.Version)
	}

	// a saw an entry newer than the planted one: it reads the durable
	// store instead, and repairs the cache.
	mustLoad(t, a, key)
	plant()
	if got := mustLoad(t, a, key); string(got.Data) != "three" || got.Version != v3 {
		t.Fatalf("a served the planted entry: %q version %d, want %q version %d", got.Data, got.Version, "three", v3)
	}
	if got := mustLoad(t, b, key); string(got.Data) != "three" {
		t.Fatalf("the cache was not repaired: b reads %q", got.Data)
	}
}

// TestStaleEntryThroughManager does the same through two Managers (two
// application servers): an Update on a session whose cache entry is old is
// replayed on the durable record, and every increment is kept.
func TestStaleEntryThroughManager(t *testing.T) {
	fast, durable := memstore.New(), memstore.New()
	tier2 := cachestore.New(fast, durable)
	m1, m2 := session.New(cachestore.New(fast, durable)), session.New(tier2)
	// request runs fn on the session of id ("" for a new one) as one
	// request through m and returns the session's ID and store key.
	request := func(m *session.Manager, id string, fn func(*session.Session)) (string, string) {
		t.Helper()
		ctx, err := m.Attach(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fn(s)
		key := s.Key()
		tok, err := m.Commit(ctx)
		if err != nil {
			t.Fatalf("commit: %v", err)
		}
		if tok.Value != "" {
			id = tok.Value
		}
		return id, key
	}
	inc := func(s *session.Session) {
		s.Update("n", func(v any) any { n, _ := v.(int); return n + 1 })
	}
	id, key := request(m1, "", func(s *session.Session) { s.Set("n", 0) })
	request(m2, id, inc)
	old := mustLoad(t, fast, key) // the entry of n=1, the last m2 saw
	for range 5 {
		request(m1, id, inc)
	}
	cur := mustLoad(t, fast, key)
	old.Version = cur.Version
	mustSave(t, fast, key, old) // n=1 is back in the cache
	before := stats(t, tier2)
	for range 4 {
		request(m2, id, inc)
	}
	if st := stats(t, tier2); st.Hits == before.Hits || st.Misses == before.Misses {
		t.Fatalf("stats %+v then %+v: m2 should have read the planted entry, then the durable store after the conflict", before, st)
	}
	var n int
	request(m1, id, func(s *session.Session) { n, _ = session.Get[int](s, "n") })
	if n != 10 {
		t.Fatalf("n = %d after 10 acknowledged increments", n)
	}
}

// TestOlderMoveNeverOverwritesNewer pauses a save between its durable
// write and its cache write; a newer save completes meanwhile. The paused
// save's cache write must not put its older version back.
func TestOlderMoveNeverOverwritesNewer(t *testing.T) {
	ctx := context.Background()
	fast := memstore.New()
	durable := &hooked{Store: memstore.New()}
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	v1 := mustSave(t, s, key, rec("v1", time.Hour))
	mustLoad(t, s, key) // cached: v1

	paused, resume := make(chan uint64), make(chan struct{})
	durable.afterSave = func(_ context.Context, k string, v uint64) {
		if k == key {
			durable.afterSave = nil // only this save pauses
			paused <- v
			<-resume
		}
	}
	done := make(chan error)
	go func() {
		r := rec("v2", time.Hour)
		r.Version = v1
		_, err := s.Save(ctx, key, r)
		done <- err
	}()
	v2 := <-paused // v2 is durable; its cache write has not run

	// A newer save (another request that read v2 from the durable store).
	r := rec("v3", time.Hour)
	r.Version = v2
	v3 := mustSave(t, s, key, r)

	close(resume)
	if err := <-done; err != nil {
		t.Fatalf("paused Save: %v", err)
	}
	if got := mustLoad(t, s, key); got.Version != v3 || string(got.Data) != "v3" {
		t.Fatalf("Load = %q version %d, want %q version %d: an older write reached the cache", got.Data, got.Version, "v3", v3)
	}
	if c, err := fast.Load(ctx, key); err == nil {
		if got := mustLoad(t, s, key); got.Version != v3 {
			t.Fatalf("cache holds %d bytes serving version %d", len(c.Data), got.Version)
		}
	}
}

// TestFillRacingASave pauses a Load between its durable read and its cache
// fill while a save changes the record: the fill of the older version must
// not stay in the cache.
func TestFillRacingASave(t *testing.T) {
	ctx := context.Background()
	fast := memstore.New()
	durable := &hooked{Store: memstore.New()}
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	v1 := mustSave(t, s, key, rec("v1", time.Hour)) // not cached: a create leaves it to Loads

	paused, resume := make(chan struct{}), make(chan struct{})
	durable.afterLoad = func(k string, _ session.Record) {
		if k == key {
			durable.afterLoad = nil
			close(paused)
			<-resume
		}
	}
	done := make(chan session.Record)
	go func() {
		r, err := s.Load(ctx, key)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	<-paused
	r := rec("v2", time.Hour)
	r.Version = v1
	v2 := mustSave(t, s, key, r)
	close(resume)
	if got := <-done; got.Version != v1 {
		t.Fatalf("the paused Load returned version %d, want the %d it read", got.Version, v1)
	}
	if got := mustLoad(t, s, key); got.Version != v2 || string(got.Data) != "v2" {
		t.Fatalf("Load after the race = %q version %d, want %q version %d: a stale fill stayed", got.Data, got.Version, "v2", v2)
	}
	if st := stats(t, s); st.FillsUndone != 1 {
		t.Fatalf("stats %+v: want the stale fill undone", st)
	}
}

// TestFillRacingATouch: a fill that read the record before a Touch
// shortened it must not keep the old expiry.
func TestFillRacingATouch(t *testing.T) {
	ctx := context.Background()
	fast := memstore.New()
	durable := &hooked{Store: memstore.New()}
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	mustSave(t, s, key, rec("x", time.Hour))

	paused, resume := make(chan struct{}), make(chan struct{})
	durable.afterLoad = func(k string, _ session.Record) {
		if k == key {
			durable.afterLoad = nil
			close(paused)
			<-resume
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := s.Load(ctx, key); err != nil {
			t.Error(err)
		}
	}()
	<-paused
	if err := s.(session.Toucher).Touch(ctx, key, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	close(resume)
	<-done
	if r, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after a Touch into the past: %+v, %v; want ErrNotFound", r.Version, err)
	}
}

// TestUnconditionalDurable: over a last-writer-wins durable store every
// save deletes the entry, and the tier reports Unconditional.
func TestUnconditionalDurable(t *testing.T) {
	durable := unconditional{memstore.New()}
	s := cachestore.New(memstore.New(), durable)
	if !session.IsUnconditional(s) {
		t.Fatal("the tier over an Unconditional store does not report it")
	}
	key := storetest.Key()
	mustSave(t, s, key, rec("a", time.Hour))
	mustLoad(t, s, key)
	r := rec("b", time.Hour)
	r.Version = 12345 // ignored by the durable store
	mustSave(t, s, key, r)
	if got := mustLoad(t, s, key); string(got.Data) != "b" {
		t.Fatalf("Load = %q, want %q", got.Data, "b")
	}
}

// unconditional is a memstore that ignores versions.
type unconditional struct{ *memstore.Store }

func (unconditional) Unconditional() bool { return true }

func (u unconditional) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	rec.Version = 0
	if cur, err := u.Store.Load(ctx, key); err == nil {
		rec.Version = cur.Version
	}
	return u.Store.Save(ctx, key, rec)
}
