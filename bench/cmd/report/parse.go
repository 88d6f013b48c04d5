package main

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result is one sub-benchmark's line of `go test -bench -benchmem` output.
type result struct {
	backend, work, lib string
	n                  int                // requests (all rounds together once indexed)
	rounds             int                // how many runs were merged
	metrics            map[string]float64 // by unit: "ns/op", "B/op", "allocs/op", "storecalls/op", "kept%"
}

func (r result) ns() float64 { return r.metrics["ns/op"] }

// benchLine matches BenchmarkSessions/backend=B/work=W/lib=L-P  N  metrics...
// (repeats of a name carry #NN before the -P suffix).
var benchLine = regexp.MustCompile(`^BenchmarkSessions/backend=([^/\s]+)/work=([^/\s]+)/lib=(\S+?)(?:#\d+)?(?:-\d+)?\s+(\d+)\s+(.+)$`)

// parseBench reads the benchmark lines of go test output.
func parseBench(r io.Reader) []result {
	var out []result
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[4])
		res := result{backend: m[1], work: m[2], lib: m[3], n: n, metrics: map[string]float64{}}
		f := strings.Fields(m[5])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				res.metrics[f[i+1]] = v
			}
		}
		out = append(out, res)
	}
	return out
}

// lost is one line of TestLostUpdates.
type lost struct {
	backend, lib   string
	incr, keys, of int
	errors         int
}

var lostLine = regexp.MustCompile(`LOSTUPDATES backend=(\S+) lib=(\S+) incr=(\d+)/(\d+) keys=(\d+)/\d+ errors=(\d+)`)

func parseLost(r io.Reader) []lost {
	var out []lost
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := lostLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
		out = append(out, lost{backend: m[1], lib: m[2], incr: atoi(m[3]), of: atoi(m[4]), keys: atoi(m[5]), errors: atoi(m[6])})
	}
	return out
}

// table indexes results by backend, work and lib.
type table map[string]map[string]map[string]result

// index groups results by backend, work and lib; the rounds of one
// sub-benchmark become one result holding the median of each metric and
// the total number of requests.
func index(rs []result) table {
	groups := map[[3]string][]result{}
	var order [][3]string
	for _, r := range rs {
		k := [3]string{r.backend, r.work, r.lib}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	t := table{}
	for _, k := range order {
		g := groups[k]
		agg := result{backend: k[0], work: k[1], lib: k[2], metrics: map[string]float64{}, rounds: len(g)}
		units := map[string]bool{}
		for _, r := range g {
			agg.n += r.n
			for u := range r.metrics {
				units[u] = true
			}
		}
		for u := range units {
			var vs []float64
			for _, r := range g {
				if v, ok := r.metrics[u]; ok {
					vs = append(vs, v)
				}
			}
			agg.metrics[u] = median(vs)
		}
		if t[k[0]] == nil {
			t[k[0]] = map[string]map[string]result{}
		}
		if t[k[0]][k[1]] == nil {
			t[k[0]][k[1]] = map[string]result{}
		}
		t[k[0]][k[1]][k[2]] = agg
	}
	return t
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (t table) get(backend, work, lib string) (result, bool) {
	r, ok := t[backend][work][lib]
	return r, ok
}

// ratio is peer ns/op ÷ sessionkit ns/op: above 1, sessionkit is faster.
func (t table) ratio(backend, work, peer string) (float64, bool) {
	return t.ratioTo(backend, work, peer, "sessionkit")
}

// ratioTo is peer ns/op ÷ base ns/op.
func (t table) ratioTo(backend, work, peer, base string) (float64, bool) {
	sk, ok1 := t.get(backend, work, base)
	p, ok2 := t.get(backend, work, peer)
	if !ok1 || !ok2 || sk.ns() <= 0 {
		return 0, false
	}
	return p.ns() / sk.ns(), true
}
