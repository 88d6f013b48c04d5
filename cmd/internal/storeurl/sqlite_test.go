package storeurl

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// TestSQLitePragmas checks that SQLite connections wait for locks
// (busy_timeout) and use WAL, and that read-only connections are read-only
// and leave the journal mode alone.
func TestSQLitePragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	ctx := context.Background()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	rw, err := sql.Open("sqlite", sqliteDSN(path, url.Values{}, sqliteCreate))
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if got := pragma(rw, "busy_timeout"); got != "5000" {
		t.Errorf("busy_timeout %s, want 5000", got)
	}
	if got := pragma(rw, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode %s, want wal", got)
	}
	if _, err := rw.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", sqliteDSN(path, url.Values{}, sqliteReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := pragma(ro, "busy_timeout"); got != "5000" {
		t.Errorf("read-only: busy_timeout %s, want 5000", got)
	}
	if _, err := ro.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("insert through a read-only connection: %v, want a read-only error", err)
	}
	if dsn := sqliteDSN(path, url.Values{}, sqliteReadOnly); strings.Contains(dsn, "journal_mode") || !strings.Contains(dsn, "mode=ro") {
		t.Errorf("read-only DSN %q", dsn)
	}
}

// TestSQLiteFiles checks which opens create a SQLite file: Setup and
// SchemaOnly do (with its directory), the others fail on a missing file
// with ErrNoDatabase and create nothing; ReadOnly gives a store that
// cannot write.
func TestSQLiteFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "sub")
	u := "sqlite://" + filepath.Join(dir, "s.db")
	for _, o := range []Options{{}, {ReadOnly: true}} {
		_, err := Open(ctx, u, o)
		if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "no such database") {
			t.Errorf("Open(%+v) of a missing file: %v, want ErrNoDatabase", o, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open(%+v) of a missing file created %s", o, dir)
		}
	}
	tgt, err := Open(ctx, u, Options{Setup: true})
	if err != nil {
		t.Fatalf("Open with Setup: %v", err)
	}
	tgt.Close()
	ro, err := Open(ctx, u, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open read-only: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Store.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err == nil {
		t.Errorf("Save through a read-only store succeeded")
	}
	if _, err := ro.Store.Load(ctx, "k"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load through a read-only store: %v, want ErrNotFound", err)
	}
}

// TestSchemaErrors checks the messages for a table that does not fit the
// URL: what is wrong and the sessionctl command that fixes it, once, and
// no Go names.
func TestSchemaErrors(t *testing.T) {
	ctx := context.Background()
	base := "sqlite://" + filepath.Join(t.TempDir(), "s.db")
	tgt, err := Open(ctx, base+"?table=other", Options{Setup: true}) // creates the file
	if err != nil {
		t.Fatal(err)
	}
	tgt.Close()
	for _, c := range []struct{ setup, url, want string }{
		{"", base, "no such table (create it with: sessionctl migrate)"},
		{"", base + "?layout=compat", "no such table (create it with: sessionctl migrate --layout compat)"},
		{base + "?table=c&layout=compat", base + "?table=c", "the table is in the compatibility layout (add layout=compat to the URL, or upgrade it with: sessionctl migrate --upgrade native)"},
		{base + "?table=n", base + "?table=n&layout=compat", "the table is in the native layout (remove layout=compat from the URL)"},
	} {
		if c.setup != "" {
			tgt, err := Open(ctx, c.setup, Options{Setup: true})
			if err != nil {
				t.Fatal(err)
			}
			tgt.Close()
		}
		_, err := Open(ctx, c.url, Options{})
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("Open(%s): %v, want an error ending %q", c.url, err, c.want)
			continue
		}
		if strings.Count(err.Error(), "create it with") > 1 || strings.Contains(err.Error(), "sqlstore") || strings.Contains(err.Error(), "CreateSchema") {
			t.Errorf("Open(%s): %v", c.url, err)
		}
	}
}
