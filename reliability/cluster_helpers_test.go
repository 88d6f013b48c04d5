package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
)

// Variables naming the clusters (set by scripts/services.sh).
const (
	// envGalera holds the DSNs of the Galera nodes, comma-separated.
	envGalera = "SESSION_TEST_GALERA_DSNS"
	// envRedisReplicated holds the addresses of the Redis Cluster with
	// replicas (3 masters, 1 replica each), comma-separated.
	envRedisReplicated = "SESSION_TEST_REDIS_REPLICATED_ADDRS"
)

// clusterEnv returns the comma-separated list in the variable env, or skips
// the test naming it.
func clusterEnv(t *testing.T, env, what string, atLeast int) []string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("%s is not set: no %s to test against (scripts/services.sh sets it)", env, what)
	}
	parts := strings.Split(v, ",")
	if len(parts) < atLeast {
		t.Fatalf("%s names %d servers, the test needs %d: %q", env, len(parts), atLeast, v)
	}
	return parts
}

// serviceCtl returns scripts/servicectl.sh, or skips the test.
func serviceCtl(t *testing.T) string {
	t.Helper()
	ctl := os.Getenv(envServiceCtl)
	if ctl == "" {
		t.Skipf("%s is not set: cannot stop and start cluster nodes (scripts/services.sh sets it)", envServiceCtl)
	}
	return ctl
}

// waitFor polls cond every 50 ms until it holds or timeout passes, and
// returns how long it took.
func waitFor(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond) // polling a server's state
	}
}

// ---- Galera

// openGalera is openGaleraDB, closed at the end of the test.
func openGalera(t *testing.T, dsn string, syncWait bool) *sql.DB {
	t.Helper()
	db, err := openGaleraDB(dsn, syncWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openGaleraDB opens a *sql.DB of its own on one Galera node. With syncWait,
// every read of its sessions waits until the node has applied every write
// committed anywhere in the cluster before the read began (wsrep_sync_wait=1:
// read-your-writes across nodes).
func openGaleraDB(dsn string, syncWait bool) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envGalera, err)
	}
	cfg.Timeout = 2 * time.Second // dial timeout, for a stopped node
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["wsrep_sync_wait"] = "0"
	if syncWait {
		cfg.Params["wsrep_sync_wait"] = "1"
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envGalera, err)
	}
	return sql.OpenDB(c), nil
}

// galeraTable creates a table of the native layout through the first node
// (DDL reaches every node before it returns) and drops it at the end.
func galeraTable(t *testing.T, dsns []string) sqlstore.Options {
	t.Helper()
	opts := sqlstore.Options{Dialect: sqlstore.MySQL, Table: randomName("cluster_")}
	withDB := func(f func(ctx context.Context, db *sql.DB) error) error {
		return withTempDB(func() (*sql.DB, error) { return openGaleraDB(dsns[0], false) }, f)
	}
	if err := withDB(func(ctx context.Context, db *sql.DB) error { return sqlstore.CreateSchema(ctx, db, opts) }); err != nil {
		t.Fatalf("CreateSchema on Galera node 1: %v", err)
	}
	t.Cleanup(func() {
		err := withDB(func(ctx context.Context, db *sql.DB) error {
			_, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS `"+opts.Table+"`")
			return err
		})
		if err != nil {
			t.Errorf("drop table %s: %v", opts.Table, err)
		}
	})
	return opts
}

// galeraStore opens a store on one node, over a *sql.DB of its own: one
// application server talking to its own node.
func galeraStore(t *testing.T, dsn string, opts sqlstore.Options, syncWait bool) *sqlstore.Store {
	t.Helper()
	db := openGalera(t, dsn, syncWait)
	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	s, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		t.Fatalf("sqlstore.New on %s: %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// galeraNodeState returns a node's wsrep_local_state_comment and
// wsrep_cluster_size, over a connection of its own.
func galeraNodeState(t *testing.T, dsn string) (string, int, error) {
	t.Helper()
	db, err := openGaleraDB(dsn, false)
	if err != nil {
		return "", 0, err
	}
	defer db.Close()
	ctx, cancel := ctxTimeout(5 * time.Second)
	defer cancel()
	var name, state, size string
	if err := db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_local_state_comment'").Scan(&name, &state); err != nil {
		return "", 0, err
	}
	if err := db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_cluster_size'").Scan(&name, &size); err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(size)
	return state, n, err
}

// conflictCounter wraps a store and counts the saves that failed with
// session.ErrConflict, and among them those where the database rolled the
// transaction back (MySQL error 1213: a Galera certification failure or a
// deadlock) rather than the version check failing.
type conflictCounter struct {
	session.Store
	conflicts, rolledBack atomic.Int64
}

func (c *conflictCounter) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	v, err := c.Store.Save(ctx, key, rec)
	if errors.Is(err, session.ErrConflict) {
		c.conflicts.Add(1)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1213 {
			c.rolledBack.Add(1)
		}
	}
	return v, err
}

// ---- Redis Cluster with replicas

// newReplicatedClient returns a client of the Redis Cluster with replicas.
func newReplicatedClient(addrs []string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
}

// replicatedStore opens a client and a store under prefix.
func replicatedStore(t *testing.T, addrs []string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	rc := newReplicatedClient(addrs)
	t.Cleanup(func() { rc.Close() })
	s, err := redisstore.New(rc, opts)
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return s
}

// nodeInfo returns one section of a node's INFO as a map, over a client of
// its own.
func nodeInfo(addr, section string) (map[string]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer c.Close()
	ctx, cancel := ctxTimeout(2 * time.Second)
	defer cancel()
	var text string
	var err error
	if section == "cluster" {
		text, err = c.ClusterInfo(ctx).Result()
	} else {
		text, err = c.Info(ctx, section).Result()
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// roleOf returns "master" or "slave" as the node at addr says.
func roleOf(addr string) string {
	info, err := nodeInfo(addr, "replication")
	if err != nil {
		return "unreachable"
	}
	return info["role"]
}

// slotOwners returns the master holding the slot of redisKey and one of
// its replicas, as the cluster reports them now.
func slotOwners(ctx context.Context, rc *redis.ClusterClient, redisKey string) (master, replica string, err error) {
	slot, err := rc.ClusterKeySlot(ctx, redisKey).Result()
	if err != nil {
		return "", "", fmt.Errorf("CLUSTER KEYSLOT: %w", err)
	}
	slots, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		return "", "", fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			if len(s.Nodes) < 2 {
				return "", "", fmt.Errorf("slot %d: master %s has no replica", slot, s.Nodes[0].Addr)
			}
			return s.Nodes[0].Addr, s.Nodes[1].Addr, nil
		}
	}
	return "", "", fmt.Errorf("slot %d is not assigned", slot)
}

// slotsReplicated waits until every node's CLUSTER SLOTS shows a replica
// beside the master of every slot range: after a failover the nodes learn
// the new replica link by gossip, a moment after servicectl.sh judges the
// cluster healthy.
func slotsReplicated(t *testing.T, addrs []string, timeout time.Duration) {
	t.Helper()
	took, ok := waitFor(timeout, func() bool {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			ctx, cancel := ctxTimeout(2 * time.Second)
			slots, err := c.ClusterSlots(ctx).Result()
			cancel()
			c.Close()
			if err != nil || len(slots) == 0 {
				return false
			}
			for _, s := range slots {
				if len(s.Nodes) < 2 {
					return false
				}
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("some node still shows a master without replica %v later", timeout)
	}
	t.Logf("redis-replicated: every node shows every master with a replica after %v", took.Round(time.Millisecond))
}

// redisKeyOf is the Redis key under which redisstore keeps the session key:
// the prefix and the key as a hash tag, so that the slot is the key's.
func redisKeyOf(prefix, key string) string { return prefix + "{" + key + "}" }

// portOf returns the port of a host:port address.
func portOf(addr string) string {
	_, p, _ := strings.Cut(addr, ":")
	return p
}

// replicatedHealthy waits until the whole cluster is healthy again (every
// node up with cluster_state:ok, every master with a linked replica), as
// servicectl.sh judges it.
func replicatedHealthy(t *testing.T, ctl string, timeout time.Duration) {
	t.Helper()
	took, ok := waitFor(timeout, func() bool { return servicectl(ctl, "status", "redis-replicated") == nil })
	if !ok {
		t.Fatalf("the Redis Cluster with replicas is not healthy %v later", timeout)
	}
	t.Logf("redis-replicated: healthy after %v", took.Round(time.Millisecond))
}

// ---- the write load shared by the cluster tests

// tracked is one session of a write load and what its client knows about
// it. Each request is an /inc: it increments the counter n and sets a key of
// its own, so a lost write stays visible (a missing key) whatever is written
// after it.
type tracked struct {
	cookie, key string
	name        string          // prefix of the keys of this session's requests
	next        int             // the next request's number
	acked       map[string]bool // keys of acknowledged requests
	maybe       map[string]bool // keys of requests whose answer was an error: applied or not
	gone        int             // answers "session lost" (410)
}

// check compares a final read (with keys) with what the client knows and
// returns the acknowledged writes that are missing and the problems found.
func (s *tracked) check(st sessionState) (lost int, problems []string) {
	present := map[string]bool{}
	for _, k := range st.Keys {
		present[k] = true
		if !s.acked[k] && !s.maybe[k] {
			problems = append(problems, fmt.Sprintf("key %s was never written", k))
		}
	}
	for k := range s.acked {
		if !present[k] {
			lost++
		}
	}
	if int(st.N) != len(st.Keys) {
		problems = append(problems, fmt.Sprintf("counter %d, %d keys: an increment and its key did not land together", st.N, len(st.Keys)))
	}
	return lost, problems
}

// writeEvent is one request of a write load.
type writeEvent struct {
	app        int
	start, end time.Time
	status     int
	err        error
}

func (e writeEvent) failed() bool { return e.err != nil || e.status < 200 || e.status >= 300 }

// writeLoad is workers goroutines, each sending /inc requests to its
// sessions (session i belongs to worker i%workers) through the apps in turn,
// until stopped or until each sent its maximum.
type writeLoad struct {
	events [][]writeEvent
	wg     sync.WaitGroup
	stop   chan struct{}
	once   sync.Once
}

// startWriteLoad starts the load; every request calls tick (from the
// worker's goroutine) when it is answered.
func startWriteLoad(cl *client, apps []*app, sessions []*tracked, workers, maxPerWorker int, tick func(writeEvent)) *writeLoad {
	w := &writeLoad{events: make([][]writeEvent, workers), stop: make(chan struct{})}
	for g := range workers {
		var mine []*tracked
		for i, s := range sessions {
			if i%workers == g {
				mine = append(mine, s)
			}
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for n := range maxPerWorker {
				select {
				case <-w.stop:
					return
				default:
				}
				s := mine[n%len(mine)]
				ai := (g + n) % len(apps)
				k := fmt.Sprintf("%s-%d", s.name, s.next)
				s.next++
				res := cl.do("POST", apps[ai].srv.URL, "/inc", url.Values{"k": {k}}, s.cookie)
				switch {
				case res.err == nil && res.status == http.StatusNoContent:
					s.acked["k:"+k] = true
				case res.err == nil && res.status == http.StatusGone:
					s.gone++
				case res.err == nil && res.status == http.StatusServiceUnavailable:
					// the load failed: nothing was saved
				default:
					// the save failed, or its answer did: it may have
					// been applied
					s.maybe["k:"+k] = true
				}
				ev := writeEvent{app: ai, start: res.start, end: res.end, status: res.status, err: res.err}
				w.events[g] = append(w.events[g], ev)
				if tick != nil {
					tick(ev)
				}
			}
		}()
	}
	return w
}

// finish stops the load and waits for its workers.
func (w *writeLoad) finish() {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
}

// all returns every event (call after finish).
func (w *writeLoad) all() []writeEvent {
	var out []writeEvent
	for _, evs := range w.events {
		out = append(out, evs...)
	}
	return out
}

// acked returns the number of acknowledged requests of the sessions.
func ackedWrites(sessions []*tracked) int {
	n := 0
	for _, s := range sessions {
		n += len(s.acked)
	}
	return n
}

// createTracked creates sessions through a until n of them are accepted by
// keep (nil: all), and returns those.
func createTracked(t *testing.T, cl *client, a *app, n int, keep func(key string) bool) []*tracked {
	t.Helper()
	var out []*tracked
	for made := 0; len(out) < n; made++ {
		if made > 50*n {
			t.Fatalf("created %d sessions, only %d of them suitable", made, len(out))
		}
		cookie, key, err := create(cl, a, made, "cluster")
		if err != nil {
			t.Fatalf("create session: %v", err)
		}
		if keep == nil || keep(key) {
			out = append(out, &tracked{cookie: cookie, key: key, name: strconv.Itoa(len(out)), acked: map[string]bool{}, maybe: map[string]bool{}})
		}
	}
	return out
}

// readState reads a session with its keys through a, retrying 5xx answers
// for a while; ok is false when the session is gone.
func readState(t *testing.T, cl *client, a *app, s *tracked) (st sessionState, ok bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := cl.do("GET", a.srv.URL, "/read", url.Values{"keys": {"1"}}, s.cookie)
		switch {
		case res.err == nil && res.status == http.StatusOK:
			st, err := res.state()
			if err != nil {
				t.Fatal(err)
			}
			return st, true
		case res.err == nil && res.status == http.StatusGone:
			return st, false
		case time.Now().After(deadline):
			t.Fatalf("read of session %s: status %d, err %v: %s", s.key, res.status, res.err, res.body)
		}
		time.Sleep(100 * time.Millisecond) // back off before retrying a 5xx
	}
}

// verifySessions reads every session through a and returns the number of
// acknowledged writes missing; problems (keys never written, counters that
// differ from the keys, sessions answered "lost") fail t.
func verifySessions(t *testing.T, cl *client, a *app, sessions []*tracked, where string) (lost int) {
	t.Helper()
	for _, s := range sessions {
		st, ok := readState(t, cl, a, s)
		if !ok {
			t.Errorf("%s: session %s is gone", where, s.key)
			lost += len(s.acked)
			continue
		}
		l, problems := s.check(st)
		lost += l
		for _, p := range problems {
			t.Errorf("%s: session %s: %s", where, s.key, p)
		}
		if s.gone > 0 {
			t.Errorf("session %s was answered \"lost\" %d times", s.key, s.gone)
		}
	}
	return lost
}
