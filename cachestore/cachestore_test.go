package cachestore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

var quiet = cachestore.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func TestConformance(t *testing.T) {
	storetest.Run(t, cachestore.New(memstore.New(), memstore.New()), storetest.Config{})
}

// TestConformanceShortMaxAge runs the suite with entries that live 50 ms,
// so that many Loads find them gone and fill again.
func TestConformanceShortMaxAge(t *testing.T) {
	storetest.Run(t, cachestore.New(memstore.New(), memstore.New(), cachestore.WithMaxAge(50*time.Millisecond)), storetest.Config{})
}

// TestConformanceCacheDown runs the suite with a fast store that fails
// every call: the tier is then the durable store.
func TestConformanceCacheDown(t *testing.T) {
	fast := &flaky{Store: memstore.New()}
	fast.down.Store(true)
	storetest.Run(t, cachestore.New(fast, memstore.New(), quiet), storetest.Config{})
}

// TestLifecycle runs the lifecycle checks through two managers on two
// tiers (two application servers) sharing both stores.
func TestLifecycle(t *testing.T) {
	fast, durable := memstore.New(), memstore.New()
	storetest.RunLifecycle(t, func(t *testing.T) *session.Manager {
		m := session.New(cachestore.New(fast, durable))
		m.Cookie.Insecure = true
		return m
	})
}

func TestCapabilities(t *testing.T) {
	mem := memstore.New()
	for _, tc := range []struct {
		name    string
		durable session.Store
		want    [6]bool // Toucher, Collector, BatchCollector, Iterator, OwnerIndex, ExpiredCounter
	}{
		{"memstore", mem, [6]bool{true, true, true, true, true, true}},
		{"bare", bare{mem}, [6]bool{}},
		{"toucher", withToucher{bare{mem}, mem}, [6]bool{true, false, false, false, false, false}},
		{"collector+iterator", withCollector{bare{mem}, mem, mem}, [6]bool{false, true, false, true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cachestore.New(memstore.New(), tc.durable)
			_, tch := s.(session.Toucher)
			_, col := s.(session.Collector)
			_, bat := s.(session.BatchCollector)
			_, it := s.(session.Iterator)
			_, oi := s.(session.OwnerIndex)
			_, ec := s.(session.ExpiredCounter)
			if got := [6]bool{tch, col, bat, it, oi, ec}; got != tc.want {
				t.Fatalf("implements %v (Toucher, Collector, BatchCollector, Iterator, OwnerIndex, ExpiredCounter), want %v", got, tc.want)
			}
			if session.IsUnconditional(s) {
				t.Fatal("reports Unconditional over a compare-and-set store")
			}
			if _, ok := cachestore.StatsOf(s); !ok {
				t.Fatal("StatsOf does not know the store")
			}
		})
	}
	if _, ok := cachestore.StatsOf(mem); ok {
		t.Fatal("StatsOf accepts a memstore")
	}
}

func stats(t *testing.T, s session.Store) cachestore.Stats {
	t.Helper()
	st, ok := cachestore.StatsOf(s)
	if !ok {
		t.Fatal("not a cachestore")
	}
	return st
}

func mustSave(t *testing.T, s session.Store, key string, r session.Record) uint64 {
	t.Helper()
	v, err := s.Save(context.Background(), key, r)
	if err != nil {
		t.Fatalf("Save(version %d): %v", r.Version, err)
	}
	return v
}

func mustLoad(t *testing.T, s session.Store, key string) session.Record {
	t.Helper()
	r, err := s.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r
}

// TestReadsHitTheCache checks the common path: a saved record is read from
// the durable store once, then from the cache, and a save moves the entry
// forward so that the next read is a hit too.
func TestReadsHitTheCache(t *testing.T) {
	fast, durable := memstore.New(), memstore.New()
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	v1 := mustSave(t, s, key, rec("one", time.Hour))
	for range 3 {
		if got := mustLoad(t, s, key); string(got.Data) != "one" || got.Version != v1 {
			t.Fatalf("Load = %q version %d, want %q version %d", got.Data, got.Version, "one", v1)
		}
	}
	if st := stats(t, s); st.Misses != 1 || st.Hits != 2 || st.Fills != 1 {
		t.Fatalf("after 3 loads: %+v, want 1 miss (filled) and 2 hits", st)
	}
	r := mustLoad(t, s, key)
	r.Data = []byte("two")
	v2 := mustSave(t, s, key, r)
	if got := mustLoad(t, s, key); string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("after Save: Load = %q version %d, want %q version %d", got.Data, got.Version, "two", v2)
	}
	if st := stats(t, s); st.Moves != 1 || st.Misses != 1 {
		t.Fatalf("after a save: %+v, want the entry moved and no new miss", st)
	}
	// The durable store holds the same.
	if got := mustLoad(t, durable, key); string(got.Data) != "two" || got.Version != v2 {
		t.Fatalf("durable store: %q version %d", got.Data, got.Version)
	}
}
