package main

import (
	"fmt"
	"strings"
	"time"
)

func renderMarkdown(m machine, results []result, lostRows []lost, charts []chartLink, skips [][2]string, fails []string) string {
	t := index(results)
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Benchmarks\n\n")
	p("sessionkit beside [alexedwards/scs](https://github.com/alexedwards/scs) v2.9.0 and [gorilla/sessions](https://github.com/gorilla/sessions) v1.4.0, ")
	p("serving the same HTTP handlers on the same servers in the same run. Written by `cd bench && go run ./cmd/report` on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	p("**Read the figures as ratios from one run** on a noisy, shared 2-core machine (other builds were running): ")
	p("absolute ns/op move from run to run, and a ratio within ±15%% of 1× is a tie. ")
	p("Single ratios of the fast stores can move by a third from one run to the next; the orders of magnitude (untouched), the store-call counts, the allocation counts and the lost-update counts do not. ")
	if r := maxRounds(t); r > 1 {
		p("Within the run every library ran every workload %d times, in alternating order, with a fixed number of requests each time; each figure is the median of those %d. ", r, r)
	}
	p("**Convention:** every ratio is *peer ns/op ÷ sessionkit ns/op*, a throughput ratio: **above 1× sessionkit is faster**, below 1× slower.\n\n")

	if len(fails) > 0 {
		p("> **This run had failures** (their figures are missing below):\n")
		for _, f := range fails {
			p("> - `%s`\n", f)
		}
		p("\n")
	}
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s, %d cores |\n", m.cpu, m.cores)
	p("| Go | %s |\n", m.goVer)
	for _, s := range m.servers {
		p("| %s | %s |\n", s.name, s.about)
	}
	for _, s := range skips {
		p("| %s | not run: %s unset |\n", s[0], s[1])
	}
	if m.fsync > 0 {
		p("| disk | an 8 KiB write + fsync in `%s`: %s (median of 50) |\n", m.fsyncDir, m.fsync.Round(time.Microsecond))
	}
	p("\nAll servers run on loopback as `scripts/services.sh` starts them, from Debian's packages; in parentheses the settings that decide what a commit costs. ")
	p("The *durable* servers (`SESSION_DURABLE=1 scripts/services.sh`; backends `mariadb-durable` and `postgres-durable`) wait for the disk on every commit, as production servers do; the others do not. ")
	p("FerretDB with its SQLite backend stands in for MongoDB; the `mongo` backend's collections hold %d other sessions, `mongo-10k`'s %d.\n\n", mongoOthers, mongoOthers10k)

	p("## What runs\n\n")
	p("`bench/` is its own module. `BenchmarkSessions/backend=B/work=W/lib=L` sends requests through each library's middleware with a reused `http.ResponseWriter` (no network for HTTP; the store servers are real). ")
	p("Each sub-benchmark starts on a fresh session holding `user` and `n`; every response is checked (204), so an error stops the run.\n\n")
	p("| workload | request |\n|---|---|\n")
	p("| untouched | carries the session cookie; the handler never looks at the session |\n")
	p("| readonly | reads `user` |\n")
	p("| write | increments `n` (sessionkit `Update`, scs `GetInt`+`Put`, gorilla `Values` + `Save`) |\n")
	p("| new | no cookie; sets `user` (a new session is stored) |\n")
	p("| concurrent32 | the write request, 32 at a time on one session (`b.RunParallel`); `kept%%` is the share of increments the session kept |\n\n")
	p("| library | configuration |\n|---|---|\n")
	p("| sessionkit | `session.New(store)` defaults: IdleTimeout 30 min, TouchInterval 1 min, Lifetime 24 h, BinaryCodec |\n")
	p("| sessionkit-gob | the same with `GobCodec`, the previous default, on memory only, where the codec is most of the cost: what BinaryCodec changed |\n")
	p("| scs | `scs.New()`, `LoadAndSave`, IdleTimeout 30 min and Lifetime 24 h as its README suggests; stores: `memstore`, `sqlite3store`, `mysqlstore`, `postgresstore`, `goredisstore` (same go-redis client as sessionkit), with their README schemas |\n")
	p("| scs* | scs's manager on a store written in `bench/stores_test.go` (one command per Find/Commit like scs's other stores): `scs/mongodbstore` is not served by the module proxy here and scs has no memcached store |\n")
	p("| gorilla | `store.Get`, `Values`, `Save` before writing, MaxAge 30 min: `CookieStore` (memory row, data in the cookie), `FilesystemStore` (file row), `boj/redistore` v1.4.1 (redis row). gorilla has no idle timeout, so read-only requests save nothing; no maintained gorilla store exists here for SQL, Mongo or memcached |\n")
	p("| driver | no session library: hashes the cookie and runs sessionkit's own primary-key `SELECT` (captured from its store), then for *write* a primary-key `UPDATE`, for *new* sessionkit's own `INSERT`; Mongo `find`/`update`/`insert` on `_id`, Redis `HGETALL` / pipelined `HSET`+`PEXPIREAT`, memcached `get`/`set`/`add`: the ceiling |\n\n")
	p("Same driver and pool for every library of a backend: modernc.org/sqlite (WAL, busy_timeout) for both SQLite stores; go-sql-driver/mysql with `interpolateParams=true` (so scs's plain `Exec` is one round trip, as sessionkit's prepared statements are); pgx stdlib; mongo-driver v2; go-redis v9 (redigo for gorilla's store); gomemcache.\n\n")
	p("**Store calls per request** (`storecalls/op`) are counted where they leave the process: a counting `database/sql` driver (statements, prepares, begin/commit), the Mongo command monitor, a go-redis hook (a pipeline counts once), and write calls on the connection for redigo and gomemcache. On memory and files they are the calls into the library's store interface.\n\n")

	// targets
	targets := judge(t, m)
	p("## Targets\n\n")
	p("Ratios as everywhere on this page (peer ÷ sessionkit ns/op; for the driver: driver ÷ sessionkit, so 1× is the driver's speed).\n\n")
	p("%s\n", targetSpec)
	met := 0
	for _, tg := range targets {
		if tg.met {
			met++
		}
	}
	p("In this run, %d of %d checks met:\n\n", met, len(targets))
	p("| target | where | goal | measured | |\n|---|---|---|---|---|\n")
	for _, tg := range targets {
		mark := "met"
		if !tg.met {
			mark = "**missed**"
		}
		p("| %s | %s | %s | %s | %s |\n", tg.what, tg.where, tg.goal, tg.figure, mark)
	}
	p("\n")
	var kinds []string
	missed := map[string][]target{}
	for _, tg := range targets {
		if tg.met {
			continue
		}
		if missed[tg.what] == nil {
			kinds = append(kinds, tg.what)
		}
		missed[tg.what] = append(missed[tg.what], tg)
	}
	if len(kinds) > 0 {
		p("### Why the missed targets are missed, and what would reach them\n\n")
		for _, k := range kinds {
			var where []string
			for _, tg := range missed[k] {
				where = append(where, tg.where+" "+tg.figure)
			}
			p("**%s** — missed on %s. %s\n\n", k, strings.Join(where, "; "), commonNote(k, missed[k]))
			for _, tg := range missed[k] {
				if tg.note != "" {
					p("- *%s:* %s\n", tg.where, tg.note)
				}
			}
			p("\n")
		}
	}

	// ratio summary
	p("## Ratios\n\n")
	p("Peer ns/op ÷ sessionkit ns/op (above 1× = sessionkit faster). *driver* is the raw-driver ceiling: 1× would mean sessionkit costs nothing over it.\n\n")
	p("| backend | peer | untouched | readonly | write | new | concurrent32 |\n|---|---|---|---|---|---|---|\n")
	for _, be := range backendOrder {
		for _, lib := range libsOf(t, be) {
			if lib == "sessionkit" || strings.HasPrefix(lib, "sessionkit-") {
				continue
			}
			p("| %s | %s |", be, lib)
			for _, w := range workOrder {
				if r, ok := t.ratio(be, w, lib); ok {
					p(" %s |", formatRatio(r))
				} else {
					p(" – |")
				}
			}
			p("\n")
		}
	}
	p("\n**concurrent32**: sessionkit keeps every increment, the peers overwrite each other's saves and keep a few percent (*kept %%* in the tables below); a ratio there compares work done with work dropped.\n\n")
	for _, c := range charts {
		p("![%s](%s)\n\n", c.title, c.path)
	}

	// lost updates
	if len(lostRows) > 0 {
		p("## Lost updates\n\n")
		p("`TestLostUpdates`: %d increments of `n` and %d writes of distinct keys, all sent at once on one session. What the session kept afterwards (for gorilla's CookieStore the client keeps the last cookie it received, as a browser would). The test fails if sessionkit loses anything.\n\n", lostRows[0].of, lostRows[0].of)
		p("| backend | library | increments kept | keys kept | failed requests |\n|---|---|---|---|---|\n")
		for _, l := range lostRows {
			p("| %s | %s | %d/%d | %d/%d | %d |\n", l.backend, l.lib, l.incr, l.of, l.keys, l.of, l.errors)
		}
		p("\n")
	}

	// full tables
	p("## All figures\n\n")
	p("ns/op is wall time per request (for concurrent32: with 32 requests in flight), the median of the rounds; requests counts all rounds. \"× sk\" is this row's ns/op ÷ sessionkit's.\n\n")
	for _, be := range backendOrder {
		if t[be] == nil {
			continue
		}
		n := 0
		for _, w := range workOrder {
			if r, ok := t.get(be, w, "sessionkit"); ok {
				n = max(n, r.n)
			}
		}
		p("### %s\n\n", be)
		p("| workload | library | requests | ns/op | × sk | B/op | allocs/op | store calls/op | kept %% |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, w := range workOrder {
			for _, lib := range libsOf(t, be) {
				r, ok := t.get(be, w, lib)
				if !ok {
					continue
				}
				ratio := "1×"
				if lib != "sessionkit" {
					if v, ok := t.ratio(be, w, lib); ok {
						ratio = formatRatio(v)
					} else {
						ratio = "–"
					}
				}
				kept := "–"
				if v, ok := r.metrics["kept%"]; ok {
					kept = fmt.Sprintf("%.0f", v)
				}
				p("| %s | %s | %d | %s | %s | %.0f | %.0f | %s | %s |\n", w, lib, r.n, formatNs(r.ns()), ratio,
					r.metrics["B/op"], r.metrics["allocs/op"], formatCount(r.metrics["storecalls/op"]), kept)
			}
		}
		p("\n")
	}
	p("## Reproduce\n\n")
	p("```sh\neval \"$(SESSION_DURABLE=1 scripts/services.sh)\"   # the test servers on loopback, with the durable profile\ncd bench && go run ./cmd/report  # about 15 minutes on 2 cores; -scale 0.2 -rounds 1 for a quick look\n```\n\n")
	p("The raw `go test` output of this run is in `bench/results.txt`; `go run ./cmd/report -raw results.txt` re-renders this page from it. ")
	p("A single workload: `cd bench && go test -run '^$' -bench 'Sessions/backend=postgres/work=readonly' -benchmem -benchtime 1000x`.\n")
	return b.String()
}

func maxRounds(t table) int {
	n := 0
	for _, ws := range t {
		for _, ls := range ws {
			for _, r := range ls {
				n = max(n, r.rounds)
			}
		}
	}
	return n
}

func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
