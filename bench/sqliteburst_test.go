package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// burstStore is a sessionkit SQL store for BenchmarkWriteBurst, with the
// pools whose connections it counts.
type burstStore struct {
	store session.Store
	pools []*sql.DB
}

// burstSetups are the stores BenchmarkWriteBurst runs on:
//
//   - sqlite-open: sqlstore.OpenSQLite, a write pool of one connection and
//     a read-only pool, given to sqlstore.New as the db and Options.ReadDB;
//   - sqlite: the way the README opened SQLite before OpenSQLite, one pool
//     from sql.Open("sqlite", sqlstore.SQLiteDSN(path)) with database/sql's
//     defaults, given to sqlstore.New (the store still lets its writes
//     through one at a time);
//   - mariadb: one pool from sql.Open("mysql", DSN) with database/sql's
//     defaults, for comparison (SESSION_TEST_MYSQL_DSN): at 500 clients it
//     opens more connections than the server's max_connections (151 by
//     default) and requests fail with error 1040;
//   - mariadb-pool64: the same with SetMaxOpenConns(64) and
//     SetMaxIdleConns(64), as a server deployment sizes its pool.
var burstSetups = []struct {
	name  string
	setup func(tb testing.TB) burstStore
}{
	{"sqlite-open", burstOpenSQLite},
	{"sqlite", burstSQLite},
	{"mariadb", func(tb testing.TB) burstStore { return burstMariaDB(tb, 0) }},
	{"mariadb-pool64", func(tb testing.TB) burstStore { return burstMariaDB(tb, 64) }},
}

func burstOpenSQLite(tb testing.TB) burstStore {
	sdb, err := sqlstore.OpenSQLite("sqlite", filepath.Join(tb.TempDir(), "sessions.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sdb.Close() })
	opts := sqlstore.Options{Dialect: sqlstore.SQLite, ReadDB: sdb.Read}
	return burstStore{burstNative(tb, sdb.Write, opts), []*sql.DB{sdb.Write, sdb.Read}}
}

func burstSQLite(tb testing.TB) burstStore {
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(tb.TempDir(), "sessions.db")))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return burstStore{burstNative(tb, db, sqlstore.Options{Dialect: sqlstore.SQLite}), []*sql.DB{db}}
}

// burstMariaDB opens the MariaDB store, with a pool of at most pool
// connections (0: database/sql's defaults).
func burstMariaDB(tb testing.TB, pool int) burstStore {
	cfg, err := mysql.ParseDSN(env(tb, "SESSION_TEST_MYSQL_DSN"))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if pool > 0 {
		db.SetMaxOpenConns(pool)
		db.SetMaxIdleConns(pool)
	}
	table := unique("burst_")
	tb.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
	return burstStore{burstNative(tb, db, sqlstore.Options{Dialect: sqlstore.MySQL, Table: table}), []*sql.DB{db}}
}

// burstNative migrates and opens the native store of opts on db.
func burstNative(tb testing.TB, db *sql.DB, opts sqlstore.Options) *sqlstore.Store {
	tb.Helper()
	if err := sqlstore.Migrate(ctxFor(tb), db, opts); err != nil {
		tb.Fatal(err)
	}
	s, err := sqlstore.New(ctxFor(tb), db, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkWriteBurst sends write requests through real HTTP (an
// httptest server, a session.Manager on each store of burstSetups) from
// clients=C concurrent clients: four fifths write their own session, one
// fifth all write one shared session (80: 64 + 16; 500: 400 + 100). Every
// request increments a counter in its session, so every request saves.
// The b.N requests are shared among the clients. Metrics:
//
//   - p50-ms, p99-ms, max-ms: request latency as the client sees it;
//   - p99-shared-ms: the same for the requests on the shared session, which
//     wait for one another (the manager gives one request at a time its
//     turn on a session);
//   - errors: requests that did not answer 200 (a failed save is a 500);
//   - conns-opened, conns-closed: database connections the store's pools
//     opened and closed during the run (database/sql's DBStats: open
//     connections plus those closed for MaxIdleConns, ConnMaxIdleTime or
//     ConnMaxLifetime); opened ≫ clients or closed > 0 is pool churn.
//
// After the run the shared session's counter must equal the writes sent to
// it (no lost update), or the benchmark fails.
//
//	go test -run '^$' -bench WriteBurst -benchtime 4000x
func BenchmarkWriteBurst(b *testing.B) {
	for _, bs := range burstSetups {
		for _, clients := range []int{80, 500} {
			b.Run(fmt.Sprintf("store=%s/clients=%d", bs.name, clients), func(b *testing.B) {
				st := bs.setup(b)
				runBurst(b, st, clients)
			})
		}
	}
}

func runBurst(b *testing.B, st burstStore, clients int) {
	m := session.New(st.store)
	m.Cookie.Name = cookieName
	var saveErrs atomic.Int64
	var firstErr atomic.Value
	m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		saveErrs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
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
			_, _ = fmt.Fprint(w, n)
			return
		}
		s.Update("n", func(old any) any { return toInt(old) + 1 })
		_, _ = io.WriteString(w, "ok")
	})))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	do := func(cookie string) (string, time.Duration, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		if err != nil {
			return "", 0, err
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return "", 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			return "", d, fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
		for _, c := range resp.Cookies() {
			if c.Name == cookieName {
				return c.Value, d, nil
			}
		}
		return cookie, d, nil
	}
	// The sessions: one per own-session client, one shared.
	shared := clients / 5
	cookies := make([]string, clients)
	sharedCookie, _, err := do("")
	if err != nil || sharedCookie == "" {
		b.Fatalf("shared session: %q, %v", sharedCookie, err)
	}
	for i := range clients {
		if i < shared {
			cookies[i] = sharedCookie
			continue
		}
		c, _, err := do("") // one at a time: the burst is the writes
		if err != nil || c == "" {
			b.Fatalf("creating session %d: %q, %v", i, c, err)
		}
		cookies[i] = c
	}
	var wg sync.WaitGroup
	statsBefore := poolStats(st.pools)
	saveErrs.Store(0)

	var (
		next      atomic.Int64
		sharedN   atomic.Int64
		failures  atomic.Int64
		firstFail atomic.Value
		mu        sync.Mutex
		lat       = make([]time.Duration, 0, b.N)
		latShared []time.Duration
	)
	start := make(chan struct{})
	b.ResetTimer()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			<-start
			for next.Add(1) <= int64(b.N) {
				_, d, err := do(cookies[i])
				if err != nil {
					failures.Add(1)
					firstFail.CompareAndSwap(nil, err.Error())
					continue
				}
				if i < shared {
					sharedN.Add(1)
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			if i < shared {
				latShared = append(latShared, mine...)
			}
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	b.StopTimer()
	statsAfter := poolStats(st.pools)

	q := func(lat []time.Duration, p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		slices.Sort(lat)
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1e3
	}
	b.ReportMetric(q(lat, 0.50), "p50-ms")
	b.ReportMetric(q(lat, 0.99), "p99-ms")
	b.ReportMetric(q(lat, 1), "max-ms")
	b.ReportMetric(q(latShared, 0.99), "p99-shared-ms")
	b.ReportMetric(float64(failures.Load()), "errors")
	b.ReportMetric(float64(statsAfter.opened-statsBefore.opened), "conns-opened")
	b.ReportMetric(float64(statsAfter.closed-statsBefore.closed), "conns-closed")
	if f := firstFail.Load(); f != nil {
		b.Logf("%d of %d requests failed; the first: %v (save errors: %d, the first: %v)", failures.Load(), b.N, f, saveErrs.Load(), firstErr.Load())
	}
	// No lost update on the shared session.
	if failures.Load() == 0 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/n", nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: sharedCookie})
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if want := fmt.Sprint(sharedN.Load() + 1); string(body) != want {
			b.Fatalf("shared session counter %s, want %s (lost updates)", body, want)
		}
	}
}

// connStats are connection counts of a set of pools.
type connStats struct{ opened, closed int64 }

// poolStats sums what database/sql reports of pools: closed are the
// connections closed for the idle limit, idle time or lifetime; opened
// are those plus the ones open now.
func poolStats(pools []*sql.DB) connStats {
	var s connStats
	for _, db := range pools {
		st := db.Stats()
		closed := st.MaxIdleClosed + st.MaxIdleTimeClosed + st.MaxLifetimeClosed
		s.closed += closed
		s.opened += closed + int64(st.OpenConnections)
	}
	return s
}
