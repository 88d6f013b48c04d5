package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/memcachestore"
	"github.com/sessionkit/session/redisstore"
)

// The cache fault tests run their own Redis or memcached server (the
// binaries scripts/services.sh installs), so that stopping, flushing and
// poisoning the cache disturbs no other test on the shared servers. The
// durable store is the shared MariaDB or PostgreSQL server, in a table of
// the test's own.
//
// Each test sends cacheFaultWorkers clients of /inc and /read?keys=1
// requests over sessions of their own, so every client knows exactly which
// increments were acknowledged; the fault happens after cacheFaultWarmup
// requests and lasts cacheFaultDuring requests (counted, not timed). The
// checks: every request answered 2xx (the durable store stays up, so a cache
// fault must never fail a request), no read missing an increment
// acknowledged before it started (the tier's process saw every session's
// newer entries, so it must pass over a restored or planted older one), the
// cache used again after the fault (cacheFaultHits hits), and at the end
// every acknowledged increment present, read through the tier and through
// the durable store alone.
const (
	cacheFaultSessions = 32
	cacheFaultWorkers  = 4
	cacheFaultWarmup   = 200
	cacheFaultDuring   = 300
	cacheFaultAfter    = 300
	cacheFaultHits     = 100
)

// privateCache is a cache server process started by the test.
type privateCache struct {
	kind string // "redis" or "memcached"
	addr string
	dir  string
	args []string
	cmd  *exec.Cmd
}

// startPrivateCache starts a Redis or memcached server on a free loopback
// port, stopped at the end of the test; it skips when the binary is missing.
func startPrivateCache(t *testing.T, kind string) *privateCache {
	t.Helper()
	bin := map[string]string{"redis": "redis-server", "memcached": "memcached"}[kind]
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s not installed (scripts/services.sh installs it): %v", bin, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	c := &privateCache{kind: kind, addr: "127.0.0.1:" + port, dir: t.TempDir()}
	switch kind {
	case "redis":
		c.args = []string{path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", c.dir, "--dbfilename", "dump.rdb", "--loglevel", "warning"}
	case "memcached":
		c.args = []string{path, "-p", port, "-l", "127.0.0.1", "-U", "0", "-m", "64"}
		if os.Geteuid() == 0 {
			u, err := user.Current()
			if err != nil {
				t.Fatal(err)
			}
			c.args = append(c.args, "-u", u.Username)
		}
	}
	c.start(t)
	t.Cleanup(func() { c.stop(t) })
	return c
}

// start runs the server and waits until it accepts connections.
func (c *privateCache) start(t *testing.T) {
	t.Helper()
	c.cmd = exec.Command(c.args[0], c.args[1:]...)
	c.cmd.Dir = c.dir
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", c.kind, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", c.addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s did not accept connections within 10s: %v", c.kind, c.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // poll another process's listener
	}
}

// stop kills the server (SIGKILL: nothing is written on the way out) and
// waits for it to exit. It does nothing when the server is not running.
func (c *privateCache) stop(t *testing.T) {
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.cmd = nil
}

// cacheFault is what happens to the cache in the middle of the load.
type cacheFault int

const (
	// faultStop kills the cache server, keeps it down for
	// cacheFaultDuring requests and starts it again. Redis first writes
	// its data set to disk (SAVE) and comes back with it: a cache
	// restored from a snapshot older than the writes made while it was
	// down. memcached comes back empty.
	faultStop cacheFault = iota
	// faultFlush empties the cache (FLUSHALL, flush_all).
	faultFlush
	// faultOldVersion writes back into the cache, straight through the
	// fast store, the entries it held at the end of the warm-up, after
	// the sessions have moved on.
	faultOldVersion
)

func (f cacheFault) String() string {
	return [...]string{"stopped", "flushed", "old version"}[f]
}

// TestCacheTierFaults puts each cache tier on MariaDB and PostgreSQL
// through a stopped, a flushed and a poisoned cache under load.
func TestCacheTierFaults(t *testing.T) {
	for _, p := range []tierPair{{"MariaDB+Redis", "MariaDB", "redis"}, {"PostgreSQL+memcached", "PostgreSQL", "memcached"}} {
		for _, f := range []cacheFault{faultStop, faultFlush, faultOldVersion} {
			t.Run(p.name+"/"+f.String(), func(t *testing.T) { runCacheFault(t, p, f) })
		}
	}
}

// fastOnPrivate opens the fast store on the private server: a client that
// fails fast while the server is down (no retries, short timeouts), as a
// cache client should be configured.
func fastOnPrivate(t *testing.T, c *privateCache) (store session.Store, flush func() error) {
	t.Helper()
	prefix := randomName("tier") + ":"
	switch c.kind {
	case "redis":
		rc := redis.NewClient(&redis.Options{Addr: c.addr, ContextTimeoutEnabled: true, MaxRetries: -1,
			DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
		t.Cleanup(func() { rc.Close() })
		s, err := redisstore.New(rc, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() error { return rc.FlushAll(context.Background()).Err() }
	default:
		mc := memcache.New(c.addr)
		mc.Timeout = 500 * time.Millisecond
		mc.MaxIdleConns = 16
		t.Cleanup(func() { mc.Close() })
		s, err := memcachestore.New(mc, memcachestore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s, mc.FlushAll
	}
}

// incSession is one session of the test and what its client knows.
type incSession struct {
	cookie, key string
	next        int
	acked       []string        // keys of acknowledged increments
	maybe       map[string]bool // keys of increments answered with an error
	staleReads  int             // reads missing an acknowledged increment
	firstStale  string
}

func runCacheFault(t *testing.T, p tierPair, fault cacheFault) {
	openDurable := allBackends()[p.durable].prepare(t)
	srv := startPrivateCache(t, p.fast)
	durable := openDurable(t)
	fast, flush := fastOnPrivate(t, srv)
	opts := []cachestore.Option{quietTier}
	if fault == faultStop {
		// Reads try the cache on every request, so that those right after
		// the restart meet the entries Redis restored from its snapshot
		// before any write deletes them.
		opts = append(opts, cachestore.WithBackoff(0))
	}
	tier := cachestore.New(fast, durable.store, opts...)
	a := newApp(t, tier, nil, faultDeadline)
	truth := newApp(t, durable.store, nil, faultDeadline) // reads the durable store alone
	cl := newClient(t)

	sessions := make([]*incSession, cacheFaultSessions)
	for i := range sessions {
		cookie, key, err := create(cl, a, i, "cache fault")
		if err != nil {
			t.Fatalf("create session %d: %v", i, err)
		}
		sessions[i] = &incSession{cookie: cookie, key: key, maybe: map[string]bool{}}
	}

	var (
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		phase     atomic.Int32 // 0 warm-up, 1 fault, 2 after
		counts    [3]atomic.Int64
		bad       atomic.Int64 // answers other than 2xx
		badFirst  sync.Once
		badMsg    string
		hitsAt    atomic.Uint64 // the tier's hits when the fault ended
		recovered = make(chan struct{})
		recover1  sync.Once
		marks     = [3]*countdown{newCountdown(cacheFaultWarmup), newCountdown(cacheFaultDuring), newCountdown(cacheFaultAfter)}
	)
	for g := range cacheFaultWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			var mine []*incSession
			for i, s := range sessions {
				if i%cacheFaultWorkers == g {
					mine = append(mine, s)
				}
			}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				s := mine[n%len(mine)]
				var res response
				if rng.IntN(2) == 0 {
					k := fmt.Sprintf("%d", s.next)
					s.next++
					res = cl.do("POST", a.srv.URL, "/inc", url.Values{"k": {k}}, s.cookie)
					if res.err == nil && res.status == http.StatusNoContent {
						s.acked = append(s.acked, "k:"+k)
					} else {
						s.maybe["k:"+k] = true
					}
				} else {
					ackedBefore := len(s.acked)
					res = cl.do("GET", a.srv.URL, "/read", url.Values{"keys": {"1"}}, s.cookie)
					if res.err == nil && res.status == http.StatusOK {
						if missing := missingKeys(res, s.acked[:ackedBefore]); missing != "" {
							s.staleReads++
							if s.firstStale == "" {
								s.firstStale = missing
							}
						}
					}
				}
				if res.err != nil || res.status/100 != 2 {
					bad.Add(1)
					badFirst.Do(func() { badMsg = fmt.Sprintf("status %d, err %v: %s", res.status, res.err, res.body) })
				}
				ph := phase.Load()
				counts[ph].Add(1)
				marks[ph].done()
				if st, _ := cachestore.StatsOf(tier); ph == 2 && st.Hits >= hitsAt.Load()+cacheFaultHits {
					recover1.Do(func() { close(recovered) })
				}
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)
	wait := func(c *countdown, what string) {
		t.Helper()
		select {
		case <-c.ch:
		case <-time.After(60 * time.Second):
			t.Fatalf("the load did not reach %s within 60s", what)
		}
	}

	wait(marks[0], "the end of the warm-up")
	before, _ := cachestore.StatsOf(tier)
	var old map[string]session.Record
	switch fault {
	case faultStop:
		if srv.kind == "redis" {
			admin := redis.NewClient(&redis.Options{Addr: srv.addr})
			err := admin.Save(context.Background()).Err()
			admin.Close()
			if err != nil {
				t.Fatalf("redis SAVE: %v", err)
			}
		}
		srv.stop(t)
	case faultFlush:
		if err := flush(); err != nil {
			t.Fatalf("flush: %v", err)
		}
	case faultOldVersion:
		old = map[string]session.Record{}
		ctx, cancel := ctxTimeout(30 * time.Second)
		for _, s := range sessions {
			if r, err := fast.Load(ctx, s.key); err == nil {
				old[s.key] = r
			}
		}
		cancel()
	}
	phase.Store(1)
	wait(marks[1], "the end of the fault")
	switch fault {
	case faultStop:
		srv.start(t)
	case faultOldVersion:
		n := plantOld(t, fast, old)
		if n == 0 {
			t.Fatal("no old entry could be planted")
		}
		t.Logf("planted %d entries of an older version", n)
	}
	st, _ := cachestore.StatsOf(tier)
	hitsAt.Store(st.Hits)
	phase.Store(2)
	wait(marks[2], "the end of the load after the fault")
	select {
	case <-recovered:
	case <-time.After(30 * time.Second):
		t.Errorf("the tier did not read from the cache again (%d hits) within 30s after the fault", cacheFaultHits)
	}
	stopLoad()
	after, _ := cachestore.StatsOf(tier)

	// ---- what the clients saw
	if n := bad.Load(); n > 0 {
		t.Errorf("%d requests not answered 2xx (first: %s)", n, badMsg)
	}
	stale := 0
	for i, s := range sessions {
		if s.staleReads > 0 {
			stale += s.staleReads
			t.Errorf("session %d: %d reads missed an acknowledged increment (first missing: %s)", i, s.staleReads, s.firstStale)
		}
	}

	// ---- every acknowledged increment, through the tier and the durable store alone
	lost := 0
	for i, s := range sessions {
		for _, via := range []*app{a, truth} {
			res := cl.do("GET", via.srv.URL, "/read", url.Values{"keys": {"1"}}, s.cookie)
			if res.err != nil || res.status != http.StatusOK {
				t.Errorf("final read of session %d: status %d, err %v: %s", i, res.status, res.err, res.body)
				continue
			}
			st, _ := res.state()
			if missing := missingKeys(res, s.acked); missing != "" {
				lost++
				t.Errorf("session %d (%s): acknowledged increment %s lost", i, map[*app]string{a: "tier", truth: "durable"}[via], missing)
			}
			if int(st.N) < len(s.acked) || int(st.N) > len(s.acked)+len(s.maybe) {
				t.Errorf("session %d: n = %d, want %d acknowledged (+ up to %d answered with an error)", i, st.N, len(s.acked), len(s.maybe))
			}
		}
	}
	line := fmt.Sprintf("cachetier %s %s: requests warmup=%d fault=%d after=%d not_2xx=%d stale_reads=%d lost=%d; cache during and after the fault: hits=%d misses=%d errors=%d fills=%d moves=%d deletes=%d undone=%d",
		p.name, fault, counts[0].Load(), counts[1].Load(), counts[2].Load(), bad.Load(), stale, lost,
		after.Hits-before.Hits, after.Misses-before.Misses, after.Errors-before.Errors, after.Fills-before.Fills,
		after.Moves-before.Moves, after.Deletes-before.Deletes, after.FillsUndone-before.FillsUndone)
	t.Log(line)
	fmt.Println(line)
	if fault == faultStop && after.Errors == before.Errors {
		t.Error("the tier saw no cache error: the outage did not happen")
	}
	a.checkHealthy(t)

	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	for _, s := range sessions {
		if err := tier.Delete(ctx, s.key); err != nil {
			t.Errorf("delete: %v", err)
		}
	}
}

// plantOld writes each old entry back under its key, over whatever the
// fast store holds now (by its own compare-and-set, retried if a request
// changed it meanwhile), and returns how many it wrote.
func plantOld(t *testing.T, fast session.Store, old map[string]session.Record) int {
	t.Helper()
	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	n := 0
	for key, r := range old {
		for range 5 {
			cur, err := fast.Load(ctx, key)
			switch {
			case err == nil:
				r.Version = cur.Version
			case errors.Is(err, session.ErrNotFound):
				r.Version = 0
			default:
				t.Fatalf("fast load: %v", err)
			}
			if _, err := fast.Save(ctx, key, r); err == nil {
				n++
				break
			} else if !errors.Is(err, session.ErrConflict) {
				t.Fatalf("plant: %v", err)
			}
		}
	}
	return n
}

// missingKeys returns the first of keys that the /read answer res lacks,
// or "".
func missingKeys(res response, keys []string) string {
	st, err := res.state()
	if err != nil {
		return "(unreadable answer)"
	}
	for _, k := range keys {
		if !slices.Contains(st.Keys, k) {
			return k
		}
	}
	return ""
}
