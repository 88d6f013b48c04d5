package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// TestSQLiteDSNConcurrentLogins: 200 logins, 20 at a time, through a Manager
// on a SQLite file opened with SQLiteDSN: every one is saved, none fails
// with SQLITE_BUSY.
func TestSQLiteDSNConcurrentLogins(t *testing.T) {
	ctx := ctxT(t)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "app?#%.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	opts := sqlstore.Options{Dialect: sqlstore.SQLite}
	if err := sqlstore.Migrate(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	store, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	m := session.New(store)
	var saveErrs atomic.Int64
	m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		saveErrs.Add(1)
		t.Logf("save failed: %v", err)
		http.Error(w, "session store unavailable", http.StatusInternalServerError)
	}
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		s.Set("user", r.URL.Query().Get("user"))
		_, _ = w.Write([]byte("ok"))
	})))
	t.Cleanup(srv.Close)

	const logins, parallel = 200, 20
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		next   = make(chan int)
	)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/login?user=u%d", srv.URL, i), nil)
				resp, err := srv.Client().Do(req)
				if err != nil {
					failed.Add(1)
					t.Errorf("login %d: %v", i, err)
					continue
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	for i := range logins {
		next <- i
	}
	close(next)
	wg.Wait()
	if n := failed.Load(); n != 0 || saveErrs.Load() != 0 {
		t.Fatalf("%d of %d logins failed (%d save errors), want 0", n, logins, saveErrs.Load())
	}
	var rows int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM session_data").Scan(&rows); err != nil || rows != logins {
		t.Fatalf("%d sessions stored, %v; want %d", rows, err, logins)
	}
}

// TestSQLiteNeedsBusyTimeout: New and NewCompat refuse a database opened
// without busy_timeout, with an error that says how to open it.
func TestSQLiteNeedsBusyTimeout(t *testing.T) {
	ctx := ctxT(t)
	path := filepath.Join(t.TempDir(), "app.db")
	bare, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bare.Close() })
	for _, l := range []sqlstore.Layout{sqlstore.Native, sqlstore.Compatibility} {
		opts := sqlstore.Options{Dialect: sqlstore.SQLite, Layout: l, Table: "t_" + strings.ToLower(l.String())}
		if err := sqlstore.CreateSchema(ctx, bare, opts); err != nil {
			t.Fatal(err)
		}
		if l == sqlstore.Native {
			_, err = sqlstore.New(ctx, bare, opts)
		} else {
			_, err = sqlstore.NewCompat(ctx, bare, opts)
		}
		if err == nil || !strings.Contains(err.Error(), "busy_timeout") || !strings.Contains(err.Error(), "SQLiteDSN") {
			t.Fatalf("%v on a DSN without busy_timeout: err = %v, want one naming busy_timeout and SQLiteDSN", l, err)
		}
		if errors.Is(err, sqlstore.ErrSchema) {
			t.Fatalf("%v: err = %v is not a schema problem", l, err)
		}
	}
	good, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = good.Close() })
	var timeout int
	if err := good.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 5000 {
		t.Fatalf("busy_timeout through SQLiteDSN = %d, %v; want 5000", timeout, err)
	}
	s, err := sqlstore.New(ctx, good, sqlstore.Options{Dialect: sqlstore.SQLite, Table: "t_native"})
	if err != nil {
		t.Fatalf("New through SQLiteDSN: %v", err)
	}
	_ = s.Close()
}
