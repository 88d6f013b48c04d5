package memcachestore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachestore"
	"github.com/sessionkit/session/storetest"
)

func TestConformance(t *testing.T) {
	prefix := uniquePrefix()
	s, c, _ := newStore(t, memcachestore.Options{Prefix: prefix})
	storetest.Run(t, s, storetest.Config{
		// The largest data of a record without owner that fits the
		// default item size; 1 MiB is refused with ErrTooLarge.
		MaxDataSize: s.MaxDataSize(0),
		// A PHP session where a record of this store belongs.
		Corrupt: func(_ context.Context, key string) error {
			return c.Set(&memcache.Item{Key: prefix + key, Value: []byte(`user|s:5:"alice";`), Expiration: 60})
		},
	})
}

func TestConformanceNoHints(t *testing.T) {
	s, _, _ := newStore(t, memcachestore.Options{HintBytes: -1})
	storetest.Run(t, s, storetest.Config{MaxDataSize: s.MaxDataSize(0)})
}

// PHP-style raw IDs under Phalcon's prefix.
func TestConformancePhalconPrefix(t *testing.T) {
	run := uniquePrefix()
	s, _, _ := newStore(t, memcachestore.Options{Prefix: memcachestore.PhalconPrefix})
	storetest.Run(t, s, storetest.Config{
		MaxDataSize: s.MaxDataSize(0),
		NewKey:      func() string { return run + storetest.Key()[:26] },
	})
}

func rec(data string, ttl time.Duration) session.Record {
	return session.Record{Data: []byte(data), Expiry: time.Now().Add(ttl), Created: time.Now()}
}

// The round trips of the manager's common sequences, counted on the
// client's connections.
func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	s, _, rt := newStore(t, memcachestore.Options{})
	count := func(what string, want int64, f func() error) {
		t.Helper()
		before := rt.get()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := rt.get() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", what, got, want)
		} else {
			t.Logf("%s: %d round trip(s)", what, got)
		}
	}
	key := storetest.Key()
	t.Cleanup(func() { _ = s.Delete(context.Background(), key) })
	var loaded session.Record
	count("new session (Save version 0)", 1, func() error {
		_, err := s.Save(ctx, key, rec("a", time.Hour))
		return err
	})
	count("Load", 1, func() (err error) { loaded, err = s.Load(ctx, key); return err })
	count("Save after Load", 1, func() error {
		r := rec("b", time.Hour)
		r.Version = loaded.Version
		var err error
		loaded.Version, err = s.Save(ctx, key, r)
		return err
	})
	count("Load", 1, func() (err error) { loaded, err = s.Load(ctx, key); return err })
	count("Touch after Load", 1, func() error { return s.Touch(ctx, key, time.Now().Add(2*time.Hour)) })
	// Without a hint (saved twice in a row, or loaded by another process):
	// a "gets" first.
	count("Save without a preceding Load", 2, func() error {
		r := rec("c", time.Hour)
		r.Version = loaded.Version
		var err error
		loaded.Version, err = s.Save(ctx, key, r)
		return err
	})
	count("Touch without a preceding Load", 2, func() error { return s.Touch(ctx, key, time.Now().Add(time.Hour)) })
	count("stale Save without a hint (conflict)", 1, func() error {
		r := rec("d", time.Hour)
		r.Version = loaded.Version + 1
		if _, err := s.Save(ctx, key, r); !errors.Is(err, session.ErrConflict) {
			return errors.New("no conflict")
		}
		return nil
	})
	count("Delete", 1, func() error { return s.Delete(ctx, key) })
	count("Load of a missing key", 1, func() error {
		if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
			return errors.New("found")
		}
		return nil
	})
	count("invalid key (refused before sending)", 0, func() error {
		if _, err := s.Load(ctx, "bad key"); !errors.Is(err, session.ErrInvalidKey) {
			return errors.New("accepted")
		}
		return nil
	})
	count("oversized record (refused before sending)", 0, func() error {
		big := rec("", time.Hour)
		big.Data = make([]byte, 1<<20)
		if _, err := s.Save(ctx, key, big); !errors.Is(err, session.ErrTooLarge) {
			return errors.New("accepted")
		}
		return nil
	})
}

// Two stores with their own clients stand for two processes: the hint of
// one never lets it overwrite the other's write, and a Touch by one does not
// make the other's save with the same version fail.
func TestTwoProcesses(t *testing.T) {
	ctx := context.Background()
	prefix := uniquePrefix()
	a, _, _ := newStore(t, memcachestore.Options{Prefix: prefix})
	b, _, rtB := newStore(t, memcachestore.Options{Prefix: prefix})
	key := storetest.Key()
	t.Cleanup(func() { _ = a.Delete(context.Background(), key) })
	if _, err := a.Save(ctx, key, rec("v1", time.Hour)); err != nil {
		t.Fatal(err)
	}
	ra, err := a.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := b.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// b writes first: a's hint is outdated and its save must conflict.
	next := rec("from b", time.Hour)
	next.Version = rb.Version
	vb, err := b.Save(ctx, key, next)
	if err != nil {
		t.Fatal(err)
	}
	stale := rec("from a", time.Hour)
	stale.Version = ra.Version
	if _, err := a.Save(ctx, key, stale); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("save with an outdated hint: err = %v, want ErrConflict", err)
	}
	// a loads (hint), b touches (the unique changes, the version does not):
	// a's save is still right, at the price of a second look.
	if ra, err = a.Load(ctx, key); err != nil || ra.Version != vb {
		t.Fatalf("Load = version %d, %v; want %d", ra.Version, err, vb)
	}
	before := rtB.get()
	if err := b.Touch(ctx, key, time.Now().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := rtB.get() - before; n != 2 {
		t.Errorf("Touch in a process that did not load: %d round trips, want 2", n)
	}
	upd := rec("from a again", time.Hour)
	upd.Version = ra.Version
	if _, err := a.Save(ctx, key, upd); err != nil {
		t.Fatalf("save after another process's Touch: %v", err)
	}
	got, err := b.Load(ctx, key)
	if err != nil || string(got.Data) != "from a again" {
		t.Fatalf("b sees %q, %v", got.Data, err)
	}
}

// Concurrent compare-and-set increments from two "processes" (stores with
// their own clients and hint caches) lose nothing.
func TestConcurrentCASAcrossClients(t *testing.T) {
	ctx := context.Background()
	prefix := uniquePrefix()
	a, _, _ := newStore(t, memcachestore.Options{Prefix: prefix})
	b, _, _ := newStore(t, memcachestore.Options{Prefix: prefix})
	key := storetest.Key()
	t.Cleanup(func() { _ = a.Delete(context.Background(), key) })
	if _, err := a.Save(ctx, key, rec("\x00", time.Hour)); err != nil {
		t.Fatal(err)
	}
	const perWorker = 25
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, s := range []*memcachestore.Store{a, a, b, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				for {
					r, err := s.Load(ctx, key)
					if err != nil {
						errs <- err
						return
					}
					r.Data = []byte{r.Data[0] + 1}
					r.Expiry = time.Now().Add(time.Hour)
					if _, err = s.Save(ctx, key, r); err == nil {
						break
					} else if !errors.Is(err, session.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := a.Load(ctx, key)
	if err != nil || r.Data[0] != 4*perWorker {
		t.Fatalf("counter = %v, %v; want %d", r.Data, err, 4*perWorker)
	}
}

// memcached's own "object too large" answer is ErrTooLarge, and the stored
// record stays as it was.
func TestServerItemLimit(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t, memcachestore.Options{MaxItemSize: 8 << 20})
	key := storetest.Key()
	t.Cleanup(func() { _ = s.Delete(context.Background(), key) })
	v, err := s.Save(ctx, key, rec("kept", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, key); err != nil { // a hint: the save is one "cas"
		t.Fatal(err)
	}
	big := rec("", time.Hour)
	big.Data = make([]byte, 3<<20)
	_, _ = rand.Read(big.Data)
	big.Version = v
	_, err = s.Save(ctx, key, big)
	if err == nil {
		t.Skip("the server accepts 3 MiB items (memcached -I above 3m): cannot reach its limit")
	}
	if !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("Save of 3 MiB: err = %v, want ErrTooLarge", err)
	}
	got, err := s.Load(ctx, key)
	if err != nil || string(got.Data) != "kept" || got.Version != v {
		t.Fatalf("after the refused save: %q version %d, %v", got.Data, got.Version, err)
	}
}

// An item that this package did not write (a PHP session under the same
// key, say) is a clear error, and is not overwritten by a new session.
func TestInvalidKeys(t *testing.T) {
	ctx := context.Background()
	s, _, rt := newStore(t, memcachestore.Options{Prefix: "p-"})
	before := rt.get()
	for _, k := range []string{"", "a b", "a\nb", "a\r\nset x 0 0 1", "\x00", "a\x7f", strings.Repeat("k", 249)} {
		if _, err := s.Load(ctx, k); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Load(%q): %v", k, err)
		}
		if _, err := s.Save(ctx, k, rec("x", time.Hour)); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Save(%q): %v", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Delete(%q): %v", k, err)
		}
		if err := s.Touch(ctx, k, time.Now()); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Touch(%q): %v", k, err)
		}
	}
	if n := rt.get() - before; n != 0 {
		t.Fatalf("invalid keys cost %d round trips, want 0", n)
	}
	if _, err := memcachestore.New(memcache.New("127.0.0.1:1"), memcachestore.Options{Prefix: "has space"}); !errors.Is(err, session.ErrInvalidKey) {
		t.Fatalf("New with a bad prefix: %v", err)
	}
}

// The default MaxItemSize leaves room for memcached's own overhead even
// with the longest key memcached allows.
func TestLargestItemFits(t *testing.T) {
	ctx := context.Background()
	prefix := uniquePrefix()
	c := memcache.New(serverAddr(t))
	t.Cleanup(func() { _ = c.Close() })
	s, err := memcachestore.New(c, memcachestore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("k", 250-len(prefix))
	t.Cleanup(func() { _ = s.Delete(context.Background(), key) })
	r := rec("", time.Hour)
	r.Owner = "owner"
	r.Data = make([]byte, s.MaxDataSize(len(r.Owner)))
	_, _ = rand.Read(r.Data)
	if _, err := s.Save(ctx, key, r); err != nil {
		t.Fatalf("item of exactly MaxItemSize with a %d-byte key: %v", len(prefix)+len(key), err)
	}
	got, err := s.Load(ctx, key)
	if err != nil || len(got.Data) != len(r.Data) {
		t.Fatalf("Load: %d bytes, %v", len(got.Data), err)
	}
	r.Data = append(r.Data, 0)
	r.Version = got.Version
	if _, err := s.Save(ctx, key, r); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("one byte more: err = %v, want ErrTooLarge", err)
	}
}
