package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
	"modernc.org/sqlite"
)

// BenchmarkBigSession measures what a session's size costs in memory:
// BenchmarkBigSession/backend=B/size=S/value=V/work=W/lib=L, for sessions
// holding one value of S bytes (1 KiB, 64 KiB, 900 KiB) that is a string
// or a []byte, besides user=alice and n=0.
//
// Workloads: readonly (load, check user, read the big value's length) and
// write (load, increment n, save). lib=driver is the raw driver ceiling of
// BenchmarkSessions (sessionkit's own captured SELECT, or HGETALL, and an
// update with the same bytes) on the same record shape; it runs first, so
// that lib=sessionkit can report
//
//	x-session = (B/op - driver B/op) / S
//
// the copies of the session that sessionkit makes beyond what the driver's
// same query allocates. On memory there is no driver: x-session is B/op / S.
// B/op is measured here exactly as -benchmem measures it (TotalAlloc of
// runtime.MemStats over the timed loop, divided by b.N).
//
//	go test -run '^$' -bench 'BigSession/backend=(memory|sqlite)' -benchtime 200x
func BenchmarkBigSession(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"900KiB", 900 << 10}}
	for _, bs := range bigBackends {
		b.Run("backend="+bs.name, func(b *testing.B) {
			be := bs.setup(b)
			for _, size := range sizes {
				b.Run("size="+size.name, func(b *testing.B) {
					for _, kind := range []string{"string", "bytes"} {
						b.Run("value="+kind, func(b *testing.B) {
							libs := be.libs(b, size.n, kind)
							for _, work := range []string{"readonly", "write"} {
								b.Run("work="+work, func(b *testing.B) {
									var driverBytes float64
									for round := range *rounds {
										order := slices.Clone(libs)
										if round%2 == 1 && len(order) == 2 {
											// The driver still runs first in
											// round 0; later rounds alternate.
											slices.Reverse(order)
										}
										for _, l := range order {
											b.Run("lib="+l.name, func(b *testing.B) {
												perOp := runBig(b, l, work)
												if l.name == "driver" {
													driverBytes = perOp
													return
												}
												b.ReportMetric((perOp-driverBytes)/float64(size.n), "x-session")
											})
										}
									}
								})
							}
						})
					}
				})
			}
		})
	}
}

// runBig runs one sub-benchmark and returns its bytes allocated per
// request.
func runBig(b *testing.B, l *lib, work string) float64 {
	cookie := l.seed(b)
	path := "/read"
	if work == "write" {
		path = "/write"
	}
	tmpl := newRequestTemplate(path, cookie)
	wr := newBenchWriter()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		wr.reset()
		l.handler.ServeHTTP(wr, tmpl.request())
		if wr.code != http.StatusNoContent {
			b.Fatalf("%s: status %d", path, wr.code)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
}

// bigBackend builds, for a session size and value kind, the libraries of
// one backend: sessionkit, and the driver ceiling where there is a driver.
type bigBackend struct {
	libs func(tb testing.TB, size int, kind string) []*lib
}

var bigBackends = []struct {
	name  string
	setup func(tb testing.TB) *bigBackend
}{
	{"memory", bigMemory},
	{"sqlite", bigSQLite},
	{"mariadb", bigMariaDB},
	{"postgres", bigPostgres},
	{"redis", bigRedis},
}

// bigValue is the big value of a session of about size bytes.
func bigValue(size int, kind string) any {
	s := strings.Repeat("0123456789abcdef", size/16+1)[:size]
	if kind == "bytes" {
		return []byte(s)
	}
	return s
}

// bigLib serves the application of libs_test.go through sessionkit on
// store, with /seed also setting "blob" to a value of size bytes and /read
// also reading that value's length.
func bigLib(store session.Store, size int, kind string) *lib {
	m := session.New(store)
	m.Cookie.Name = cookieName
	blob := bigValue(size, kind)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			fail(w, "load: %v", err)
			return
		}
		switch r.URL.Path {
		case "/read":
			if u, _ := session.Get[string](s, "user"); u != "alice" {
				fail(w, "user = %q", u)
				return
			}
			n := 0
			switch v := s.Get("blob").(type) {
			case string:
				n = len(v)
			case []byte:
				n = len(v)
			}
			if n != size {
				fail(w, "blob of %d bytes, want %d", n, size)
				return
			}
		case "/write":
			s.Update("n", func(old any) any { return toInt(old) + 1 })
		case "/new":
			s.Set("user", "bob")
		case "/seed":
			s.Set("user", "alice")
			s.Set("n", 0)
			s.Set("blob", blob)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	h := m.Handler(app)
	return &lib{name: "sessionkit", handler: h, seed: func(tb testing.TB) string { return seedVia(tb, h) }}
}

func bigMemory(tb testing.TB) *bigBackend {
	store := memstore.New()
	return &bigBackend{libs: func(_ testing.TB, size int, kind string) []*lib {
		return []*lib{bigLib(store, size, kind)}
	}}
}

// bigSQL is a backend on db with sessionkit's native table.
func bigSQL(tb testing.TB, db *sql.DB, c *counter, d sqlstore.Dialect, postgres bool) *bigBackend {
	table := unique("skbig_")
	store := sessionkitSQL(tb, db, d, table)
	if d != sqlstore.SQLite {
		tb.Cleanup(func() { _, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
	}
	return &bigBackend{libs: func(tb testing.TB, size int, kind string) []*lib {
		sk := bigLib(store, size, kind)
		return []*lib{driverLib(sk, sqlCeiling(tb, db, c, sk, table, postgres)), sk}
	}}
}

func bigSQLite(tb testing.TB) *bigBackend {
	c := &counter{}
	path := filepath.Join(tb.TempDir(), "big.db")
	conn, err := connectorFor(&sqlite.Driver{}, "file:"+path+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)")
	if err != nil {
		tb.Fatal(err)
	}
	return bigSQL(tb, openSQL(tb, conn, c), c, sqlstore.SQLite, false)
}

func bigMariaDB(tb testing.TB) *bigBackend {
	c := &counter{}
	cfg, err := mysql.ParseDSN(env(tb, "SESSION_TEST_MYSQL_DSN"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg = cfg.Clone()
	cfg.InterpolateParams = true // as BenchmarkSessions
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return bigSQL(tb, openSQL(tb, conn, c), c, sqlstore.MySQL, false)
}

func bigPostgres(tb testing.TB) *bigBackend {
	c := &counter{}
	conn, err := connectorFor(stdlib.GetDefaultDriver(), env(tb, "SESSION_TEST_POSTGRES_DSN"))
	if err != nil {
		tb.Fatal(err)
	}
	return bigSQL(tb, openSQL(tb, conn, c), c, sqlstore.Postgres, true)
}

func bigRedis(tb testing.TB) *bigBackend {
	addr := env(tb, "SESSION_TEST_REDIS_ADDR")
	client := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	tb.Cleanup(func() { _ = client.Close() })
	prefix := unique("skbig:") + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	rs, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	ceil := redisCeiling(client, prefix)
	return &bigBackend{libs: func(_ testing.TB, size int, kind string) []*lib {
		sk := bigLib(rs, size, kind)
		return []*lib{driverLib(sk, ceil), sk}
	}}
}

// redisCeiling is the raw-driver ceiling of setupRedis for a redisstore
// with prefix: HGETALL of the record, and HSET of the same data with
// PEXPIREAT in one pipeline.
func redisCeiling(client *redis.Client, prefix string) ceiling {
	hkey := func(key string) string { return prefix + "{" + key + "}" }
	read := func(ctx context.Context, key string) ([]byte, error) {
		m, err := client.HGetAll(ctx, hkey(key)).Result()
		if err != nil {
			return nil, err
		}
		d, ok := m["d"]
		if !ok {
			return nil, errors.New("no data field")
		}
		return []byte(d), nil
	}
	put := func(ctx context.Context, key string, data []byte) error {
		_, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, hkey(key), "d", data)
			p.PExpireAt(ctx, hkey(key), time.Now().Add(idleTimeout))
			return nil
		})
		if err != nil {
			return fmt.Errorf("put: %w", err)
		}
		return nil
	}
	return ceiling{
		read: func(ctx context.Context, key string) error { _, err := read(ctx, key); return err },
		write: func(ctx context.Context, key string) error {
			data, err := read(ctx, key)
			if err != nil {
				return err
			}
			return put(ctx, key, data)
		},
		insert: func(ctx context.Context, key string) error { return put(ctx, key, payload) },
	}
}
