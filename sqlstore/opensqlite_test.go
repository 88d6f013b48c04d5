package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
	"github.com/sessionkit/session/storetest"
)

// openSplit opens a SQLite file with OpenSQLite and the native store on it,
// reading through the read pool.
func openSplit(t *testing.T, layout sqlstore.Layout) (*sqlstore.SQLiteDB, sqlstore.Options) {
	t.Helper()
	sdb, err := sqlstore.OpenSQLite("sqlite", filepath.Join(t.TempDir(), "sessions?#%.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sdb.Close() })
	opts := sqlstore.Options{Dialect: sqlstore.SQLite, Layout: layout, ReadDB: sdb.Read}
	if err := sqlstore.Migrate(ctxT(t), sdb.Write, opts); err != nil {
		t.Fatal(err)
	}
	return sdb, opts
}

// TestOpenSQLiteConformance runs the storetest suite on both layouts of a
// database opened with OpenSQLite: writes through the one-connection pool,
// reads through the read-only pool.
func TestOpenSQLiteConformance(t *testing.T) {
	t.Run("native", func(t *testing.T) {
		sdb, opts := openSplit(t, sqlstore.Native)
		s, err := sqlstore.New(ctxT(t), sdb.Write, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		storetest.Run(t, s, storetest.Config{})
		if st := sdb.Write.Stats(); st.MaxOpenConnections != 1 || st.OpenConnections != 1 {
			t.Errorf("write pool: %d open connections of at most %d; want 1 of 1", st.OpenConnections, st.MaxOpenConnections)
		}
	})
	t.Run("compat", func(t *testing.T) {
		sdb, opts := openSplit(t, sqlstore.Compatibility)
		opts.Base64 = true
		opts.MaxLifetime = time.Hour // the suite's records live an hour
		s, err := sqlstore.NewCompat(ctxT(t), sdb.Write, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		storetest.Run(t, s, storetest.Config{NewKey: phpKey, Precision: time.Second})
	})
}

// TestOpenSQLiteReadOnlyPool: the read pool cannot write.
func TestOpenSQLiteReadOnlyPool(t *testing.T) {
	sdb, _ := openSplit(t, sqlstore.Native)
	if _, err := sdb.Read.ExecContext(ctxT(t), "DELETE FROM session_data"); err == nil {
		t.Fatal("the read pool wrote")
	}
	var mode string
	if err := sdb.Read.QueryRowContext(ctxT(t), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestReadDBOnlyOnSQLite: New refuses a read pool on the dialects where it
// would be a lagging replica.
func TestReadDBOnlyOnSQLite(t *testing.T) {
	sdb, _ := openSplit(t, sqlstore.Native)
	for _, d := range []sqlstore.Dialect{sqlstore.MySQL, sqlstore.Postgres} {
		_, err := sqlstore.New(ctxT(t), sdb.Write, sqlstore.Options{Dialect: d, ReadDB: sdb.Read})
		if err == nil || errors.Is(err, sqlstore.ErrSchema) {
			t.Errorf("New on %v with ReadDB: %v, want an options error", d, err)
		}
	}
}

// TestSQLiteWriteBurst: 200 clients at once, 40 of them on one shared
// session, write through a Manager over HTTP, on a store opened with
// OpenSQLite and on one given a single default pool: every request
// succeeds and no update is lost; with OpenSQLite no connection is closed
// during the burst (the pools never open more than their size).
func TestSQLiteWriteBurst(t *testing.T) {
	for _, split := range []bool{true, false} {
		t.Run(fmt.Sprintf("OpenSQLite=%v", split), func(t *testing.T) {
			ctx := ctxT(t)
			var (
				write *sql.DB
				pools []*sql.DB
				opts  = sqlstore.Options{Dialect: sqlstore.SQLite}
			)
			if split {
				sdb, o := openSplit(t, sqlstore.Native)
				write, opts, pools = sdb.Write, o, []*sql.DB{sdb.Write, sdb.Read}
			} else {
				db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "s.db")))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				if err := sqlstore.Migrate(ctx, db, opts); err != nil {
					t.Fatal(err)
				}
				write, pools = db, []*sql.DB{db}
			}
			store, err := sqlstore.New(ctx, write, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = store.Close() })
			m := session.New(store)
			var saveErrs atomic.Int64
			m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
				if saveErrs.Add(1) == 1 {
					t.Errorf("save failed: %v", err)
				}
				http.Error(w, "session store unavailable", http.StatusInternalServerError)
			}
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, err := m.Load(r.Context())
				if err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
					return
				}
				if r.URL.Path == "/n" {
					n, _ := session.Get[int](s, "n")
					fmt.Fprint(w, n)
					return
				}
				s.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
			})))
			t.Cleanup(srv.Close)
			const clients, shared, each = 200, 40, 5
			tr := &http.Transport{MaxIdleConnsPerHost: clients}
			t.Cleanup(tr.CloseIdleConnections)
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			get := func(path, cookie string) (*http.Response, error) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
				if cookie != "" {
					req.AddCookie(&http.Cookie{Name: m.Cookie.Name, Value: cookie})
				}
				return hc.Do(req)
			}
			newSession := func() string {
				resp, err := get("/", "")
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				for _, c := range resp.Cookies() {
					if c.Name == m.Cookie.Name {
						return c.Value
					}
				}
				t.Fatalf("no session cookie (status %d)", resp.StatusCode)
				return ""
			}
			sharedCookie := newSession()
			cookies := make([]string, clients)
			for i := range cookies {
				if i < shared {
					cookies[i] = sharedCookie
				} else {
					cookies[i] = newSession()
				}
			}
			before := opened(pools)
			var wg sync.WaitGroup
			var failed atomic.Int64
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range each {
						resp, err := get("/", cookies[i])
						if err != nil {
							failed.Add(1)
							continue
						}
						_ = resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d of %d requests failed", n, clients*each)
			}
			if split {
				// No churn: the pools only grow to their size.
				after := opened(pools)
				limit := int64(pools[0].Stats().MaxOpenConnections + pools[1].Stats().MaxOpenConnections)
				if after.closed != before.closed || after.open > limit {
					t.Errorf("connections during the burst: %+v -> %+v; want none closed and at most %d open", before, after, limit)
				}
			}
			resp, err := get("/n", sharedCookie)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			_, _ = fmt.Fscan(resp.Body, &n)
			_ = resp.Body.Close()
			if want := 1 + shared*each; n != want {
				t.Fatalf("shared counter %d, want %d", n, want)
			}
		})
	}
}

// poolCounts are what database/sql reports of connections opened and
// closed by a set of pools.
type poolCounts struct{ open, closed int64 }

func opened(pools []*sql.DB) poolCounts {
	var c poolCounts
	for _, db := range pools {
		st := db.Stats()
		c.open += int64(st.OpenConnections)
		c.closed += st.MaxIdleClosed + st.MaxIdleTimeClosed + st.MaxLifetimeClosed
	}
	return c
}
