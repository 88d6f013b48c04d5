package reliability_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/redisstore"
)

// The Redis Cluster tests' shape.
const (
	rcSessions = 8 // all in slots of one master
	rcWorkers  = 4
	rcWarmup   = 150 // requests before the failover or the kill
	rcTail     = 150 // requests after the cluster is whole again
	rcMax      = 1500
	rcDeadline = 3 * time.Second // server-side bound on each request
	rcLatency  = rcDeadline + time.Second
)

// rcRun is one load on the Redis Cluster with replicas: a manager over a
// store of its own prefix, sessions all held by one master, and that
// master's replica.
type rcRun struct {
	addrs           []string
	admin           *redis.ClusterClient
	app             *app
	cl              *client
	sessions        []*tracked
	master, replica string // addresses
}

// newRCRun waits for a healthy cluster and prepares a run whose store has
// the options opts (Prefix is set here).
func newRCRun(t *testing.T, ctl string, opts redisstore.Options) *rcRun {
	t.Helper()
	r := &rcRun{addrs: clusterEnv(t, envRedisReplicated, "Redis Cluster with replicas", 6)}
	replicatedHealthy(t, ctl, 60*time.Second) // an earlier test may have left it mending
	slotsReplicated(t, r.addrs, 30*time.Second)
	opts.Prefix = randomName("reliability:") + ":"
	redisCleanup(t, func() redis.UniversalClient { return newReplicatedClient(r.addrs) }, opts.Prefix)
	r.admin = newReplicatedClient(r.addrs)
	t.Cleanup(func() { r.admin.Close() })
	r.app = newApp(t, replicatedStore(t, r.addrs, opts), nil, rcDeadline)
	r.cl = newClient(t)
	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	r.sessions = createTracked(t, r.cl, r.app, rcSessions, func(key string) bool {
		m, rep, err := slotOwners(ctx, r.admin, redisKeyOf(opts.Prefix, key))
		if err != nil {
			t.Fatal(err)
		}
		if r.master == "" {
			r.master, r.replica = m, rep
		}
		return m == r.master
	})
	// The sessions are where the test thinks they are.
	node := redis.NewClient(&redis.Options{Addr: r.master})
	defer node.Close()
	for _, s := range r.sessions {
		if n, err := node.Exists(ctx, redisKeyOf(opts.Prefix, s.key)).Result(); err != nil || n != 1 {
			t.Fatalf("session %s is not on master %s (EXISTS %d, %v)", s.key, r.master, n, err)
		}
	}
	return r
}

// phases runs the load: warm-up, then event (the failover or the kill,
// which returns when the cluster is whole again), then a tail; it returns
// the events and when event began and ended.
func (r *rcRun) phases(t *testing.T, event func() error) (evs []writeEvent, began, ended time.Time) {
	t.Helper()
	var (
		mu       sync.Mutex
		count    int
		after    int
		warm     = make(chan struct{})
		tailDone = make(chan struct{})
		whole    bool
	)
	load := startWriteLoad(r.cl, []*app{r.app}, r.sessions, rcWorkers, rcMax, func(ev writeEvent) {
		mu.Lock()
		defer mu.Unlock()
		count++
		if count == rcWarmup {
			close(warm)
		}
		if whole {
			after++
			if after == rcTail {
				close(tailDone)
			}
		}
	})
	defer load.finish()
	select {
	case <-warm:
	case <-time.After(60 * time.Second):
		t.Fatalf("the load did not reach %d requests in 60s", rcWarmup)
	}
	began = time.Now()
	if err := event(); err != nil {
		load.finish()
		t.Fatal(err)
	}
	ended = time.Now()
	mu.Lock()
	whole = true
	mu.Unlock()
	select {
	case <-tailDone:
	case <-time.After(faultTail):
	}
	load.finish()
	return load.all(), began, ended
}

// summary checks that every request was answered in time and returns the
// number of requests, of errors, and of successes after ended.
func summarize(t *testing.T, evs []writeEvent, began, ended time.Time) (requests, errors, okAfter int, maxLatency time.Duration) {
	t.Helper()
	for _, ev := range evs {
		requests++
		lat := ev.end.Sub(ev.start)
		maxLatency = max(maxLatency, lat)
		if ev.err != nil {
			t.Errorf("request not answered: %v after %v", ev.err, lat)
		}
		if lat > rcLatency {
			t.Errorf("a request took %v, past the %v deadline", lat, rcDeadline)
		}
		if ev.failed() {
			errors++
			if ev.end.Before(began) {
				t.Errorf("a request failed (status %d) before the failover", ev.status)
			}
		} else if ev.start.After(ended) {
			okAfter++
		}
	}
	if okAfter == 0 {
		t.Errorf("no request succeeded after the cluster was whole again")
	}
	return requests, errors, okAfter, maxLatency
}

// mastersSeenBy reports whether every reachable node's CLUSTER NODES lists
// addr as a master.
func mastersSeenBy(addrs []string, addr string) bool {
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, DialTimeout: time.Second, ReadTimeout: time.Second})
		ctx, cancel := ctxTimeout(2 * time.Second)
		text, err := c.ClusterNodes(ctx).Result()
		cancel()
		c.Close()
		if err != nil {
			return false
		}
		seen := false
		for _, line := range strings.Split(text, "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && strings.HasPrefix(f[1], addr+"@") && strings.Contains(f[2], "master") {
				seen = true
			}
		}
		if !seen {
			return false
		}
	}
	return true
}

// TestRedisClusterFailover runs a write load on sessions held by one master
// of the Redis Cluster with replicas and sends CLUSTER FAILOVER to that
// master's replica (a coordinated switch, as for maintenance): every request
// is answered within its deadline, and every acknowledged write is there
// afterwards.
func TestRedisClusterFailover(t *testing.T) {
	ctl := serviceCtl(t)
	r := newRCRun(t, ctl, redisstore.Options{})
	var promoted, seenByAll time.Duration
	evs, began, ended := r.phases(t, func() error {
		node := redis.NewClient(&redis.Options{Addr: r.replica})
		defer node.Close()
		ctx, cancel := ctxTimeout(10 * time.Second)
		defer cancel()
		start := time.Now()
		if err := node.ClusterFailover(ctx).Err(); err != nil {
			return fmt.Errorf("CLUSTER FAILOVER on %s: %w", r.replica, err)
		}
		var ok bool
		if promoted, ok = waitFor(15*time.Second, func() bool { return roleOf(r.replica) == "master" }); !ok {
			return fmt.Errorf("replica %s is not a master 15s after CLUSTER FAILOVER", r.replica)
		}
		if _, ok = waitFor(15*time.Second, func() bool { return mastersSeenBy(r.addrs, r.replica) }); !ok {
			return fmt.Errorf("not every node sees %s as a master 15s after CLUSTER FAILOVER", r.replica)
		}
		seenByAll = time.Since(start)
		return nil
	})
	requests, errs, okAfter, maxLatency := summarize(t, evs, began, ended)
	acked := ackedWrites(r.sessions)
	lost := verifySessions(t, r.cl, r.app, r.sessions, "after the failover")
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes lost across CLUSTER FAILOVER", lost, acked)
	}
	if role := roleOf(r.master); role != "slave" {
		t.Errorf("the former master %s is %q after the failover, want a replica", r.master, role)
	}
	r.app.checkHealthy(t)
	if e := r.app.errorSummary(3); e != "" {
		t.Logf("errors:%s", e)
	}
	line := fmt.Sprintf("redis cluster failover (CLUSTER FAILOVER on %s, replica of %s): requests=%d errors=%d ok_after=%d acknowledged=%d lost=%d; promoted in %v, seen by all nodes in %v; max latency %v",
		r.replica, r.master, requests, errs, okAfter, acked, lost, promoted.Round(time.Millisecond), seenByAll.Round(time.Millisecond), maxLatency.Round(time.Millisecond))
	t.Log(line)
	fmt.Println(line)
}

// TestRedisClusterMasterKill kills (SIGKILL) the master holding the
// sessions in the middle of a write load, waits for its replica to be
// promoted, and starts the killed node again (it rejoins as a replica). It
// counts the acknowledged writes lost: without WAIT, replication is
// asynchronous and a write acknowledged by the master just before it died
// may never have reached the replica (the figure is logged); with
// redisstore's WaitReplicas=1, a write is acknowledged only once a replica
// has it, so none may be lost.
func TestRedisClusterMasterKill(t *testing.T) {
	ctl := serviceCtl(t)
	for _, mode := range []struct {
		name string
		opts redisstore.Options
	}{
		{"no WAIT", redisstore.Options{}},
		{"WaitReplicas=1", redisstore.Options{WaitReplicas: 1, WaitTimeout: 200 * time.Millisecond}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			r := newRCRun(t, ctl, mode.opts)
			service := "redis-replicated-" + portOf(r.master)
			t.Cleanup(func() {
				// Always bring the node back, once its replica took over
				// (a node without persistence started before that would
				// come back as an empty master).
				waitFor(15*time.Second, func() bool { return roleOf(r.replica) == "master" })
				if err := servicectl(ctl, "start", service); err != nil {
					t.Errorf("restart %s in cleanup: %v", service, err)
				}
			})
			var promoted, rejoined time.Duration
			evs, began, ended := r.phases(t, func() error {
				start := time.Now()
				if err := servicectl(ctl, "kill", service); err != nil {
					return err
				}
				_, ok := waitFor(20*time.Second, func() bool {
					if roleOf(r.replica) != "master" {
						return false
					}
					info, err := nodeInfo(r.replica, "cluster")
					return err == nil && info["cluster_state"] == "ok"
				})
				if !ok {
					return fmt.Errorf("replica %s not promoted (with cluster_state:ok) 20s after the kill of %s", r.replica, r.master)
				}
				promoted = time.Since(start)
				if err := servicectl(ctl, "start", service); err != nil {
					return err
				}
				rejoined = time.Since(start)
				return nil
			})
			requests, errs, okAfter, maxLatency := summarize(t, evs, began, ended)
			acked := ackedWrites(r.sessions)
			lost := verifySessions(t, r.cl, r.app, r.sessions, "after the kill")
			if role := roleOf(r.master); role != "slave" {
				t.Errorf("the killed master %s is %q after its restart, want a replica", r.master, role)
			}
			if mode.opts.WaitReplicas > 0 && lost > 0 {
				t.Errorf("%d of %d acknowledged writes lost with WaitReplicas=%d", lost, acked, mode.opts.WaitReplicas)
			}
			r.app.checkHealthy(t)
			if e := r.app.errorSummary(3); e != "" {
				t.Logf("errors:%s", e)
			}
			line := fmt.Sprintf("redis cluster master kill (%s): killed %s, replica %s promoted with cluster_state:ok %v after the kill, killed node back as a replica after %v; requests=%d errors=%d ok_after=%d acknowledged=%d lost=%d; max latency %v",
				mode.name, r.master, r.replica, promoted.Round(time.Millisecond), rejoined.Round(time.Millisecond),
				requests, errs, okAfter, acked, lost, maxLatency.Round(time.Millisecond))
			t.Log(line)
			fmt.Println(line)
			replicatedHealthy(t, ctl, 60*time.Second)
		})
	}
}
