package bench

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkReadPath compares sessionkit's read-only request with the raw
// driver's same query (the driver row of BenchmarkSessions) request by
// request: each iteration sends one read-only request through each, in an
// order that alternates, so that both see the same moment of a shared,
// noisy machine. BenchmarkReadPath/backend=B reports, besides ns/op (the
// pair):
//
//	sk-ns/op, driver-ns/op   mean of each library's requests
//	sk-p50-ns, driver-p50-ns median of each library's requests
//	x-driver                 driver ÷ sessionkit of the medians (1 is the
//	                         driver's speed; BENCHMARKS.md's target is 0.9)
//	x-driver-mean            the same of the means
//
//	go test -run '^$' -bench 'ReadPath' -benchtime 4000x -count 5
func BenchmarkReadPath(b *testing.B) {
	for _, bs := range []backendSetup{
		{name: "sqlite", setup: setupSQLite},
		{name: "mariadb", setup: setupMariaDB("mariadb", "SESSION_TEST_MYSQL_DSN")},
		{name: "postgres", setup: setupPostgres("postgres", "SESSION_TEST_POSTGRES_DSN")},
		{name: "redis", setup: setupRedis},
	} {
		b.Run("backend="+bs.name, func(b *testing.B) {
			be := bs.setup(b)
			var sk, drv *lib
			for _, l := range be.libs {
				switch l.name {
				case "sessionkit":
					sk = l
				case "driver":
					drv = l
				}
			}
			if sk == nil || drv == nil {
				b.Fatalf("backend %s lacks sessionkit or the driver row", bs.name)
			}
			pair := [2]*lib{sk, drv}
			var tmpl [2]*requestTemplate
			for i, l := range pair {
				tmpl[i] = newRequestTemplate("/read", l.seed(b))
			}
			wr := newBenchWriter()
			serve := func(i int) time.Duration {
				wr.reset()
				r := tmpl[i].request()
				start := time.Now()
				pair[i].handler.ServeHTTP(wr, r)
				d := time.Since(start)
				if wr.code != http.StatusNoContent {
					b.Fatalf("%s: status %d", pair[i].name, wr.code)
				}
				return d
			}
			for i := range 2 { // warm both pools
				serve(i)
			}
			times := [2][]time.Duration{make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)}
			b.ResetTimer()
			for n := range b.N {
				first := n % 2
				times[first] = append(times[first], serve(first))
				times[1-first] = append(times[1-first], serve(1-first))
			}
			b.StopTimer()
			var mean, p50 [2]float64
			for i, ts := range times {
				var sum time.Duration
				for _, d := range ts {
					sum += d
				}
				mean[i] = float64(sum) / float64(len(ts))
				slices.Sort(ts)
				p50[i] = float64(ts[len(ts)/2])
			}
			b.ReportMetric(mean[0], "sk-ns/op")
			b.ReportMetric(mean[1], "driver-ns/op")
			b.ReportMetric(p50[0], "sk-p50-ns")
			b.ReportMetric(p50[1], "driver-p50-ns")
			b.ReportMetric(p50[1]/p50[0], "x-driver")
			b.ReportMetric(mean[1]/mean[0], "x-driver-mean")
		})
	}
}
