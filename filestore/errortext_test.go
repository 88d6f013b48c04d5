package filestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/storetest"
)

// TestErrorsNameNoKey: with raw IDs a store key is a session ID, so no
// error names a file by its key: a damaged file, a name that is a
// directory, a symbolic link, a Delete or Save that fails in the file
// system. The errors name the record by a short hash instead.
func TestErrorsNameNoKey(t *testing.T) {
	ctx := context.Background()
	for _, prefix := range []string{"", filestore.PHPPrefix} {
		s := newStore(t, filestore.Options{Prefix: prefix})
		path := func(key string) string { return filepath.Join(s.Dir(), prefix+key) }
		var errs []error
		check := func(key string, err error) {
			t.Helper()
			if err == nil {
				t.Errorf("prefix %q: no error", prefix)
				return
			}
			errs = append(errs, err)
			if strings.Contains(err.Error(), key) {
				t.Errorf("prefix %q: error names the key: %v", prefix, err)
			}
		}
		rec := session.Record{Data: []byte("x"), Owner: "o", Expiry: time.Now().Add(time.Hour)}

		damaged := storetest.Key()
		if err := os.WriteFile(path(damaged), []byte("PHP session data, not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx, damaged)
		check(damaged, err)
		check(damaged, s.Touch(ctx, damaged, time.Now().Add(time.Hour)))
		_, err = s.Save(ctx, damaged, rec)
		check(damaged, err)

		// A non-empty directory under a key's name: Load, Save and Delete
		// fail in the file system.
		dir := storetest.Key()
		if err := os.MkdirAll(filepath.Join(path(dir), "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, err = s.Load(ctx, dir)
		check(dir, err)
		_, err = s.Save(ctx, dir, rec)
		check(dir, err)
		check(dir, s.Delete(ctx, dir))

		// An invalid key is not echoed either.
		bad := storetest.Key() + "."
		_, err = s.Load(ctx, bad)
		check(bad, err)

		for _, err := range errs {
			if !strings.Contains(err.Error(), "sha256:") {
				t.Errorf("prefix %q: error does not name the record by its hash: %v", prefix, err)
			}
		}
	}
}
