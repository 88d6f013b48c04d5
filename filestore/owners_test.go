package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

func markers(t *testing.T, s *filestore.Store) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(s.Dir(), ".owners", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	slices.Sort(m)
	return m
}

// The index is kept exact by Save and Delete, and stale markers left by
// expiry are pruned by OwnerKeys, along with empty owner directories.
func TestOwnerIndexMarkers(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{Prefix: filestore.PHPPrefix})
	save := func(key, owner string, ttl time.Duration, version uint64) uint64 {
		t.Helper()
		v, err := s.Save(ctx, key, session.Record{Data: []byte(key), Owner: owner, Expiry: time.Now().Add(ttl), Version: version})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	va := save("a", "alice", time.Hour, 0)
	save("b", "alice", time.Hour, 0)
	save("c", "bob", 300*time.Millisecond, 0)
	if got, want := markers(t, s), []string{"sess_a", "sess_b", "sess_c"}; !slices.Equal(got, want) {
		t.Fatalf("markers %v, want %v", got, want)
	}
	// Owner change moves the marker; no owner removes it.
	va = save("a", "bob", time.Hour, va)
	keys, _ := s.OwnerKeys(ctx, "alice")
	if !slices.Equal(keys, []string{"b"}) {
		t.Fatalf("alice: %v", keys)
	}
	save("a", "", time.Hour, va)
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got, want := markers(t, s), []string{"sess_c"}; !slices.Equal(got, want) {
		t.Fatalf("markers %v, want %v", got, want)
	}
	// Expiry: c's marker stays until OwnerKeys finds it stale.
	for {
		if _, err := s.Load(ctx, "c"); err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // waiting for the clock
	}
	keys, err := s.OwnerKeys(ctx, "bob")
	if err != nil || len(keys) != 0 {
		t.Fatalf("bob after expiry: %v, %v", keys, err)
	}
	if got := markers(t, s); len(got) != 0 {
		t.Fatalf("stale markers not pruned: %v", got)
	}
	owners, err := os.ReadDir(filepath.Join(s.Dir(), ".owners"))
	if err != nil || len(owners) != 0 {
		t.Fatalf("owner directories left: %v, %v", owners, err)
	}
}
