package main

import (
	"fmt"
	"math"
	"slices"
)

var (
	backendOrder = []string{"memory", "file", "sqlite", "mariadb", "mariadb-durable", "postgres", "postgres-durable", "mongo", "mongo-10k", "redis", "memcached"}
	workOrder    = []string{"untouched", "readonly", "write", "new", "concurrent32"}
)

// peerOf returns the name of the given peer family's library on a backend
// ("scs", "scs*" for this benchmark's adapters; "gorilla", "gorilla-cookie").
func peerOf(t table, backend, family string) string {
	for _, work := range workOrder {
		for lib := range t[backend][work] {
			if lib == family || lib == family+"*" || lib == family+"-cookie" {
				return lib
			}
		}
	}
	return ""
}

type namedChart struct {
	file  string
	chart chart
}

type chartLink struct{ title, path string }

func buildCharts(t table, lostRows []lost) []namedChart {
	var out []namedChart
	for _, fam := range []string{"scs", "gorilla"} {
		c := chart{
			title:    fmt.Sprintf("Speed: %s ns/op ÷ sessionkit ns/op (log scale; right of 1× = sessionkit faster)", fam),
			subtitle: "One run, fixed iteration counts, shared 2-core machine. Ratios, not absolute speeds.",
			series:   workOrder, log: true, ref: 1, refLabel: "1×", format: formatRatio,
		}
		for _, be := range backendOrder {
			peer := peerOf(t, be, fam)
			if peer == "" {
				continue
			}
			g := group{label: be + " (" + peer + ")"}
			for _, w := range workOrder {
				r, ok := t.ratio(be, w, peer)
				if !ok {
					r = math.NaN()
				}
				g.values = append(g.values, r)
			}
			c.groups = append(c.groups, g)
		}
		if len(c.groups) > 0 {
			out = append(out, namedChart{"vs-" + fam + ".svg", c})
		}
	}

	ceil := chart{
		title:    "Raw driver ns/op ÷ sessionkit ns/op (1× = as fast as the raw driver; target ≥ 0.9× read-only)",
		subtitle: "The driver rows issue the same primary-key read (and an update / insert) with no session library.",
		series:   []string{"readonly", "write", "new"}, ref: 0.9, refLabel: "0.9×", format: formatRatio,
	}
	for _, be := range backendOrder {
		if _, ok := t.get(be, "readonly", "driver"); !ok {
			continue
		}
		g := group{label: be}
		for _, s := range ceil.series {
			r, ok := t.ratio(be, s, "driver")
			if !ok {
				r = math.NaN()
			}
			g.values = append(g.values, r)
		}
		ceil.groups = append(ceil.groups, g)
	}
	if len(ceil.groups) > 0 {
		out = append(out, namedChart{"vs-driver.svg", ceil})
	}

	if mem, ok := t["memory"]; ok {
		libs := libsOf(t, "memory")
		c := chart{
			title:    "Allocations per request, memory stores (log scale)",
			subtitle: "sessionkit-gob: sessionkit with GobCodec, the default before BinaryCodec.",
			series:   libs, log: true, format: formatCount,
		}
		for _, w := range workOrder {
			g := group{label: w}
			for _, l := range libs {
				v := math.NaN()
				if r, ok := mem[w][l]; ok {
					v = math.Max(r.metrics["allocs/op"], 1)
				}
				g.values = append(g.values, v)
			}
			c.groups = append(c.groups, g)
		}
		out = append(out, namedChart{"allocs-memory.svg", c})
	}

	if len(lostRows) > 0 {
		c := chart{
			title:    fmt.Sprintf("Lost updates: what one session kept of %d + %d concurrent changes", lostRows[0].of, lostRows[0].of),
			subtitle: "All 100 requests on one session at once; higher is better; sessionkit must keep all.",
			series:   []string{"increments kept", "keys kept"}, format: formatCount, ref: float64(lostRows[0].of),
		}
		for _, l := range lostRows {
			c.groups = append(c.groups, group{label: l.backend + " / " + l.lib, values: []float64{float64(l.incr), float64(l.keys)}})
		}
		out = append(out, namedChart{"lost-updates.svg", c})
	}
	return out
}

// libsOf lists a backend's libraries: sessionkit first, then peers, the
// driver last.
func libsOf(t table, backend string) []string {
	seen := map[string]bool{}
	var libs []string
	for _, w := range workOrder {
		for l := range t[backend][w] {
			if !seen[l] {
				seen[l] = true
				libs = append(libs, l)
			}
		}
	}
	rank := func(l string) int {
		switch {
		case l == "sessionkit":
			return 0
		case l == "driver":
			return 3
		case len(l) > 10 && l[:10] == "sessionkit":
			return 2
		}
		return 1
	}
	slices.SortFunc(libs, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	return libs
}
