package bench

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
)

// BenchmarkCacheTier measures the cache tier (cachestore: Redis in front of
// MariaDB) against Redis alone and MariaDB alone, in the same run and on the
// same servers, for a read-only request and a write request (the
// application of libs_test.go, through sessionkit's middleware).
//
// The stores take turns request by request (tier, fast, durable, then the
// next order), so that a drift of the shared machine reaches them alike.
// Metrics, per request of each store: <store>-ns/req, <store>-calls/req
// (round trips counted at the drivers: Redis commands and MariaDB
// statements), and the ratios tier/fast (read) and tier/durable (read and
// write); ns/op is the time of one turn of all of them.
//
// The durable store is the default MariaDB test server (commits wait for
// no disk) and, as durable=true, the durable profile's server
// (SESSION_TEST_MYSQL_DURABLE_DSN: every commit fsynced), which is what a
// cache tier stands in front of in production.
//
//	go test -run '^$' -bench CacheTier -benchtime 2000x
func BenchmarkCacheTier(b *testing.B) {
	b.Run("durable=false", func(b *testing.B) { benchCacheTier(b, env(b, "SESSION_TEST_MYSQL_DSN")) })
	b.Run("durable=true", func(b *testing.B) { benchCacheTier(b, env(b, "SESSION_TEST_MYSQL_DURABLE_DSN")) })
}

func benchCacheTier(b *testing.B, dsn string) {
	addr := env(b, "SESSION_TEST_REDIS_ADDR")
	fastCalls, durableCalls := &counter{}, &counter{}
	durable := cachetierMariaDB(b, dsn, durableCalls)
	fast := cachetierRedis(b, addr, fastCalls)
	tier := cachestore.New(fast, durable)

	stores := []struct {
		name  string
		store session.Store
	}{{"tier", tier}, {"fast", fast}, {"durable", durable}}
	for _, w := range []workload{workloads[1], workloads[2]} { // readonly, write
		b.Run("work="+w.name, func(b *testing.B) {
			type run struct {
				name    string
				handler http.Handler
				tmpl    *requestTemplate
				ns      time.Duration
				calls   int64
			}
			var runs []*run
			for _, s := range stores {
				if w.name == "write" && s.name == "fast" {
					continue // the goal for writes is the durable store's cost
				}
				l := sessionkitLib(s.store)
				runs = append(runs, &run{name: s.name, handler: l.handler, tmpl: newRequestTemplate(w.path, l.seed(b))})
			}
			for _, r := range runs { // one request each: the tier's first read fills the cache
				mustServe(b, r.handler, w.path, cookieOf(r.tmpl))
			}
			wr := newBenchWriter()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j := range runs {
					r := runs[(i+j)%len(runs)]
					wr.reset()
					calls := fastCalls.load() + durableCalls.load()
					start := time.Now()
					r.handler.ServeHTTP(wr, r.tmpl.request())
					r.ns += time.Since(start)
					r.calls += fastCalls.load() + durableCalls.load() - calls
					if wr.code != http.StatusNoContent {
						b.Fatalf("%s %s: status %d", r.name, w.path, wr.code)
					}
				}
			}
			b.StopTimer()
			per := map[string]float64{}
			for _, r := range runs {
				per[r.name] = float64(r.ns.Nanoseconds()) / float64(b.N)
				b.ReportMetric(per[r.name], r.name+"-ns/req")
				b.ReportMetric(float64(r.calls)/float64(b.N), r.name+"-calls/req")
			}
			if f, ok := per["fast"]; ok {
				b.ReportMetric(per["tier"]/f, "tier/fast")
			}
			b.ReportMetric(per["tier"]/per["durable"], "tier/durable")
		})
	}
	if st, ok := cachestore.StatsOf(tier); ok {
		b.Logf("tier: %+v", st)
	}
}

// cookieOf returns the session cookie value a template sends.
func cookieOf(t *requestTemplate) string {
	c, err := t.base.Cookie(cookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// cachetierMariaDB returns sessionkit's store on a database of its own on
// the MariaDB server, counting statements on c.
func cachetierMariaDB(tb testing.TB, dsn string, c *counter) *sqlstore.Store {
	tb.Helper()
	cfg := mariadbScratch(tb, dsn, "sktier_")
	cfg.InterpolateParams = true // one round trip per statement, as in mariadbBackend
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return sessionkitSQL(tb, openSQL(tb, conn, c), sqlstore.MySQL, "sk_sessions")
}

// cachetierRedis returns sessionkit's store on the Redis server under a
// prefix of its own, counting commands on c.
func cachetierRedis(tb testing.TB, addr string, c *counter) *redisstore.Store {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	client.AddHook(redisHook{c})
	tb.Cleanup(func() { _ = client.Close() })
	prefix := unique("sktier:") + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
	})
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		tb.Fatal(fmt.Errorf("redisstore: %w", err))
	}
	return s
}
