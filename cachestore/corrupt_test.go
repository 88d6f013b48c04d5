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

// TestCorruptEntry: whatever the fast store holds that is not a good entry
// (bytes of another program, a damaged entry, a record its own store
// cannot read) is passed over: the Load reads the durable store and the
// entry is replaced by a good one.
func TestCorruptEntry(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, fast *corrupting, key string)
	}{
		{"foreign bytes", func(t *testing.T, fast *corrupting, key string) {
			cur, err := fast.Load(ctx, key)
			r := rec("not an entry", time.Hour)
			if err == nil {
				r.Version = cur.Version
			}
			mustSave(t, fast, key, r)
		}},
		{"damaged entry", func(t *testing.T, fast *corrupting, key string) {
			cur := mustLoad(t, fast, key)
			cur.Data[len(cur.Data)/2] ^= 0x55
			mustSave(t, fast, key, cur)
		}},
		{"truncated entry", func(t *testing.T, fast *corrupting, key string) {
			cur := mustLoad(t, fast, key)
			cur.Data = cur.Data[:len(cur.Data)-3]
			mustSave(t, fast, key, cur)
		}},
		{"unreadable for the fast store", func(t *testing.T, fast *corrupting, key string) {
			fast.mark(key, true)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast := &corrupting{Store: memstore.New()}
			durable := memstore.New()
			s := cachestore.New(fast, durable)
			key := storetest.Key()
			v := mustSave(t, s, key, rec("good", time.Hour))
			mustLoad(t, s, key) // cached
			tc.plant(t, fast, key)
			before := stats(t, s)
			got := mustLoad(t, s, key)
			if string(got.Data) != "good" || got.Version != v {
				t.Fatalf("Load over a corrupt entry = %q version %d, want %q version %d", got.Data, got.Version, "good", v)
			}
			after := stats(t, s)
			if after.Misses != before.Misses+1 || after.Fills != before.Fills+1 {
				t.Fatalf("stats %+v then %+v: want one miss and one fill", before, after)
			}
			if got := mustLoad(t, s, key); string(got.Data) != "good" {
				t.Fatalf("second Load = %q", got.Data)
			}
			if st := stats(t, s); st.Hits != after.Hits+1 {
				t.Fatalf("the replaced entry is not served: %+v", st)
			}
			// A save over it works, and Delete removes both.
			got.Data = []byte("better")
			mustSave(t, s, key, got)
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			for name, st := range map[string]session.Store{"tier": s, "fast": fast, "durable": durable} {
				if _, err := st.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
					t.Fatalf("%s after Delete: %v, want ErrNotFound", name, err)
				}
			}
		})
	}
}

// TestCorruptEntryOfDeletedRecord: a corrupt entry whose record is gone
// from the durable store is removed, and the Load says ErrNotFound.
func TestCorruptEntryOfDeletedRecord(t *testing.T) {
	ctx := context.Background()
	fast := memstore.New()
	s := cachestore.New(fast, memstore.New())
	key := storetest.Key()
	mustSave(t, fast, key, rec("garbage", time.Hour))
	if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load: %v, want ErrNotFound", err)
	}
	if _, err := fast.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the corrupt entry is still in the fast store: %v", err)
	}
}

// TestCorruptDurableRecord: a record the durable store cannot read is
// reported as such (the Manager then starts a fresh session), and nothing
// is cached.
func TestCorruptDurableRecord(t *testing.T) {
	ctx := context.Background()
	fast := memstore.New()
	durable := &corrupting{Store: memstore.New()}
	s := cachestore.New(fast, durable)
	key := storetest.Key()
	mustSave(t, durable, key, rec("x", time.Hour))
	durable.mark(key, true)
	if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Load: %v, want ErrCorrupt", err)
	}
	if _, err := fast.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("something was cached: %v", err)
	}
}
