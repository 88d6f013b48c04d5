package memstore

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// BenchmarkGCLockHold measures how long one GC pass over a store holding
// records=N expired records (and 4096 live ones) keeps requests waiting.
// Each step of the pass that holds a shard's lock is timed (holdHook), and
// meanwhile a goroutine loads and saves the live sessions, spread over the
// whole store, timing each request. Metrics:
//
//   - hold-max-µs, hold-p99-µs: the longest and the 99th percentile hold
//     of a shard's lock by the pass, in wall-clock time (a request on that
//     shard waits at most that long; a hold also lasts while the OS runs
//     another thread, which shows on a busy machine);
//   - hold-cpu-max-µs, hold-cpu-p99-µs: the same in the CPU time of the
//     collecting thread (Linux): the work done under the lock, without
//     the machine's noise;
//   - holds: the steps of one pass;
//   - gc-ms: how long the pass took;
//   - req-p999-µs, req-max-µs: requests during the pass, and idle-p999-µs
//     for as many requests without GC running (the machine's noise).
//
// The runtime's garbage collector is off while a pass runs, so that its
// pauses do not count as the store's. Refilling the store takes a while:
//
//	go test -run '^$' -bench GCLockHold -benchtime 3x ./memstore
func BenchmarkGCLockHold(b *testing.B) {
	for _, n := range []int{200_000, 1_000_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var clock atomic.Int64
			clock.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			now := func() time.Time { return time.Unix(0, clock.Load()) }
			s := NewWithClock(now)
			const live = 4096
			liveKeys := make([]string, live)
			for i := range liveKeys {
				liveKeys[i] = fmt.Sprintf("live-%060d", i)
				if _, err := s.Save(ctx, liveKeys[i], session.Record{Data: []byte("x"), Expiry: now().Add(1000 * time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			var (
				holds, holdsCPU   []time.Duration
				during, idle      []time.Duration
				gcTime            time.Duration
				mu                sync.Mutex
				holdsPerIteration int
			)
			holdHook = func() func() {
				t0, c0 := time.Now(), threadCPU()
				return func() {
					wall, cpu := time.Since(t0), threadCPU()-c0
					mu.Lock()
					holds = append(holds, wall)
					holdsCPU = append(holdsCPU, cpu)
					mu.Unlock()
				}
			}
			defer func() { holdHook = nil }()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				for j := range n {
					k := fmt.Sprintf("%d-%060d", i, j)
					rec := session.Record{Data: []byte("x"), Expiry: now().Add(time.Minute)}
					if j%2 == 0 {
						rec.Owner = fmt.Sprint("user-", j%50_000)
					}
					if _, err := s.Save(ctx, k, rec); err != nil {
						b.Fatal(err)
					}
				}
				clock.Add(int64(2 * time.Minute))
				runtime.GC()
				gcPercent := debug.SetGCPercent(-1)
				before := len(holds)
				b.StartTimer()
				done := make(chan struct{})
				var wg sync.WaitGroup
				var lat []time.Duration
				wg.Add(1)
				go func() {
					defer wg.Done()
					lat = probeRequests(b, s, liveKeys, done, 0)
				}()
				var m int
				var err error
				collected := make(chan struct{})
				go func() {
					// One thread for the whole pass, so that its
					// CPU clock measures the pass alone.
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					defer close(collected)
					t0 := time.Now()
					m, err = s.GC(ctx)
					gcTime += time.Since(t0)
				}()
				<-collected
				close(done)
				wg.Wait()
				b.StopTimer()
				if err != nil || m != n {
					b.Fatalf("GC = %d, %v; want %d", m, err, n)
				}
				holdsPerIteration = len(holds) - before
				during = append(during, lat...)
				idle = append(idle, probeRequests(b, s, liveKeys, nil, len(lat))...)
				debug.SetGCPercent(gcPercent)
				b.StartTimer()
			}
			b.ReportMetric(quantileMicros(holds, 1), "hold-max-µs")
			b.ReportMetric(quantileMicros(holds, 0.99), "hold-p99-µs")
			if threadCPU() > 0 {
				b.ReportMetric(quantileMicros(holdsCPU, 1), "hold-cpu-max-µs")
				b.ReportMetric(quantileMicros(holdsCPU, 0.99), "hold-cpu-p99-µs")
			}
			b.ReportMetric(float64(holdsPerIteration), "holds")
			b.ReportMetric(float64(gcTime.Milliseconds())/float64(b.N), "gc-ms")
			b.ReportMetric(quantileMicros(during, 1), "req-max-µs")
			b.ReportMetric(quantileMicros(during, 0.999), "req-p999-µs")
			b.ReportMetric(quantileMicros(idle, 0.999), "idle-p999-µs")
		})
	}
}

// quantileMicros returns the p quantile of d in microseconds (sorting d).
func quantileMicros(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[min(len(d)-1, int(p*float64(len(d))))].Nanoseconds()) / 1e3
}

// probeRequests loads and saves the live sessions in turn, timing each, until
// done is closed (done nil: count requests) and returns the latencies.
func probeRequests(b *testing.B, s *Store, keys []string, done <-chan struct{}, count int) []time.Duration {
	ctx := context.Background()
	var lat []time.Duration
	for i := 0; ; i++ {
		if done != nil {
			select {
			case <-done:
				return lat
			default:
			}
		} else if i >= count {
			return lat
		}
		k := keys[i%len(keys)]
		t0 := time.Now()
		rec, err := s.Load(ctx, k)
		if err == nil {
			_, err = s.Save(ctx, k, rec)
		}
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Error(err)
			return lat
		}
	}
}
