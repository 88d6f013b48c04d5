package filestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/storetest"
)

// TestSymlinksNeverFollowed: a symbolic link planted in the store's
// directory, under a key's name or as an owner directory, is never
// followed: Load, Touch and Save refuse it with ErrCorrupt and show no byte
// of its target, Iterate skips it, GC and OwnerKeys never remove or create
// anything outside the directory.
func TestSymlinksNeverFollowed(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	// A valid session file of another store, and a secret, outside.
	other := newStore(t, filestore.Options{Dir: filepath.Join(outside, "other")})
	victimKey := storetest.Key()
	past := time.Now().Add(-time.Hour)
	for key, expiry := range map[string]time.Time{victimKey: time.Now().Add(time.Hour), "expired": past} {
		if _, err := other.Save(ctx, key, session.Record{Data: []byte("OTHER-STORE-DATA"), Expiry: expiry}); err != nil {
			t.Fatal(err)
		}
	}
	expiredVictim := filepath.Join(other.Dir(), "expired")
	if err := os.Chtimes(expiredVictim, past, past); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("SKFS-TOPSECRET-BYTES-0123456789-0123456789-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := newStore(t, filestore.Options{Prefix: filestore.PHPPrefix})
	link := func(key, target string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(s.Dir(), filestore.PHPPrefix+key)); err != nil {
			t.Fatal(err)
		}
	}
	toRecord, toSecret, toExpired, dangling := storetest.Key(), storetest.Key(), storetest.Key(), storetest.Key()
	link(toRecord, filepath.Join(other.Dir(), victimKey))
	link(toSecret, secret)
	link(toExpired, expiredVictim)
	link(dangling, filepath.Join(outside, "created-through-a-link"))

	for _, key := range []string{toRecord, toSecret, toExpired, dangling} {
		rec, err := s.Load(ctx, key)
		if !errors.Is(err, session.ErrCorrupt) {
			t.Errorf("Load through a link = %q, %v; want ErrCorrupt", rec.Data, err)
		}
		if err != nil && strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("Load error shows bytes of the link's target: %v", err)
		}
		if err := s.Touch(ctx, key, time.Now().Add(time.Hour)); !errors.Is(err, session.ErrCorrupt) {
			t.Errorf("Touch through a link: %v, want ErrCorrupt", err)
		}
		if _, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrCorrupt) {
			t.Errorf("Save over a link: %v, want ErrCorrupt", err)
		}
	}
	err := s.Iterate(ctx, func(key string, _ session.Record) bool {
		t.Errorf("Iterate followed a link: %s", key)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GCBatch(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CountExpired(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{expiredVictim, secret, filepath.Join(other.Dir(), victimKey)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a file outside the store is gone: %v", err)
		}
	}
	if _, err := os.Lstat(filepath.Join(outside, "created-through-a-link")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was created through a dangling link: %v", err)
	}
	// Delete removes the link, never its target.
	if err := s.Delete(ctx, toSecret); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(secret); err != nil {
		t.Errorf("Delete of a link removed its target: %v", err)
	}

	// An owner directory planted as a link to a directory outside: the
	// index neither lists, creates nor removes anything there.
	owner := "mallory"
	sum := sha256.Sum256([]byte(owner))
	ownerDir := filepath.Join(s.Dir(), ".owners", hex.EncodeToString(sum[:16]))
	if err := os.MkdirAll(filepath.Dir(ownerDir), 0o700); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(outside, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o700); err != nil {
		t.Fatal(err)
	}
	planted := storetest.Key()
	if err := os.WriteFile(filepath.Join(elsewhere, filestore.PHPPrefix+planted), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, ownerDir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, storetest.Key(), session.Record{Data: []byte("x"), Owner: owner, Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrCorrupt) {
		t.Errorf("Save with an owner whose index directory is a link: %v, want ErrCorrupt", err)
	}
	if keys, err := s.OwnerKeys(ctx, owner); !errors.Is(err, session.ErrCorrupt) {
		t.Errorf("OwnerKeys through a linked directory = %v, %v; want ErrCorrupt", keys, err)
	}
	entries, err := os.ReadDir(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{filestore.PHPPrefix + planted}) {
		t.Errorf("the directory outside was changed through the owner index: %v", names)
	}
}
