package reliability_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session/storetest"
)

// TestGaleraConformance runs the storetest suite on one Galera node (native
// layout, a table of its own).
func TestGaleraConformance(t *testing.T) {
	dsns := clusterEnv(t, envGalera, "MariaDB Galera cluster", 1)
	opts := galeraTable(t, dsns)
	storetest.Run(t, galeraStore(t, dsns[0], opts, true), storetest.Config{})
}

// The three-manager test's shape: galeraClients clients per manager, each
// sending galeraRequests increments to one shared session.
const (
	galeraClients  = 4
	galeraRequests = 10
)

// TestGaleraThreeManagers runs three managers, each with its own *sql.DB on
// its own Galera node, hammering one session with Update increments: the
// counter must equal the number of acknowledged requests, every request's key
// must be there, and no request may fail: a transaction that loses Galera's
// certification (error 1213) is a conflict the manager retries, not a 500.
func TestGaleraThreeManagers(t *testing.T) {
	dsns := clusterEnv(t, envGalera, "MariaDB Galera cluster", 3)
	opts := galeraTable(t, dsns)
	apps := make([]*app, 3)
	counters := make([]*conflictCounter, 3)
	for i := range apps {
		counters[i] = &conflictCounter{Store: galeraStore(t, dsns[i], opts, true)}
		apps[i] = newApp(t, counters[i], nil, loadDeadline)
	}
	cl := newClient(t)
	cookie, _, err := create(cl, apps[0], 0, "galera")
	if err != nil {
		t.Fatal(err)
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acked    = map[string]bool{}
		statuses = map[int]int{}
		start    = make(chan struct{})
	)
	began := time.Now()
	for g := range 3 * galeraClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := apps[g%3]
			<-start
			for r := range galeraRequests {
				k := fmt.Sprintf("%d-%d", g, r)
				res := cl.do("POST", a.srv.URL, "/inc", url.Values{"k": {k}}, cookie)
				mu.Lock()
				if res.err != nil {
					t.Errorf("request %s: %v", k, res.err)
				}
				statuses[res.status]++
				if res.status == http.StatusNoContent {
					acked["k:"+k] = true
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	elapsed := time.Since(began)

	res := cl.do("GET", apps[1].srv.URL, "/read", url.Values{"keys": {"1"}}, cookie)
	if res.err != nil || res.status != http.StatusOK {
		t.Fatalf("final read: status %d, err %v: %s", res.status, res.err, res.body)
	}
	st, err := res.state()
	if err != nil {
		t.Fatal(err)
	}
	total := 3 * galeraClients * galeraRequests
	if statuses[http.StatusNoContent] != total {
		t.Errorf("%d of %d requests acknowledged; answers by status: %v", statuses[http.StatusNoContent], total, statuses)
	}
	if int(st.N) != len(acked) {
		t.Errorf("counter is %d, %d requests were acknowledged", st.N, len(acked))
	}
	present := map[string]bool{}
	for _, k := range st.Keys {
		present[k] = true
	}
	missing := 0
	for k := range acked {
		if !present[k] {
			missing++
		}
	}
	if missing > 0 || len(st.Keys) != len(acked) {
		t.Errorf("%d acknowledged keys missing; %d keys stored, %d acknowledged", missing, len(st.Keys), len(acked))
	}
	var conflicts, rolledBack int64
	for i, a := range apps {
		a.checkHealthy(t)
		if e := a.errorSummary(3); e != "" {
			t.Errorf("manager %d (node %d) errors:%s", i, i+1, e)
		}
		conflicts += counters[i].conflicts.Load()
		rolledBack += counters[i].rolledBack.Load()
	}
	line := fmt.Sprintf("galera three managers: %d requests on one session through 3 nodes, %d acknowledged, counter %d, keys %d, missing %d; %d save conflicts retried (%d of them transactions rolled back by the cluster, error 1213), in %v",
		total, len(acked), st.N, len(st.Keys), missing, conflicts, rolledBack, elapsed.Round(time.Millisecond))
	t.Log(line)
	fmt.Println(line)
}

// galeraRYWRounds is the number of write-then-read rounds per setting.
const galeraRYWRounds = 500

// TestGaleraReadYourWrites saves through node 1 and loads through node 2 at
// once: with wsrep_sync_wait=1 the load never sees an older value; with 0 it
// may (Galera applies writes on the other nodes asynchronously), and the
// stale reads are counted and logged.
func TestGaleraReadYourWrites(t *testing.T) {
	dsns := clusterEnv(t, envGalera, "MariaDB Galera cluster", 2)
	opts := galeraTable(t, dsns)
	for _, syncWait := range []bool{true, false} {
		t.Run("wsrep_sync_wait="+map[bool]string{true: "1", false: "0"}[syncWait], func(t *testing.T) {
			writer := newApp(t, galeraStore(t, dsns[0], opts, syncWait), nil, loadDeadline)
			reader := newApp(t, galeraStore(t, dsns[1], opts, syncWait), nil, loadDeadline)
			cl := newClient(t)
			cookie, _, err := create(cl, writer, 0, "galera")
			if err != nil {
				t.Fatal(err)
			}
			stale := 0
			began := time.Now()
			for i := 1; i <= galeraRYWRounds; i++ {
				w := cl.do("POST", writer.srv.URL, "/write", url.Values{"v": {strconv.Itoa(i)}}, cookie)
				if w.err != nil || w.status != http.StatusOK {
					t.Fatalf("write %d through node 1: status %d, err %v: %s", i, w.status, w.err, w.body)
				}
				r := cl.do("GET", reader.srv.URL, "/read", nil, cookie)
				if r.err != nil || r.status != http.StatusOK {
					t.Fatalf("read %d through node 2: status %d, err %v: %s", i, r.status, r.err, r.body)
				}
				st, err := r.state()
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case st.Val == int64(i):
				case st.Val < int64(i):
					stale++
				default:
					t.Fatalf("read %d through node 2: val %d was never written yet", i, st.Val)
				}
			}
			elapsed := time.Since(began)
			if syncWait && stale > 0 {
				t.Errorf("%d of %d reads through node 2 were stale with wsrep_sync_wait=1", stale, galeraRYWRounds)
			}
			line := fmt.Sprintf("galera read-your-writes, wsrep_sync_wait=%v: %d of %d reads through node 2 stale, %v per write+read",
				map[bool]int{true: 1, false: 0}[syncWait], stale, galeraRYWRounds, (elapsed / galeraRYWRounds).Round(time.Microsecond))
			t.Log(line)
			fmt.Println(line)
			writer.checkHealthy(t)
			reader.checkHealthy(t)
		})
	}
}

// The node-failure test's shape.
const (
	galeraFaultSessions = 24
	galeraFaultWorkers  = 6
	galeraFaultWarmup   = 150 // requests before the stop
	galeraFaultTail     = 150 // requests after node 3 answered again
	galeraFaultMax      = 4000
	galeraFaultDeadline = 5 * time.Second
)

// TestGaleraNodeFailure stops node 3 in the middle of a write load spread
// over three managers (one per node) and starts it again: requests through
// nodes 1 and 2 never fail, errors come only from node 3's manager while it
// is down, every acknowledged write is there afterwards (read through node 1
// and through the rejoined node 3), and node 3 is Synced in a cluster of
// three again.
func TestGaleraNodeFailure(t *testing.T) {
	dsns := clusterEnv(t, envGalera, "MariaDB Galera cluster", 3)
	ctl := serviceCtl(t)
	opts := galeraTable(t, dsns)
	apps := make([]*app, 3)
	for i := range apps {
		apps[i] = newApp(t, galeraStore(t, dsns[i], opts, true), nil, galeraFaultDeadline)
	}
	cl := newClient(t)
	sessions := createTracked(t, cl, apps[0], galeraFaultSessions, nil)

	var (
		mu          sync.Mutex
		count       int
		warm        = make(chan struct{})
		tailDone    = make(chan struct{})
		restarted   time.Time // when servicectl start returned
		recoveredAt time.Time // first success through node 3 after that
		recovered   = make(chan struct{})
		afterCount  int
	)
	load := startWriteLoad(cl, apps, sessions, galeraFaultWorkers, galeraFaultMax, func(ev writeEvent) {
		mu.Lock()
		defer mu.Unlock()
		count++
		if count == galeraFaultWarmup {
			close(warm)
		}
		if !restarted.IsZero() && recoveredAt.IsZero() && ev.app == 2 && !ev.failed() && ev.start.After(restarted) {
			recoveredAt = ev.end
			close(recovered)
		}
		if !recoveredAt.IsZero() {
			afterCount++
			if afterCount == galeraFaultTail {
				close(tailDone)
			}
		}
	})
	t.Cleanup(load.finish)
	t.Cleanup(func() {
		if err := servicectl(ctl, "start", "galera-3"); err != nil {
			t.Errorf("restart galera-3 in cleanup: %v", err)
		}
	})

	select {
	case <-warm:
	case <-time.After(60 * time.Second):
		t.Fatalf("the load did not reach %d requests in 60s", galeraFaultWarmup)
	}
	stopAt := time.Now()
	if err := servicectl(ctl, "stop", "galera-3"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(faultDown) // the outage itself, with the load going on
	if err := servicectl(ctl, "start", "galera-3"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	restarted = time.Now()
	mu.Unlock()
	t.Logf("galera-3: stopping took %v, down %v, rejoining (start to Synced) took %v",
		stopped.Sub(stopAt).Round(time.Millisecond), faultDown, restarted.Sub(stopped.Add(faultDown)).Round(time.Millisecond))

	select {
	case <-recovered:
	case <-time.After(faultRecovery):
		load.finish()
		t.Fatalf("no request through node 3 succeeded within %v of its restart", faultRecovery)
	}
	select {
	case <-tailDone:
	case <-time.After(faultTail):
	}
	load.finish()

	// ---- what the clients saw
	perApp := [3]struct{ requests, errors, during, after int }{}
	var maxLatency time.Duration
	okDuringOutage := 0
	for _, ev := range load.all() {
		p := &perApp[ev.app]
		p.requests++
		maxLatency = max(maxLatency, ev.end.Sub(ev.start))
		if ev.err != nil {
			t.Errorf("transport error through node %d: %v", ev.app+1, ev.err)
		}
		if !ev.failed() && ev.app != 2 && ev.start.After(stopAt) && ev.end.Before(restarted) {
			okDuringOutage++
		}
		if !ev.failed() {
			continue
		}
		p.errors++
		switch {
		case ev.app != 2:
			t.Errorf("request through node %d failed (status %d) at %v into the outage: only node 3's manager may fail", ev.app+1, ev.status, ev.start.Sub(stopAt).Round(time.Millisecond))
		case ev.end.Before(stopAt):
			t.Errorf("request through node 3 failed (status %d) before its stop", ev.status)
		case ev.start.Before(recoveredAt):
			p.during++
		default:
			p.after++
		}
	}
	if okDuringOutage == 0 {
		t.Errorf("no request through nodes 1 and 2 succeeded while node 3 was down")
	}
	if perApp[2].during == 0 {
		t.Errorf("no request through node 3 failed while it was down: the test did not see the outage")
	}
	if maxLatency > galeraFaultDeadline+2*time.Second {
		t.Errorf("a request took %v, past the %v deadline", maxLatency, galeraFaultDeadline)
	}
	if perApp[2].after > 0 {
		t.Logf("%d requests through node 3 failed after its first success since the restart", perApp[2].after)
	}

	// ---- every acknowledged write is there, through node 1 and node 3
	acked := ackedWrites(sessions)
	lost := verifySessions(t, cl, apps[0], sessions, "read through node 1")
	lost3 := verifySessions(t, cl, apps[2], sessions, "read through node 3")
	if lost > 0 || lost3 > 0 {
		t.Errorf("%d of %d acknowledged writes missing through node 1, %d through node 3", lost, acked, lost3)
	}
	state, size, err := galeraNodeState(t, dsns[2])
	if err != nil || state != "Synced" || size != 3 {
		t.Errorf("node 3 after the restart: state %q, cluster size %d, err %v; want Synced in a cluster of 3", state, size, err)
	}
	for i, a := range apps {
		a.checkHealthy(t)
		if e := a.errorSummary(3); e != "" {
			t.Logf("node %d manager errors:%s", i+1, e)
		}
	}
	line := fmt.Sprintf("galera node failure: requests node1=%d node2=%d node3=%d; errors node1=%d node2=%d node3=%d (during its outage %d, after %d); %d acknowledged writes, %d lost; node 3 %s in a cluster of %d; node 3 answered %v after its restart; max latency %v",
		perApp[0].requests, perApp[1].requests, perApp[2].requests, perApp[0].errors, perApp[1].errors, perApp[2].errors,
		perApp[2].during, perApp[2].after, acked, lost+lost3, state, size,
		recoveredAt.Sub(restarted).Round(time.Millisecond), maxLatency.Round(time.Millisecond))
	t.Log(line)
	fmt.Println(line)
}
