package filestore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/storetest"
)

// nearOwners are owners that a lossy lookup (case folding, accent folding,
// trailing-space padding, LIKE or glob wildcards, path encoding) would
// confuse with one another.
func nearOwners() []string {
	return []string{
		"a", "a ", " a", "A", "á", "a%", "a_", "a*", "a?", "{a}", "a\x00",
		"a/", "a/..", ".", "..", "%61", strings.Repeat("a", 10<<10),
	}
}

// TestOwnerKeysExact: OwnerKeys returns the records of the owner that is
// byte for byte the one asked for, and no other, for owners that differ by
// case, accents, trailing or leading spaces, wildcards or a NUL byte.
func TestOwnerKeysExact(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{Prefix: filestore.PHPPrefix})
	keyOf := map[string]string{}
	for _, owner := range nearOwners() {
		key := storetest.Key()
		keyOf[owner] = key
		rec := session.Record{Data: []byte("x"), Owner: owner, Expiry: time.Now().Add(time.Hour)}
		if _, err := s.Save(ctx, key, rec); err != nil {
			t.Fatalf("Save for owner %q: %v", clipOwner(owner), err)
		}
	}
	for _, owner := range nearOwners() {
		keys, err := s.OwnerKeys(ctx, owner)
		if err != nil || !slices.Equal(keys, []string{keyOf[owner]}) {
			t.Errorf("OwnerKeys(%q) = %v, %v; want only [%s]", clipOwner(owner), keys, err, keyOf[owner])
		}
	}
	// An owner the store cannot hold is refused, never matched to another.
	huge := strings.Repeat("a", 1<<17)
	if _, err := s.Save(ctx, storetest.Key(), session.Record{Owner: huge, Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("Save with a 128 KiB owner: %v, want ErrTooLarge", err)
	}
	if keys, err := s.OwnerKeys(ctx, huge); !errors.Is(err, session.ErrTooLarge) {
		t.Errorf("OwnerKeys of a 128 KiB owner = %v, %v; want ErrTooLarge", keys, err)
	}
}

func clipOwner(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
