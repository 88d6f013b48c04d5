package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// heap returns HeapAlloc and HeapInuse after a full garbage collection.
func heap() (alloc, inuse uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.HeapInuse
}

const mib = 1 << 20

// TestMemoryReturned: 200,000 sessions (half of them with an owner) are
// saved, then removed (by GC once expired, or by Delete); with the records
// gone, the live heap is back within 2 MiB of what it was before they were
// saved, whereas a Go map keeps its buckets after delete.
func TestMemoryReturned(t *testing.T) {
	const n = 200_000
	for _, how := range []string{"gc", "delete", "load"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			clk := newTestClock()
			s := memstore.NewWithClock(clk.now)
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("%064x", i)
			}
			baseAlloc, baseInuse := heap()
			for i, k := range keys {
				rec := session.Record{Data: []byte("v"), Expiry: clk.now().Add(time.Minute)}
				if i%2 == 0 {
					rec.Owner = fmt.Sprintf("user-%d", i%5000)
				}
				if _, err := s.Save(ctx, k, rec); err != nil {
					t.Fatal(err)
				}
			}
			fullAlloc, _ := heap()
			clk.add(2 * time.Minute)
			switch how {
			case "gc":
				if m, err := s.GC(ctx); err != nil || m != n {
					t.Fatalf("GC = %d, %v; want %d", m, err, n)
				}
			case "delete":
				for _, k := range keys {
					if err := s.Delete(ctx, k); err != nil {
						t.Fatal(err)
					}
				}
			case "load": // expired records removed as they are found
				for _, k := range keys {
					if _, err := s.Load(ctx, k); err == nil {
						t.Fatal("expired record loaded")
					}
				}
			}
			if l := s.Len(); l != 0 {
				t.Fatalf("Len = %d after removing every record", l)
			}
			alloc, inuse := heap()
			t.Logf("HeapAlloc: %.1f MiB before, %.1f MiB with %d records, %.1f MiB after (HeapInuse %.1f -> %.1f MiB)",
				float64(baseAlloc)/mib, float64(fullAlloc)/mib, n, float64(alloc)/mib, float64(baseInuse)/mib, float64(inuse)/mib)
			if alloc > baseAlloc+2*mib {
				t.Errorf("HeapAlloc %.1f MiB after the records are gone, baseline %.1f MiB: more than 2 MiB kept", float64(alloc)/mib, float64(baseAlloc)/mib)
			}
			if inuse > baseInuse+2*mib {
				t.Errorf("HeapInuse %.1f MiB after the records are gone, baseline %.1f MiB: more than 2 MiB kept", float64(inuse)/mib, float64(baseInuse)/mib)
			}
			runtime.KeepAlive(s)
			runtime.KeepAlive(keys) // part of the baseline
		})
	}
}

// TestZeroValue: a Store declared as a zero value works like one from New.
func TestZeroValue(t *testing.T) {
	var s memstore.Store
	ctx := context.Background()
	v, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, "k")
	if err != nil || string(rec.Data) != "x" || rec.Version != v {
		t.Fatalf("Load = %+v, %v", rec, err)
	}
	if ks, err := s.OwnerKeys(ctx, "o"); err != nil || !slices.Equal(ks, []string{"k"}) {
		t.Fatalf("OwnerKeys = %v, %v", ks, err)
	}
	for _, f := range []func() error{
		func() error { _, err := (&memstore.Store{}).GC(ctx); return err },
		func() error { _, err := (&memstore.Store{}).CountExpired(ctx); return err },
		func() error { _, err := (&memstore.Store{}).OwnerKeys(ctx, "o"); return err },
		func() error { return (&memstore.Store{}).Delete(ctx, "k") },
		func() error {
			return (&memstore.Store{}).Iterate(ctx, func(string, session.Record) bool { return true })
		},
	} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	storetest.Run(t, &memstore.Store{}, storetest.Config{})
}

// TestOwnerKeysExact: OwnerKeys returns the records whose owner is byte for
// byte the one asked for.
func TestOwnerKeysExact(t *testing.T) {
	owners := []string{"a", "a ", " a", "A", "á", "a\u0301", "a%", "a_", "a*", "a?", "{a}", "a\x00", "a\x00b", "ss", "ß"}
	long := make([]byte, 10<<10)
	for i := range long {
		long[i] = 'o'
	}
	owners = append(owners, string(long), string(long[:len(long)-1])+" ")
	s := memstore.New()
	ctx := context.Background()
	keys := map[string]string{}
	for i, o := range owners {
		k := fmt.Sprintf("key-%02d", i)
		if _, err := s.Save(ctx, k, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Owner: o}); err != nil {
			t.Fatalf("Save with owner %q: %v", o, err)
		}
		keys[o] = k
	}
	for _, o := range owners {
		got, err := s.OwnerKeys(ctx, o)
		if err != nil || !slices.Equal(got, []string{keys[o]}) {
			t.Errorf("OwnerKeys(%.12q) = %v, %v; want [%s]", o, got, err, keys[o])
		}
	}
}

// TestGCConcurrent: GC, GCBatch, Save, Load, Delete and OwnerKeys running
// at once keep the store consistent (run with -race).
func TestGCConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	s := memstore.NewWithClock(clk.now)
	const n = 20_000
	for i := range n {
		ttl := time.Minute
		if i%2 == 0 {
			ttl = time.Hour
		}
		if _, err := s.Save(ctx, fmt.Sprint(i), session.Record{Data: []byte("x"), Expiry: clk.now().Add(ttl), Owner: fmt.Sprint("o", i%7)}); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(2 * time.Minute)
	var wg sync.WaitGroup
	var removed atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := s.GCBatch(ctx, 500)
				if err != nil {
					t.Error(err)
					return
				}
				removed.Add(int64(m))
				if m < 500 {
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 2 { // the live ones
			k := fmt.Sprint(i)
			rec, err := s.Load(ctx, k)
			if err != nil {
				t.Errorf("live record %s: %v", k, err)
				return
			}
			if _, err := s.Save(ctx, k, rec); err != nil {
				t.Errorf("save %s: %v", k, err)
				return
			}
			if i%100 == 0 {
				if _, err := s.OwnerKeys(ctx, rec.Owner); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
	m, err := s.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if total := removed.Load() + int64(m); total != n/2 {
		t.Fatalf("removed %d records in all, want %d", total, n/2)
	}
	if l := s.Len(); l != n/2 {
		t.Fatalf("Len = %d, want %d", l, n/2)
	}
	total := 0
	for o := range 7 {
		ks, err := s.OwnerKeys(ctx, fmt.Sprint("o", o))
		if err != nil {
			t.Fatal(err)
		}
		total += len(ks)
	}
	if total != n/2 {
		t.Fatalf("owner index lists %d records, want %d", total, n/2)
	}
}
