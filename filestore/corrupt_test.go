package filestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

// validFile saves a record and returns the file's bytes.
func validFile(t testing.TB, s *filestore.Store, key string) []byte {
	t.Helper()
	_, err := s.Save(context.Background(), key, session.Record{
		Data: []byte("some session data"), Owner: "alice",
		Expiry: time.Now().Add(time.Hour), Created: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), key))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorruptFiles(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	good := validFile(t, s, "good")
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name    string
		content []byte
		want    error
		msg     string
	}{
		{"empty", nil, filestore.ErrCorrupt, "shorter than"},
		{"php data", []byte(`foo|s:3:"bar";`), filestore.ErrCorrupt, "shorter than"},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b }), filestore.ErrCorrupt, "bad magic"},
		{"future format", mutate(func(b []byte) []byte { b[4] = 9; return b }), session.ErrUnsupported, "format version 9"},
		{"truncated", good[:len(good)-3], filestore.ErrCorrupt, "declares"},
		{"appended", append(append([]byte(nil), good...), 'x'), filestore.ErrCorrupt, "declares"},
		{"flipped data byte", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), filestore.ErrCorrupt, "checksum"},
		{"flipped expiry", mutate(func(b []byte) []byte { b[20] ^= 1; return b }), filestore.ErrCorrupt, "checksum"},
		{"huge owner length", mutate(func(b []byte) []byte { b[37] = 0xff; return b }), filestore.ErrCorrupt, "owner length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(s.Dir(), "bad")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(ctx, "bad")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), s.Dir()) {
				t.Fatalf("Load: err = %v, want %v mentioning %q and the directory", err, tc.want, tc.msg)
			}
			if strings.Contains(err.Error(), path) {
				t.Fatalf("Load: err = %v names the file by its key", err)
			}
			if !errors.Is(err, session.ErrCorrupt) || !errors.Is(err, filestore.ErrCorrupt) {
				t.Fatalf("Load: err = %v, want session.ErrCorrupt and filestore.ErrCorrupt", err)
			}
			if errors.Is(err, session.ErrNotFound) {
				t.Fatalf("a damaged file must not look like a missing record: %v", err)
			}
			// Iterate skips it without failing.
			seen := map[string]bool{}
			err = s.Iterate(ctx, func(k string, _ session.Record) bool { seen[k] = true; return true })
			if err != nil || !seen["good"] || seen["bad"] {
				t.Fatalf("Iterate: err = %v, saw the good record: %v, the bad one: %v; want nil, true, false", err, seen["good"], seen["bad"])
			}
			// Touch refuses; the file is left for Delete or GC.
			if err := s.Touch(ctx, "bad", time.Now().Add(time.Hour)); !errors.Is(err, session.ErrCorrupt) {
				t.Fatalf("Touch of a damaged file: %v, want session.ErrCorrupt", err)
			}
			if b, _ := os.ReadFile(path); string(b) != string(tc.content) {
				t.Fatal("Touch changed the damaged file")
			}
			if err := s.Delete(ctx, "bad"); err != nil {
				t.Fatalf("Delete of a damaged file: %v", err)
			}
			if _, err := s.Load(ctx, "bad"); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("after Delete: %v", err)
			}
		})
	}
}

// Save refuses to overwrite a file whose header it cannot read, so nothing
// written by another tool (or a newer release) is destroyed by accident.
func TestSaveOverDamagedHeaderRefused(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	path := filepath.Join(s.Dir(), "k")
	content := []byte("not a session file at all, but longer than the header is")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint64{0, 42} {
		_, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Version: version})
		if !errors.Is(err, filestore.ErrCorrupt) || !errors.Is(err, session.ErrCorrupt) {
			t.Fatalf("Save version %d over a damaged file: err = %v, want ErrCorrupt", version, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != string(content) {
		t.Fatalf("the damaged file was changed: %q", b)
	}
}

// A directory where a session file should be is a corrupt record, not an
// I/O failure: Load and Save say so, Iterate and GC skip it.
func TestDirectoryUnderKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	if err := os.Mkdir(filepath.Join(s.Dir(), "k"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, "k"); !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Load: %v, want session.ErrCorrupt", err)
	}
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrCorrupt) {
		t.Fatalf("Save: %v, want session.ErrCorrupt", err)
	}
	if err := s.Iterate(ctx, func(string, session.Record) bool { return true }); err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	if _, err := s.GC(ctx); err != nil {
		t.Fatalf("GC: %v", err)
	}
}

// GC skips a damaged file until its modification time (the expiry, for a
// file this package wrote) has passed, then removes it, never failing.
func TestGCDamagedFiles(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := now
	s := newStore(t, filestore.Options{Now: func() time.Time { return clock }})
	good := validFile(t, s, "good")
	for name, content := range map[string][]byte{
		"garbage":   []byte("not a session file at all, but longer than the header is"),
		"truncated": good[:len(good)-5],
		"empty":     nil,
	} {
		path := filepath.Join(s.Dir(), name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.GC(ctx)
	if err != nil || n != 0 {
		t.Fatalf("GC before the files' mtime = %d, %v; want 0, nil", n, err)
	}
	clock = now.Add(2 * time.Minute)
	if n, err = s.GC(ctx); err != nil || n != 3 {
		t.Fatalf("GC after the files' mtime = %d, %v; want 3 removed", n, err)
	}
	for _, name := range []string{"garbage", "truncated", "empty"} {
		if _, err := os.Stat(filepath.Join(s.Dir(), name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after GC: %v", name, err)
		}
	}
	if _, err := s.Load(ctx, "good"); err != nil {
		t.Fatalf("the good record: %v", err)
	}
}

// Every truncation and every single-bit flip of a valid file is an error,
// never a panic and never a wrong record.
func TestEveryTruncationAndBitFlip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{})
	good := validFile(t, s, "good")
	path := filepath.Join(s.Dir(), "bad")
	try := func(b []byte, what string) {
		t.Helper()
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if rec, err := s.Load(ctx, "bad"); err == nil {
			t.Fatalf("%s: loaded %+v, want an error", what, rec)
		}
	}
	for n := range len(good) {
		try(good[:n], "truncated")
	}
	for i := range len(good) * 8 {
		b := append([]byte(nil), good...)
		b[i/8] ^= 1 << (i % 8)
		try(b, "bit flip")
	}
}

func FuzzLoad(f *testing.F) {
	s, err := filestore.New(filestore.Options{Dir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(validFile(f, s, "corpus"))
	f.Add([]byte("SKFS\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(s.Dir(), "fuzz")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = s.Load(context.Background(), "fuzz")
		_ = s.Touch(context.Background(), "fuzz", time.Now().Add(time.Hour))
	})
}
