package filestore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Type().IsRegular() {
			n++
		}
	}
	return n
}

// GC examines at most GCBatch entries per call and resumes where it
// stopped, so repeated calls remove everything expired and nothing live.
func TestGCBoundedAndResuming(t *testing.T) {
	ctx := context.Background()
	const batch = 7
	s := newStore(t, filestore.Options{GCBatch: batch})
	const expired, live = 40, 15
	for i := range expired {
		rec := session.Record{Data: []byte("dead"), Expiry: time.Now().Add(-time.Minute), Owner: "o"}
		if _, err := s.Save(ctx, fmt.Sprintf("dead%02d", i), rec); err != nil {
			t.Fatal(err)
		}
	}
	for i := range live {
		rec := session.Record{Data: []byte("live"), Expiry: time.Now().Add(time.Hour), Owner: "o"}
		if _, err := s.Save(ctx, fmt.Sprintf("live%02d", i), rec); err != nil {
			t.Fatal(err)
		}
	}
	// Entries: the files, .locks and .owners.
	entries := expired + live + 2
	total, calls := 0, 0
	for calls = 1; calls <= 2*entries; calls++ {
		n, err := s.GC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n > batch {
			t.Fatalf("GC call %d removed %d files, more than its batch of %d", calls, n, batch)
		}
		total += n
		if total == expired {
			break
		}
	}
	if total != expired {
		t.Fatalf("GC removed %d files in %d calls, want %d", total, calls, expired)
	}
	if min := (expired + batch - 1) / batch; calls < min {
		t.Fatalf("GC removed %d files in %d calls, cannot be fewer than %d with a batch of %d", total, calls, min, batch)
	}
	if got := countFiles(t, s.Dir()); got != live {
		t.Fatalf("%d files left, want the %d live ones", got, live)
	}
	keys, err := s.OwnerKeys(ctx, "o")
	if err != nil || len(keys) != live {
		t.Fatalf("OwnerKeys after GC: %d keys, %v; want %d", len(keys), err, live)
	}
	markers, err := filepath.Glob(filepath.Join(s.Dir(), ".owners", "*", "*"))
	if err != nil || len(markers) != live {
		t.Fatalf("GC left %d owner markers, want %d (%v)", len(markers), live, err)
	}
}

// A damaged file is removed once its modification time has passed, and a
// crashed writer's temporary file once it is old enough.
func TestGCRemovesDamagedAndStaleTemp(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{TempMaxAge: time.Minute})
	dir := s.Dir()
	past := time.Now().Add(-time.Hour)
	bad := filepath.Join(dir, "bad")
	oldTemp := filepath.Join(dir, fmt.Sprintf(".tmp-%x-123", past.UnixNano()))
	newTemp := filepath.Join(dir, fmt.Sprintf(".tmp-%x-456", time.Now().UnixNano()))
	for _, p := range []string{bad, oldTemp, newTemp} {
		if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(bad, past, past); err != nil {
		t.Fatal(err)
	}
	n, err := s.GC(ctx)
	if err != nil || n != 1 {
		t.Fatalf("GC = %d, %v; want 1", n, err)
	}
	for p, want := range map[string]bool{bad: false, oldTemp: false, newTemp: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// A file whose modification time was set back by hand but whose header
// says it is live is not collected.
func TestGCTrustsHeaderOverMtime(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(s.Dir(), "k"), past, past); err != nil {
		t.Fatal(err)
	}
	if n, err := s.GC(ctx); err != nil || n != 0 {
		t.Fatalf("GC = %d, %v; want 0", n, err)
	}
	if _, err := s.Load(ctx, "k"); err != nil {
		t.Fatal(err)
	}
}

func TestGCHonoursContext(t *testing.T) {
	s := newStore(t, filestore.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GC(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("GC: %v", err)
	}
}
