package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// The GC-under-load test is off unless -gcload is given: it inserts a
// million rows and takes minutes.
var (
	gcLoad        = flag.Bool("gcload", false, "run TestGCUnderLoad (MariaDB, SESSION_TEST_MYSQL_DSN): collect -gcload-rows expired rows under a read load")
	gcLoadRows    = flag.Int("gcload-rows", 1_000_000, "expired rows TestGCUnderLoad inserts")
	gcLoadLive    = flag.Int("gcload-live", 1000, "live sessions TestGCUnderLoad reads")
	gcLoadMode    = flag.String("gcload-mode", "cleanup", "how TestGCUnderLoad collects: cleanup (Manager.Cleanup's pacing), batches (Manager.GCBatches back to back), paced (GCBatch with -gcload-batch and -gcload-pause)")
	gcLoadBatch   = flag.Int("gcload-batch", session.DefaultGCBatch, "rows per GCBatch in batches and paced modes")
	gcLoadPause   = flag.Float64("gcload-pause", 1, "paced mode: pause after each batch, as a multiple of the batch's duration")
	gcLoadWorkers = flag.Int("gcload-workers", 4, "goroutines sending read-only requests")
	gcLoadIdleN   = flag.Int("gcload-idle", 4000, "read-only requests per goroutine in the idle measurement")
)

// TestGCUnderLoad measures what collecting a large backlog of expired
// sessions does to the latency of the requests running meanwhile: a native
// MariaDB table with -gcload-rows expired rows and -gcload-live live
// sessions; read-only requests through the manager, measured idle, then
// while the backlog is collected. It logs p50/p99 of both, how long the
// collection took, and whether p99 during GC stayed within twice the idle
// p99.
//
//	go test -run TestGCUnderLoad -gcload -v -timeout 30m .
func TestGCUnderLoad(t *testing.T) {
	if !*gcLoad {
		t.Skip("run with -gcload (inserts a million rows into MariaDB and takes minutes)")
	}
	dsn := env(t, "SESSION_TEST_MYSQL_DSN")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	db := gcLoadDB(t, dsn)
	table := "gcload_" + gcLoadSuffix()
	opts := sqlstore.Options{Dialect: sqlstore.MySQL, Table: table}
	if err := sqlstore.CreateSchema(ctx, db, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS `"+table+"`") })
	store, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	start := time.Now()
	if err := gcLoadInsertExpired(ctx, db, table, *gcLoadRows); err != nil {
		t.Fatal(err)
	}
	t.Logf("inserted %d expired rows in %v", *gcLoadRows, time.Since(start).Round(time.Millisecond))
	if n, err := store.CountExpired(ctx); err != nil || n != *gcLoadRows {
		t.Fatalf("CountExpired = %d, %v; want %d", n, err, *gcLoadRows)
	}

	m := session.New(store)
	logs := &gcLoadLogHandler{pass: make(chan gcLoadPass, 1)}
	m.Logger = slog.New(logs) // Cleanup mode learns from it when its pass ends
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/login" {
			s.Set("user", "u")
			return
		}
		if _, ok := session.Get[string](s, "user"); !ok {
			http.Error(w, "session lost", http.StatusInternalServerError)
		}
	}))
	cookies := gcLoadLogins(t, h, *gcLoadLive)

	idle := gcLoadRun(t, h, cookies, *gcLoadWorkers, *gcLoadIdleN, nil)
	t.Logf("idle: %s", idle)

	done := make(chan struct{})
	var (
		removed, batches int
		gcErr            error
		gcTime           time.Duration
	)
	gcStart := time.Now()
	go func() {
		defer close(done)
		removed, batches, gcErr = gcLoadCollect(ctx, m, store, logs)
		gcTime = time.Since(gcStart)
	}()
	during := gcLoadRun(t, h, cookies, *gcLoadWorkers, 0, done)
	<-done
	if gcErr != nil {
		t.Fatalf("GC after removing %d rows: %v", removed, gcErr)
	}
	t.Logf("during GC (%s): %s", gcLoadDescribe(), during)
	t.Logf("GC removed %d rows in %v (%.0f rows/s, %d batches)", removed, gcTime.Round(time.Millisecond), float64(removed)/gcTime.Seconds(), batches)
	if removed != *gcLoadRows {
		t.Fatalf("GC removed %d rows, want %d", removed, *gcLoadRows)
	}
	if n, err := store.CountExpired(ctx); err != nil || n != 0 {
		t.Fatalf("CountExpired after GC = %d, %v; want 0", n, err)
	}
	ratio := float64(during.p99) / float64(idle.p99)
	verdict := "within"
	if ratio > 2 {
		verdict = "NOT within"
	}
	t.Logf("RESULT mode=%s p50 idle %v / during %v; p99 idle %v / during %v (%.2fx, %s 2x); GC %v",
		gcLoadDescribe(), idle.p50, during.p50, idle.p99, during.p99, ratio, verdict, gcTime.Round(time.Millisecond))
}

// gcLoadDB opens the MariaDB database of dsn with a pool large enough for
// the load and the collector.
func gcLoadDB(t *testing.T, dsn string) *sql.DB {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(*gcLoadWorkers + 2)
	db.SetMaxIdleConns(*gcLoadWorkers + 2)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func gcLoadSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// gcLoadInsertExpired inserts n expired native rows with INSERT ... SELECT
// from a cross join of digits, 100,000 rows per statement. Keys are SHA-256
// hex digests, spread over the primary key like the manager's hashed keys;
// expiries are spread over the past day.
func gcLoadInsertExpired(ctx context.Context, db *sql.DB, table string, n int) error {
	const chunk = 100_000
	digits := "WITH d(n) AS (SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " +
		"UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9), " +
		"seq(n) AS (SELECT a.n + 10*b.n + 100*c.n + 1000*e.n + 10000*f.n FROM d a, d b, d c, d e, d f) "
	salt := gcLoadSuffix()
	for base := 0; base < n; base += chunk {
		q := fmt.Sprintf("INSERT INTO `%s` (session_id, data, created_at, modified_at, expires_at, version, owner) %s"+
			"SELECT SHA2(CONCAT(?, seq.n + ?), 256), REPEAT('x', 100), "+
			"UTC_TIMESTAMP(6) - INTERVAL 2 DAY, UTC_TIMESTAMP(6) - INTERVAL 2 DAY, "+
			"UTC_TIMESTAMP(6) - INTERVAL 1 SECOND - INTERVAL ((seq.n + ?) %% 86400) SECOND, 1, '' "+
			"FROM seq WHERE seq.n < ?", table, digits)
		if _, err := db.ExecContext(ctx, q, salt, base, base, min(chunk, n-base)); err != nil {
			return fmt.Errorf("insert rows %d..: %w", base, err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE `"+table+"`"); err != nil {
		return err
	}
	return nil
}

// gcLoadLogins creates n sessions through the handler and returns their
// cookies.
func gcLoadLogins(t *testing.T, h http.Handler, n int) []*http.Cookie {
	cookies := make([]*http.Cookie, 0, n)
	for range n {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", nil))
		cs := rec.Result().Cookies()
		if rec.Code != http.StatusOK || len(cs) != 1 {
			t.Fatalf("login: status %d, %d cookies: %s", rec.Code, len(cs), rec.Body)
		}
		cookies = append(cookies, cs[0])
	}
	return cookies
}

// gcLoadStats are the latencies of one measurement.
type gcLoadStats struct {
	n             int
	p50, p99, max time.Duration
	elapsed       time.Duration
}

func (s gcLoadStats) String() string {
	return fmt.Sprintf("%d requests in %v (%.0f/s), p50 %v, p99 %v, max %v",
		s.n, s.elapsed.Round(time.Millisecond), float64(s.n)/s.elapsed.Seconds(),
		s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.max.Round(time.Microsecond))
}

// gcLoadRun sends read-only requests from workers goroutines, each on the
// sessions of cookies in turn: perWorker requests each, or (perWorker 0)
// until stop is closed, at most 10 minutes' worth.
func gcLoadRun(t *testing.T, h http.Handler, cookies []*http.Cookie, workers, perWorker int, stop <-chan struct{}) gcLoadStats {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		all  []time.Duration
		fail atomic.Value
	)
	deadline := time.Now().Add(10 * time.Minute)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			for i := 0; ; i++ {
				if perWorker > 0 && i == perWorker || perWorker == 0 && (gcLoadClosed(stop) || time.Now().After(deadline)) {
					break
				}
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.AddCookie(cookies[(w+i*workers)%len(cookies)])
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t0))
				if rec.Code != http.StatusOK {
					fail.CompareAndSwap(nil, fmt.Sprintf("status %d: %s", rec.Code, strings.TrimSpace(rec.Body.String())))
					break
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := fail.Load(); f != nil {
		t.Fatalf("read-only request failed: %v", f)
	}
	if len(all) == 0 {
		t.Fatal("no requests measured")
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return gcLoadStats{n: len(all), p50: q(0.50), p99: q(0.99), max: all[len(all)-1], elapsed: elapsed}
}

// gcLoadClosed reports whether c is closed.
func gcLoadClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func gcLoadDescribe() string {
	switch *gcLoadMode {
	case "batches":
		return fmt.Sprintf("batches of %d back to back", *gcLoadBatch)
	case "paced":
		return fmt.Sprintf("batches of %d, pause %.2gx the batch", *gcLoadBatch, *gcLoadPause)
	}
	return fmt.Sprintf("Manager.Cleanup: batches of %d, pause = batch", session.DefaultGCBatch)
}

// gcLoadCollect removes the backlog as -gcload-mode says and returns how
// many rows it removed in how many batches (0: not known).
func gcLoadCollect(ctx context.Context, m *session.Manager, store *sqlstore.Store, logs *gcLoadLogHandler) (removed, batches int, err error) {
	switch *gcLoadMode {
	case "batches":
		removed, err = m.GCBatches(ctx, *gcLoadBatch, func(int) { batches++ })
		return removed, batches, err
	case "paced":
		for {
			t0 := time.Now()
			n, err := store.GCBatch(ctx, *gcLoadBatch)
			removed += n
			batches++
			if err != nil || n < *gcLoadBatch {
				return removed, batches, err
			}
			pause := time.NewTimer(time.Duration(*gcLoadPause * float64(time.Since(t0))))
			select {
			case <-ctx.Done():
				pause.Stop()
				return removed, batches, ctx.Err()
			case <-pause.C:
			}
		}
	case "cleanup":
		removed, err = gcLoadCleanup(ctx, m, logs)
		return removed, 0, err
	}
	return 0, 0, fmt.Errorf("unknown -gcload-mode %q (cleanup, batches or paced)", *gcLoadMode)
}

// gcLoadCleanup runs Manager.Cleanup with a short interval until its first
// pass has logged what it removed, then stops it.
func gcLoadCleanup(ctx context.Context, m *session.Manager, logs *gcLoadLogHandler) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- m.Cleanup(ctx, time.Millisecond) }()
	select {
	case p := <-logs.pass:
		cancel()
		<-stopped
		return p.removed, p.err
	case err := <-stopped:
		return 0, fmt.Errorf("Cleanup returned before its first pass: %v", err)
	}
}

// gcLoadPass is what one Cleanup pass logged.
type gcLoadPass struct {
	removed int
	err     error
}

// gcLoadLogHandler is a slog handler that reports the first GC pass
// Manager.Cleanup logs.
type gcLoadLogHandler struct {
	once sync.Once
	pass chan gcLoadPass
}

func (h *gcLoadLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *gcLoadLogHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *gcLoadLogHandler) WithGroup(string) slog.Handler            { return h }

func (h *gcLoadLogHandler) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "GC") {
		return nil
	}
	p := gcLoadPass{}
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "removed":
			p.removed = int(a.Value.Int64())
		case "err":
			p.err = fmt.Errorf("%v", a.Value.Any())
		}
		return true
	})
	h.once.Do(func() { h.pass <- p })
	return nil
}
