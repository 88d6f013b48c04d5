package bench

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// workload is one kind of request.
type workload struct {
	name     string
	path     string
	cookie   bool // sent with the session's cookie
	parallel bool // 32 concurrent requests on one session
}

// workloads run in this order for every backend.
var workloads = []workload{
	{name: "untouched", path: "/untouched", cookie: true},
	{name: "readonly", path: "/read", cookie: true},
	{name: "write", path: "/write", cookie: true},
	{name: "new", path: "/new"},
	{name: "concurrent32", path: "/write", cookie: true, parallel: true},
}

// rounds is how many times each library runs each workload. Rounds
// alternate the libraries' order; testing names the repeats lib=L#01,
// lib=L#02 ..., and the report keeps the median.
var rounds = flag.Int("rounds", 1, "times each library runs each workload, in alternating order")

// concurrency is the number of requests in flight in the concurrent workload.
const concurrency = 32

// BenchmarkSessions runs every workload on every backend through every
// library, as BenchmarkSessions/backend=B/work=W/lib=L. Within a workload the
// libraries run one after the other, -rounds times, and their order
// alternates from one workload and one round to the next, so that a drift of
// the shared machine does not always favour the same library.
//
// Metrics besides ns/op, B/op and allocs/op: storecalls/op, the store round
// trips per request counted at the driver (see count_test.go), and for the
// concurrent workload kept%, the share of increments the session kept.
func BenchmarkSessions(b *testing.B) {
	for _, bs := range backends {
		b.Run("backend="+bs.name, func(b *testing.B) {
			be := bs.setup(b)
			for wi, w := range workloads {
				b.Run("work="+w.name, func(b *testing.B) {
					for round := range *rounds {
						libs := slices.Clone(be.libs)
						if (wi+round)%2 == 1 {
							slices.Reverse(libs)
						}
						for _, l := range libs {
							if !l.supports(w.name) {
								continue
							}
							b.Run("lib="+l.name, func(b *testing.B) { runWorkload(b, be, l, w) })
						}
					}
				})
			}
		})
	}
}

func runWorkload(b *testing.B, be *backend, l *lib, w workload) {
	var cookie string
	if w.cookie {
		cookie = l.seed(b) // a fresh session for every run
	}
	tmpl := newRequestTemplate(w.path, cookie)
	b.ReportAllocs()
	start := be.calls.load()
	b.ResetTimer()
	if !w.parallel {
		wr := newBenchWriter()
		for range b.N {
			wr.reset()
			l.handler.ServeHTTP(wr, tmpl.request())
			if wr.code != http.StatusNoContent {
				b.Fatalf("%s: status %d", w.path, wr.code)
			}
		}
	} else {
		b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		var once sync.Once
		b.RunParallel(func(pb *testing.PB) {
			wr := newBenchWriter()
			for pb.Next() {
				wr.reset()
				l.handler.ServeHTTP(wr, tmpl.request())
				if wr.code != http.StatusNoContent {
					once.Do(func() { b.Errorf("%s: status %d", w.path, wr.code) })
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(be.calls.since(start))/float64(b.N), "storecalls/op")
	if w.parallel && !b.Failed() {
		n, _ := dumpState(b, l.handler, cookie)
		b.ReportMetric(100*float64(n)/float64(b.N), "kept%")
	}
}

// requestTemplate builds requests cheaply: a copy of one request whose
// URL and headers are shared (no library under test changes them).
type requestTemplate struct{ base http.Request }

func newRequestTemplate(path, cookie string) *requestTemplate {
	u, err := url.Parse(path)
	if err != nil {
		panic(err)
	}
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", (&http.Cookie{Name: cookieName, Value: cookie}).String())
	}
	return &requestTemplate{base: http.Request{
		Method: http.MethodGet, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: "example.com", RemoteAddr: "192.0.2.1:1234", RequestURI: path,
	}}
}

func (t *requestTemplate) request() *http.Request {
	r := new(http.Request)
	*r = t.base //nolint:govet // copies a request that holds no lock
	return r
}

// benchWriter is a minimal ResponseWriter reused across requests, so that
// the harness adds next to nothing to each library's own cost.
type benchWriter struct {
	h    http.Header
	code int
}

func newBenchWriter() *benchWriter { return &benchWriter{h: http.Header{}} }

func (w *benchWriter) Header() http.Header { return w.h }

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}

func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *benchWriter) reset() {
	clear(w.h)
	w.code = 0
}

// mustServe sends one request through h and fails unless it succeeds.
func mustServe(tb testing.TB, h http.Handler, path, cookie string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		tb.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
	}
}
