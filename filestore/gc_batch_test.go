package filestore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

// testClock is a settable clock for Options.Now.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// saveMany saves n records named prefix00.. expiring ttl after now.
func saveMany(t *testing.T, s *filestore.Store, prefix string, n int, now time.Time, ttl time.Duration) {
	t.Helper()
	for i := range n {
		rec := session.Record{Data: []byte(prefix), Expiry: now.Add(ttl), Owner: "o"}
		if _, err := s.Save(context.Background(), fmt.Sprintf("%s%02d", prefix, i), rec); err != nil {
			t.Fatal(err)
		}
	}
}

// GCBatch removes at most limit files per call, however many entries that
// takes (the directory is read 5 entries at a time here), and its first
// short batch means nothing expired is left; owner markers go with the files.
func TestGCBatchRemovesAtMostLimit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{GCBatch: 5})
	now := time.Now()
	saveMany(t, s, "dead", 23, now, -time.Minute)
	saveMany(t, s, "live", 6, now, time.Hour)
	var got []int
	for {
		n, err := s.GCBatch(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n < 4 || len(got) > 20 {
			break
		}
	}
	if want := []int{4, 4, 4, 4, 4, 3}; !slices.Equal(got, want) {
		t.Fatalf("GCBatch(4) calls removed %v, want %v", got, want)
	}
	if n := countFiles(t, s.Dir()); n != 6 {
		t.Fatalf("%d files left, want the 6 live ones", n)
	}
	markers, err := filepath.Glob(filepath.Join(s.Dir(), ".owners", "*", "*"))
	if err != nil || len(markers) != 6 {
		t.Fatalf("%d owner markers left, want 6 (%v)", len(markers), err)
	}
	if n, err := s.GCBatch(ctx, 4); err != nil || n != 0 {
		t.Fatalf("GCBatch with nothing expired = %d, %v", n, err)
	}
}

// A GCBatch that resumes in the middle of a pass and reaches the end of the
// directory goes on from its start, so files that expired behind the
// position are removed in the same call and a short count means none is
// left.
func TestGCBatchWrapsAround(t *testing.T) {
	ctx := context.Background()
	clk := newTestClock()
	s := newStore(t, filestore.Options{GCBatch: 8, Now: clk.Now})
	saveMany(t, s, "dead", 30, clk.Now(), -time.Minute)
	saveMany(t, s, "late", 40, clk.Now(), time.Hour)
	for range 15 { // stop in the middle of a pass, with live files behind
		if n, err := s.GCBatch(ctx, 1); err != nil || n != 1 {
			t.Fatalf("GCBatch(1) = %d, %v", n, err)
		}
	}
	clk.Add(2 * time.Hour) // now the 40 behind and ahead are expired too
	if n, err := s.GCBatch(ctx, 1000); err != nil || n != 55 {
		t.Fatalf("GCBatch(1000) after the clock moved = %d, %v; want the 15 dead + 40 late left", n, err)
	}
	if n := countFiles(t, s.Dir()); n != 0 {
		t.Fatalf("%d session files left, want none", n)
	}
}

func TestGCBatchRefusesBadLimit(t *testing.T) {
	s := newStore(t, filestore.Options{})
	saveMany(t, s, "dead", 2, time.Now(), -time.Minute)
	for _, limit := range []int{0, -3} {
		n, err := s.GCBatch(context.Background(), limit)
		if err == nil || n != 0 || !strings.Contains(err.Error(), "positive") {
			t.Fatalf("GCBatch(%d) = %d, %v; want an error saying the limit must be positive", limit, n, err)
		}
	}
	if n := countFiles(t, s.Dir()); n != 2 {
		t.Fatalf("a refused GCBatch removed files: %d left of 2", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GCBatch(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("GCBatch with a cancelled context: %v", err)
	}
	if _, err := s.CountExpired(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("CountExpired with a cancelled context: %v", err)
	}
}

// CountExpired counts exactly what GC removes: expired files and damaged
// files past their modification time; not live files, not a file whose
// modification time was set back while its header says live, not temporary
// files.
func TestCountExpiredMatchesGC(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	dir := s.Dir()
	now := time.Now()
	saveMany(t, s, "dead", 7, now, -time.Minute)
	saveMany(t, s, "live", 3, now, time.Hour)
	past := now.Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "live00"), past, past); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "damaged")
	tmp := filepath.Join(dir, fmt.Sprintf(".tmp-%x-1", now.UnixNano()))
	for _, p := range []string{bad, tmp} {
		if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.CountExpired(ctx)
	if err != nil || n != 8 {
		t.Fatalf("CountExpired = %d, %v; want 7 expired + 1 damaged", n, err)
	}
	removed, err := session.New(s).GCBatches(ctx, 3, nil)
	if err != nil || removed != n {
		t.Fatalf("GCBatches removed %d, %v; CountExpired said %d", removed, err, n)
	}
	if n, err := s.CountExpired(ctx); err != nil || n != 0 {
		t.Fatalf("CountExpired after GC = %d, %v; want 0", n, err)
	}
	if _, err := s.Load(ctx, "live00"); err != nil {
		t.Fatalf("the live file with an old mtime: %v", err)
	}
}

// Manager.GCBatches drives GCBatch and reports the running total.
func TestGCBatchesThroughManager(t *testing.T) {
	s := newStore(t, filestore.Options{})
	saveMany(t, s, "dead", 10, time.Now(), -time.Minute)
	var progress []int
	n, err := session.New(s).GCBatches(context.Background(), 4, func(removed int) { progress = append(progress, removed) })
	if err != nil || n != 10 {
		t.Fatalf("GCBatches = %d, %v; want 10", n, err)
	}
	if want := []int{4, 8, 10}; !slices.Equal(progress, want) {
		t.Fatalf("progress %v, want %v", progress, want)
	}
}
