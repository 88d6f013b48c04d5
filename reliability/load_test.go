package reliability_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// The load test's shape.
const (
	loadClients  = 32 // concurrent clients
	loadSessions = 4  // sessions they share
	loadRequests = 10 // requests per client
	// loadDeadline bounds each request on the server. Generous: this test
	// is about lost updates, and a loaded 2-core machine running -race
	// can take seconds for a save queued behind 15 others.
	loadDeadline = 10 * time.Second
)

// TestNoLostUpdatesUnderLoad runs, on every store, loadClients concurrent
// clients on loadSessions shared sessions; each request increments a
// per-session counter with Update and sets a key of its own. Afterwards it
// counts the lost updates: acknowledged requests whose key is missing, and
// the shortfall of the counters. With the stores' compare-and-set it expects
// none, through one manager and through two managers over the same store
// (two application servers, so that the manager's in-process save lock does
// not serialize them). The same load through a last-writer-wins save (a
// wrapper that declares session.Unconditional and saves over whatever is
// stored) must lose updates: that shows the count can see them.
func TestNoLostUpdatesUnderLoad(t *testing.T) {
	for _, b := range pick("memory", "files", "SQLite", "MariaDB", "PostgreSQL", "Redis", "Redis Cluster", "Mongo", "memcached",
		"SQLite incubator table", "MariaDB incubator table", "PostgreSQL incubator table") {
		t.Run(b.name, func(t *testing.T) {
			open := b.prepare(t)
			one := runLoad(t, open, 1, false)
			two := runLoad(t, open, 2, false)
			lww := runLoad(t, open, 2, true)

			one.check(t, "compare-and-set, 1 manager", true)
			if two.weakCAS != "" && two.lost() > 0 {
				// Known and documented; reported, not hidden and not failed.
				two.check(t, "compare-and-set, 2 managers", false)
				t.Logf("compare-and-set, 2 managers: %d lost updates (%s); expected here because %s", two.lost(), two, two.weakCAS)
			} else {
				two.check(t, "compare-and-set, 2 managers", true)
			}
			lww.check(t, "last-writer-wins, 2 managers", false)
			if lww.lost() == 0 {
				t.Errorf("last-writer-wins, 2 managers: no lost update detected in %d requests: the test cannot see losses", lww.requests)
			}
			line := fmt.Sprintf("load %s: %d clients on %d sessions, %d requests per run; lost updates: cas_1_manager=%d cas_2_managers=%d last_writer_wins_2_managers=%d (%s | %s | %s)",
				b.name, loadClients, loadSessions, loadClients*loadRequests, one.lost(), two.lost(), lww.lost(), one, two, lww)
			t.Log(line)
			fmt.Println(line)
		})
	}
}

// loadResult is what one run of the load found.
type loadResult struct {
	requests     int // sent
	acked        int // answered 204
	failed       int // answered 500: the change may or may not be there
	unavailable  int // answered 503: the session could not be loaded, nothing saved
	missingKeys  int // acknowledged keys absent at the end
	counterShort int // acknowledged increments missing from the counters
	phantoms     int // keys or increments that no request asked for
	inconsistent int // sessions whose counter differs from their key count
	problems     []string
	elapsed      time.Duration
	weakCAS      string
}

// lost is the number of lost updates: acknowledged changes that are not
// there.
func (r loadResult) lost() int { return max(r.missingKeys, r.counterShort) }

func (r loadResult) String() string {
	return fmt.Sprintf("acked %d, errors %d, missing keys %d, counter short by %d, in %v",
		r.acked, r.failed+r.unavailable, r.missingKeys, r.counterShort, r.elapsed.Round(time.Millisecond))
}

// check fails t for requests that were not answered 204 or 500, and, when
// noLoss is set, for lost updates and for changes no request made.
func (r loadResult) check(t *testing.T, what string, noLoss bool) {
	t.Helper()
	for _, p := range r.problems {
		t.Errorf("%s: %s", what, p)
	}
	if r.acked == 0 {
		t.Errorf("%s: no request succeeded", what)
	}
	if !noLoss {
		return
	}
	if r.lost() > 0 {
		t.Errorf("%s: %d lost updates (%s)", what, r.lost(), r)
	}
	if r.phantoms > 0 || r.inconsistent > 0 {
		t.Errorf("%s: %d changes no request made, %d sessions whose counter differs from their number of keys", what, r.phantoms, r.inconsistent)
	}
}

// runLoad runs the load through the given number of managers, each over a
// store of its own opened by open, saving last-writer-wins when lww is set.
func runLoad(t *testing.T, open opener, managers int, lww bool) loadResult {
	t.Helper()
	var res loadResult
	apps := make([]*app, managers)
	conns := make([]*conn, managers)
	for i := range managers {
		conns[i] = open(t)
		var store session.Store = conns[i].store
		if lww {
			store = lastWriterWins{store}
		}
		apps[i] = newApp(t, store, conns[i].configure, loadDeadline)
		res.weakCAS = conns[i].weakCAS
	}
	cl := newClient(t)
	defer func() {
		for _, a := range apps {
			a.srv.Close()
		}
		cl.tr.CloseIdleConnections()
		for _, c := range conns {
			c.close()
		}
	}()

	type sessionLog struct {
		cookie, key string
		mu          sync.Mutex
		acked       map[string]bool
		failed      map[string]bool
	}
	logs := make([]*sessionLog, loadSessions)
	run := randomName("")
	for j := range logs {
		cookie, key, err := create(cl, apps[0], j, run)
		if err != nil {
			t.Fatalf("create session %d: %v", j, err)
		}
		logs[j] = &sessionLog{cookie: cookie, key: key, acked: map[string]bool{}, failed: map[string]bool{}}
	}

	var (
		res503   atomic.Int64
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		problems []string
	)
	began := time.Now()
	for g := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := apps[g%managers] // a client sticks to one application server
			<-start
			for r := range loadRequests {
				l := logs[(g+r)%loadSessions] // every session gets clients of every server
				k := fmt.Sprintf("%d-%d", g, r)
				resp := cl.do("POST", a.srv.URL, "/inc", url.Values{"k": {k}}, l.cookie)
				l.mu.Lock()
				switch {
				case resp.err == nil && resp.status == http.StatusNoContent:
					l.acked["k:"+k] = true
				case resp.err == nil && resp.status == http.StatusInternalServerError:
					l.failed["k:"+k] = true // the save failed: applied or not
				case resp.err == nil && resp.status == http.StatusServiceUnavailable:
					res503.Add(1) // the load failed: nothing was saved
				default:
					l.failed["k:"+k] = true
					mu.Lock()
					problems = append(problems, fmt.Sprintf("request %s: status %d, err %v: %s", k, resp.status, resp.err, resp.body))
					mu.Unlock()
				}
				l.mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	res.elapsed = time.Since(began)
	res.unavailable = int(res503.Load())
	res.requests = loadClients * loadRequests
	res.problems = problems
	if len(res.problems) > 5 {
		res.problems = append(res.problems[:5], fmt.Sprintf("... %d more", len(problems)-5))
	}

	for j, l := range logs {
		res.acked += len(l.acked)
		res.failed += len(l.failed)
		resp := cl.do("GET", apps[0].srv.URL, "/read", url.Values{"keys": {"1"}}, l.cookie)
		if resp.err != nil || resp.status != http.StatusOK {
			t.Fatalf("final read of session %d: status %d, err %v: %s", j, resp.status, resp.err, resp.body)
		}
		st, err := resp.state()
		if err != nil {
			t.Fatal(err)
		}
		present := map[string]bool{}
		for _, k := range st.Keys {
			present[k] = true
			if !l.acked[k] && !l.failed[k] {
				res.phantoms++
			}
		}
		for k := range l.acked {
			if !present[k] {
				res.missingKeys++
			}
		}
		res.counterShort += max(0, len(l.acked)-int(st.N))
		res.phantoms += max(0, int(st.N)-len(l.acked)-len(l.failed))
		if int(st.N) != len(st.Keys) {
			res.inconsistent++
		}
		ctx, cancel := ctxTimeout(10 * time.Second)
		if err := conns[0].store.Delete(ctx, l.key); err != nil {
			t.Errorf("delete session %d: %v", j, err)
		}
		cancel()
	}
	for _, a := range apps {
		a.checkHealthy(t)
		if e := a.errorSummary(3); e != "" {
			t.Logf("managers=%d lww=%v: errors:%s", managers, lww, e)
		}
	}
	return res
}
