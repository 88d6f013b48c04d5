package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/testenv"
	"github.com/sessionkit/session/filestore"
)

// TestShowNeverFollowsLinks: "sessionctl show" on a files store whose
// directory holds a symbolic link under a key's name, pointing at a valid
// session file outside the store, fails without printing a byte of it.
func TestShowNeverFollowsLinks(t *testing.T) {
	outside, err := filestore.New(filestore.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	victim := randomID()
	rec := session.Record{Data: []byte("TOPSECRET-outside-the-store"), Expiry: time.Now().Add(time.Hour)}
	if _, err := outside.Save(context.Background(), victim, rec); err != nil {
		t.Fatal(err)
	}
	storeURL := testenv.Files(t) + "?raw_ids=true"
	dir := strings.TrimPrefix(strings.SplitN(storeURL, "?", 2)[0], "file://")
	key := randomID()
	if err := os.Symlink(filepath.Join(outside.Dir(), victim), filepath.Join(dir, key)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", "--hex", key}, {"show", "--json", "--hex", key}, {"ls"}} {
		r := ctl(t, append([]string{"--store", storeURL}, args...)...)
		if strings.Contains(r.stdout+r.stderr, "TOPSECRET") || strings.Contains(r.stdout+r.stderr, "544f50534543524554") {
			t.Errorf("sessionctl %s prints the file outside the store:\n%s%s", args[0], r.stdout, r.stderr)
		}
		if args[0] == "show" && r.code == exitOK {
			t.Errorf("sessionctl show of a link: exit 0\n%s", r.stdout)
		}
	}
}
