package filestore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/storetest"
)

func newStore(t *testing.T, opts filestore.Options) *filestore.Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := filestore.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	s := newStore(t, filestore.Options{})
	storetest.Run(t, s, storetest.Config{
		// PHP's own session file where a record of this store belongs.
		Corrupt: func(_ context.Context, key string) error {
			return os.WriteFile(filepath.Join(s.Dir(), key), []byte(`user|s:5:"alice";`), 0o600)
		},
	})
}

func TestConformancePHPPrefixFsync(t *testing.T) {
	storetest.Run(t, newStore(t, filestore.Options{Prefix: filestore.PHPPrefix, Fsync: true}), storetest.Config{})
}

// PHP-style raw IDs (Phalcon compatibility mode) are valid keys.
func TestConformancePHPKeys(t *testing.T) {
	storetest.Run(t, newStore(t, filestore.Options{}), storetest.Config{NewKey: func() string {
		return "a,b-" + storetest.Key()[:28]
	}})
}

func TestFileNameIsPrefixPlusKey(t *testing.T) {
	ctx := context.Background()
	for _, prefix := range []string{"", filestore.PHPPrefix} {
		s := newStore(t, filestore.Options{Prefix: prefix})
		if _, err := s.Save(ctx, "abc123", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(s.Dir(), prefix+"abc123"))
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
		}
	}
}

// The modification time of a file is its record's expiry, so GC (and
// operators) can judge files with a stat.
func TestModTimeIsExpiry(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	exp := time.Now().Add(90 * time.Minute).Round(time.Millisecond)
	v, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: exp})
	if err != nil {
		t.Fatal(err)
	}
	check := func(want time.Time) {
		t.Helper()
		fi, err := os.Stat(filepath.Join(s.Dir(), "k"))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(want) {
			t.Fatalf("mtime %v, want %v", fi.ModTime(), want)
		}
	}
	check(exp)
	later := exp.Add(time.Hour)
	if err := s.Touch(ctx, "k", later); err != nil {
		t.Fatal(err)
	}
	check(later)
	rec, err := s.Load(ctx, "k")
	if err != nil || rec.Version != v {
		t.Fatalf("after Touch: version %d, %v; want %d", rec.Version, err, v)
	}
}

func TestLargeRecords(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	for _, n := range []int{1 << 20, 8 << 20} {
		data := make([]byte, n)
		_, _ = rand.Read(data)
		v, err := s.Save(ctx, "big", session.Record{Data: data, Expiry: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		rec, err := s.Load(ctx, "big")
		if err != nil || !bytes.Equal(rec.Data, data) || rec.Version != v {
			t.Fatalf("%d bytes: came back as %d bytes, version %d (want %d), %v", n, len(rec.Data), rec.Version, v, err)
		}
		if err := s.Delete(ctx, "big"); err != nil {
			t.Fatal(err)
		}
	}
}

// A save that is refused leaves the stored record as it was and leaves no
// temporary file behind.
func TestRefusedSaveChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	v, err := s.Save(ctx, "k", session.Record{Data: []byte("kept"), Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	huge := string(make([]byte, 1<<16+1))
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("new"), Owner: huge, Version: v, Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("owner of 64 KiB + 1: err = %v, want ErrTooLarge", err)
	}
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("stale"), Version: v + 1, Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("stale version: err = %v, want ErrConflict", err)
	}
	rec, err := s.Load(ctx, "k")
	if err != nil || string(rec.Data) != "kept" || rec.Version != v {
		t.Fatalf("record changed: %q version %d, %v", rec.Data, rec.Version, err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); name != "k" && name != ".locks" {
			t.Errorf("unexpected entry %q in the directory", name)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	if _, err := filestore.New(filestore.Options{}); err == nil {
		t.Error("New with no Dir: no error")
	}
	for _, p := range []string{"../", "a/b", "sess.", "x y", strings.Repeat("p", 255)} {
		if _, err := filestore.New(filestore.Options{Dir: t.TempDir(), Prefix: p}); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("prefix %.20q: err = %v, want ErrInvalidKey", p, err)
		}
	}
	for name, opts := range map[string]filestore.Options{
		"GCBatch":    {Dir: t.TempDir(), GCBatch: -1},
		"TempMaxAge": {Dir: t.TempDir(), TempMaxAge: -time.Second},
	} {
		if s, err := filestore.New(opts); err == nil || s != nil || !strings.Contains(err.Error(), name) {
			t.Errorf("negative %s: New = %v, %v; want an error naming it", name, s, err)
		}
	}
}

// TestNowOption: expiry is judged, and Modified set, by Options.Now.
func TestNowOption(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := now
	s := newStore(t, filestore.Options{Now: func() time.Time { return clock }})
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load(ctx, "k"); err != nil || !rec.Modified.Equal(now) {
		t.Fatalf("Load = %+v, %v; want Modified %v", rec, err, now)
	}
	clock = now.Add(time.Hour)
	if _, err := s.Load(ctx, "k"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("an hour later by Options.Now: %v, want ErrNotFound", err)
	}
}
