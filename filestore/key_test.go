package filestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

// tree lists every path under root.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func TestKeysCannotEscapeTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sessions")
	// A file an attacker would like to overwrite or read, next to the
	// session directory.
	victim := filepath.Join(parent, "victim")
	if err := os.WriteFile(victim, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, prefix := range []string{"", filestore.PHPPrefix} {
		s, err := filestore.New(filestore.Options{Dir: dir, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		before := tree(t, parent)
		bad := []string{
			"", ".", "..", "../victim", "../../etc/passwd", "/etc/passwd", "a/b",
			`..\victim`, `a\b`, "a\x00b", "victim\x00", ".hidden", ".locks", ".owners",
			"a b", "a\nb", "a:b", "é", "%2e%2e%2fvictim", "~", "*", "a.b",
			strings.Repeat("a", 256), strings.Repeat("a", 256-len(prefix)),
		}
		rec := session.Record{Data: []byte("pwned"), Expiry: time.Now().Add(time.Hour), Owner: "o"}
		for _, k := range bad {
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, session.ErrInvalidKey) {
					t.Errorf("prefix %q: %s(%q): err = %v, want ErrInvalidKey", prefix, op, k, err)
				}
			}
			_, err := s.Load(ctx, k)
			check("Load", err)
			_, err = s.Save(ctx, k, rec)
			check("Save", err)
			rec.Version = 1
			_, err = s.Save(ctx, k, rec)
			check("Save(version 1)", err)
			rec.Version = 0
			check("Delete", s.Delete(ctx, k))
			check("Touch", s.Touch(ctx, k, time.Now().Add(time.Hour)))
		}
		if after := tree(t, parent); !slices.Equal(before, after) {
			t.Fatalf("prefix %q: invalid keys changed the file system:\nbefore %v\nafter  %v", prefix, before, after)
		}
		if b, err := os.ReadFile(victim); err != nil || string(b) != "secret" {
			t.Fatalf("victim file: %q, %v", b, err)
		}
	}
}

// The longest key that fits a file name is accepted.
func TestLongestKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filestore.Options{Prefix: filestore.PHPPrefix})
	k := strings.Repeat("Az09,_-", 40)[:255-len(filestore.PHPPrefix)]
	if _, err := s.Save(ctx, k, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("key of %d bytes: %v", len(k), err)
	}
	if _, err := s.Load(ctx, k); err != nil {
		t.Fatal(err)
	}
}
