package noopstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/noopstore"
)

func rec(version uint64) session.Record {
	return session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Version: version, Owner: "o"}
}

func TestKeepsNothing(t *testing.T) {
	ctx := context.Background()
	s := noopstore.New()
	v, err := s.Save(ctx, "k", rec(0))
	if err != nil || v == 0 {
		t.Fatalf("Save = %d, %v; want a non-zero version", v, err)
	}
	if _, err := s.Load(ctx, "k"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after Save: err = %v, want ErrNotFound", err)
	}
	// Any version is accepted, and each Save returns a new one.
	v2, err := s.Save(ctx, "k", rec(12345))
	if err != nil || v2 == 0 || v2 == v {
		t.Fatalf("second Save = %d, %v; want a fresh non-zero version (first %d)", v2, err, v)
	}
	v3, err := s.Save(ctx, "k", rec(v2))
	if err != nil || v3 == v2 {
		t.Fatalf("Save with the current version = %d, %v; want a version other than %d", v3, err, v2)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Delete(ctx, "never-saved"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if !session.IsUnconditional(s) {
		t.Fatal("noopstore must declare session.Unconditional")
	}
}

func TestZeroValueUsable(t *testing.T) {
	var s noopstore.Store
	if v, err := s.Save(context.Background(), "k", rec(0)); err != nil || v == 0 {
		t.Fatalf("Save on the zero Store = %d, %v", v, err)
	}
}

func TestHonoursContext(t *testing.T) {
	s := noopstore.New()
	for _, tc := range []struct {
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, context.DeadlineExceeded},
	} {
		ctx, cancel := tc.ctx()
		cancel()
		if _, err := s.Load(ctx, "k"); !errors.Is(err, tc.want) {
			t.Errorf("Load: %v, want %v", err, tc.want)
		}
		if v, err := s.Save(ctx, "k", rec(0)); !errors.Is(err, tc.want) || v != 0 {
			t.Errorf("Save: %d, %v, want 0, %v", v, err, tc.want)
		}
		if err := s.Delete(ctx, "k"); !errors.Is(err, tc.want) {
			t.Errorf("Delete: %v, want %v", err, tc.want)
		}
	}
}

func TestConcurrentSavesGetDistinctVersions(t *testing.T) {
	s := noopstore.New()
	const workers, each = 8, 100
	var (
		mu   sync.Mutex
		seen = map[uint64]bool{}
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				v, err := s.Save(context.Background(), "k", rec(0))
				mu.Lock()
				if err != nil || v == 0 || seen[v] {
					t.Errorf("Save = %d, %v (seen before: %v)", v, err, seen[v])
				}
				seen[v] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct versions, want %d", len(seen), workers*each)
	}
}
