package reliability_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fault test's shape.
const (
	faultSessions     = 50               // sessions created before the load
	faultWorkers      = 8                // concurrent clients
	faultWarmup       = 25               // requests per client before the stop
	faultAfter        = 25               // requests per client after recovery
	faultMaxPerWorker = 5000             // hard bound on each client's requests
	faultDown         = 2 * time.Second  // how long the server stays down
	faultRecovery     = 30 * time.Second // bound on the first success after the restart
	faultTail         = 5 * time.Second  // bound on the load after recovery
	faultDeadline     = 3 * time.Second  // server-side bound on each request
	faultLatency      = faultDeadline + 2*time.Second
)

// TestFaultRecovery stops each database server in the middle of concurrent
// traffic, keeps it down for faultDown and starts it again, all through one
// manager, one store and one HTTP client that are never restarted. It checks
// that every request was answered (2xx, or 500/503 during the outage; no
// transport error, nothing past the server's request deadline), that nothing
// panicked, that no goroutine outlives the test's resources, that every
// session saved before the outage holds afterwards what the last
// acknowledged write left (or the value of a write whose answer was an
// error), and that requests succeed again within faultRecovery of the
// restart.
func TestFaultRecovery(t *testing.T) {
	for _, b := range pick("MariaDB", "PostgreSQL", "Redis", "Mongo", "memcached") {
		t.Run(b.name, func(t *testing.T) {
			ctl := os.Getenv(envServiceCtl)
			if ctl == "" {
				t.Skipf("%s is not set: cannot stop and start the %s server (scripts/services.sh sets it)", envServiceCtl, b.name)
			}
			runFault(t, b, ctl)
		})
	}
}

// faultSession is one session of the fault test and what the client knows
// about it. Each session belongs to one client goroutine, so its requests
// are sequential and the last acknowledged value is exact.
type faultSession struct {
	i            int
	name, cookie string
	key          string
	next         int64          // the next value to write
	acked        int64          // the value of the last acknowledged write
	maybe        map[int64]bool // values written since then whose answer was 500
	gone         int            // answers "session lost" (410)
	wrong        []string       // reads that showed something never written
}

// accepts reports whether v is a value the session may hold.
func (s *faultSession) accepts(v int64) bool { return v == s.acked || s.maybe[v] }

// check compares a read with what the session may hold.
func (s *faultSession) check(res response) {
	st, err := res.state()
	switch {
	case err != nil:
		s.wrong = append(s.wrong, err.Error())
	case st.I != int64(s.i) || st.Name != s.name:
		s.wrong = append(s.wrong, fmt.Sprintf("read i=%d name=%q, want %d %q", st.I, st.Name, s.i, s.name))
	case !s.accepts(st.Val):
		s.wrong = append(s.wrong, fmt.Sprintf("read val=%d, want %d (last acknowledged) or one of %v (failed writes since)", st.Val, s.acked, sortedInts(s.maybe)))
	}
}

// event is one request of the load.
type event struct {
	start, end time.Time
	status     int
	err        error
}

// countdown closes ch after n calls of done.
type countdown struct {
	left atomic.Int64
	ch   chan struct{}
	once sync.Once
}

func newCountdown(n int) *countdown {
	c := &countdown{ch: make(chan struct{})}
	c.left.Store(int64(n))
	return c
}

func (c *countdown) done() {
	if c.left.Add(-1) <= 0 {
		c.once.Do(func() { close(c.ch) })
	}
}

func servicectl(ctl, action, service string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ctl, action, service).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s %s: %w\n%s", ctl, action, service, err, out)
	}
	return nil
}

func runFault(t *testing.T, b backend, ctl string) {
	leaks := startLeakCheck()
	open := b.prepare(t)
	c := open(t)
	a := newApp(t, c.store, c.configure, faultDeadline)
	cl := newClient(t)

	run := randomName("")
	sessions := make([]*faultSession, faultSessions)
	for i := range sessions {
		name := fmt.Sprintf("session %d of run %s", i, run)
		cookie, key, err := create(cl, a, i, name)
		if err != nil {
			t.Fatalf("create session %d: %v", i, err)
		}
		sessions[i] = &faultSession{i: i, name: name, cookie: cookie, key: key, next: 1, maybe: map[int64]bool{}}
	}

	// ---- the load: faultWorkers clients, each on its own sessions
	var (
		stop        = make(chan struct{})
		wg          sync.WaitGroup
		warm        = newCountdown(faultWorkers * faultWarmup)
		tail        = newCountdown(faultWorkers * faultAfter)
		restarted   atomic.Int64 // UnixNano when the server answered again
		recoveredAt atomic.Int64 // UnixNano of the first good answer to a request sent after that
		recovered   = make(chan struct{})
		recoverOnce sync.Once
		events      = make([][]event, faultWorkers)
	)
	answered := func(status int) bool {
		// After a restart of a volatile server "session lost" is the
		// right answer.
		return status >= 200 && status < 300 || b.volatile && status == http.StatusGone
	}
	for g := range faultWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*faultSession
			for _, s := range sessions {
				if s.i%faultWorkers == g {
					mine = append(mine, s)
				}
			}
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for n := range faultMaxPerWorker {
				select {
				case <-stop:
					return
				default:
				}
				s := mine[n%len(mine)]
				var res response
				if rng.IntN(2) == 0 {
					v := s.next
					s.next++
					res = cl.do("POST", a.srv.URL, "/write", url.Values{"v": {strconv.FormatInt(v, 10)}}, s.cookie)
					switch {
					case res.status == http.StatusOK:
						s.acked = v
						clear(s.maybe)
					case res.status == http.StatusInternalServerError || res.err != nil:
						// The save failed, or its answer did: it
						// may have been applied.
						s.maybe[v] = true
					}
				} else {
					res = cl.do("GET", a.srv.URL, "/read", nil, s.cookie)
					if res.status == http.StatusOK {
						s.check(res)
					}
				}
				if res.status == http.StatusGone {
					s.gone++
				}
				events[g] = append(events[g], event{start: res.start, end: res.end, status: res.status, err: res.err})
				warm.done()
				if rs := restarted.Load(); rs != 0 && res.start.UnixNano() > rs && answered(res.status) {
					recoverOnce.Do(func() {
						recoveredAt.Store(res.end.UnixNano())
						close(recovered)
					})
				}
				if recoveredAt.Load() != 0 {
					tail.done()
				}
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)

	select {
	case <-warm.ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("the load did not reach %d requests in 60s before the outage", faultWorkers*faultWarmup)
	}

	// ---- the outage
	var afterStart func()
	t.Cleanup(func() {
		// Always bring the server back, also when the test failed.
		if err := servicectl(ctl, "start", b.service); err != nil {
			t.Errorf("restart in cleanup: %v", err)
		}
		if afterStart != nil {
			afterStart()
		}
	})
	outageStart := time.Now()
	if c.beforeStop != nil {
		afterStart = c.beforeStop(t)
	}
	if err := servicectl(ctl, "stop", b.service); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	time.Sleep(faultDown) // the outage itself
	if servicectl(ctl, "status", b.service) == nil {
		t.Fatalf("the %s server answered again before the test started it: another process (scripts/services.sh?) restarted it during the outage, which was then not the test's", b.service)
	}
	if err := servicectl(ctl, "start", b.service); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now()
	restarted.Store(restartedAt.UnixNano())
	if afterStart != nil {
		afterStart()
	}
	t.Logf("%s: stopping took %v, down %v, starting took %v",
		b.service, stoppedAt.Sub(outageStart).Round(time.Millisecond), faultDown, restartedAt.Sub(stoppedAt.Add(faultDown)).Round(time.Millisecond))

	select {
	case <-recovered:
	case <-time.After(faultRecovery):
		t.Fatalf("no request sent after the restart succeeded within %v: the application did not recover", faultRecovery)
	}
	recoveredTime := time.Unix(0, recoveredAt.Load())
	select {
	case <-tail.ch:
	case <-time.After(faultTail):
	}
	stopLoad()

	// ---- what the clients saw
	var (
		requests, transport, otherStatus, slow int
		before, during, after                  int
		maxLatency                             time.Duration
		firstProblems                          []string
	)
	for _, evs := range events {
		for _, ev := range evs {
			requests++
			lat := ev.end.Sub(ev.start)
			maxLatency = max(maxLatency, lat)
			isErr := ev.err != nil || ev.status >= 500
			switch {
			case ev.err != nil:
				transport++
				firstProblems = append(firstProblems, fmt.Sprintf("transport error after %v: %v", lat, ev.err))
			case !answered(ev.status) && ev.status != http.StatusInternalServerError && ev.status != http.StatusServiceUnavailable:
				otherStatus++
				firstProblems = append(firstProblems, fmt.Sprintf("status %d", ev.status))
			}
			if lat > faultLatency {
				slow++
			}
			switch {
			case !isErr:
			case ev.end.Before(outageStart):
				before++
			case ev.start.Before(recoveredTime):
				during++
			default:
				after++
			}
		}
	}
	for i, p := range firstProblems {
		if i == 5 {
			t.Errorf("... %d more", len(firstProblems)-5)
			break
		}
		t.Errorf("request not answered properly: %s", p)
	}
	if slow > 0 {
		t.Errorf("%d requests took longer than %v (max %v): the server's request deadline was not honoured", slow, faultLatency, maxLatency)
	}
	if before > 0 {
		t.Errorf("%d requests failed before the outage", before)
	}
	if during == 0 {
		t.Errorf("no request failed during the outage: the test did not see it")
	}

	// ---- every session, read again through the same manager and client
	checked, lost, wrong, retries := 0, 0, 0, 0
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range sessions {
		res := cl.do("GET", a.srv.URL, "/read", nil, s.cookie)
		for res.err == nil && res.status >= 500 && time.Now().Before(deadline) {
			retries++
			time.Sleep(100 * time.Millisecond) // back off before retrying
			res = cl.do("GET", a.srv.URL, "/read", nil, s.cookie)
		}
		checked++
		switch {
		case res.err == nil && res.status == http.StatusOK:
			n := len(s.wrong)
			s.check(res)
			if len(s.wrong) > n {
				lost++
			}
		case res.err == nil && res.status == http.StatusGone:
			lost++
			if !b.volatile {
				t.Errorf("session %d is gone after the outage", s.i)
			}
		default:
			t.Errorf("final read of session %d: status %d, err %v: %s", s.i, res.status, res.err, res.body)
		}
		for _, w := range s.wrong {
			wrong++
			t.Errorf("session %d: %s", s.i, w)
		}
		if s.gone > 0 && !b.volatile {
			t.Errorf("session %d was answered \"lost\" %d times", s.i, s.gone)
		}
	}
	if retries > 0 {
		t.Logf("final reads: %d retries after 5xx answers", retries)
	}
	if b.volatile {
		t.Logf("%s keeps nothing across a restart: %d of %d sessions came back absent (a fresh session, not an error or stale data)", b.name, lost, checked)
	} else if lost > 0 {
		t.Errorf("%d of %d sessions lost or changed", lost, checked)
	}

	line := fmt.Sprintf("fault %s: requests=%d errors_during_outage=%d sessions_checked=%d sessions_lost=%d (errors before=%d after_recovery=%d; load_errors=%d save_errors=%d; recovered %v after restart; max latency %v)",
		b.name, requests, during, checked, lost, before, after, a.loadErrors.Load(), a.saveErrors.Load(),
		recoveredTime.Sub(restartedAt).Round(time.Millisecond), maxLatency.Round(time.Millisecond))
	t.Log(line)
	fmt.Println(line)

	// ---- release everything and look for goroutines left behind
	ctx, cancel := ctxTimeout(30 * time.Second)
	for _, s := range sessions {
		if err := c.store.Delete(ctx, s.key); err != nil {
			t.Errorf("delete session %d: %v", s.i, err)
		}
	}
	cancel()
	a.checkHealthy(t)
	a.srv.Close()
	cl.tr.CloseIdleConnections()
	c.close()
	leaks.check(t, 10*time.Second)
}

func sortedInts(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
