package redisstore_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// connectedReplicas reads connected_slaves from INFO replication.
func connectedReplicas(t *testing.T, ctx context.Context, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("INFO replication: %q", line)
			}
			return n
		}
	}
	t.Fatalf("INFO replication has no connected_slaves:\n%s", info)
	return 0
}

// TestWaitReplicas runs on the single server and its replica:
// WaitReplicas equal to the connected replicas succeeds, one more fails
// every write with ErrNotReplicated within WaitTimeout, after the write
// happened on the primary.
func TestWaitReplicas(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	replicas := connectedReplicas(t, ctx, c)
	if replicas == 0 {
		t.Skipf("the server at %s has no connected replica (scripts/services.sh starts one on :6380)", env(t, envAddr))
	}
	prefix := uniquePrefix(t, c)

	t.Run("enough replicas", func(t *testing.T) {
		s := newStore(t, c, redisstore.Options{Prefix: prefix, WaitReplicas: replicas, WaitTimeout: 2 * time.Second})
		key := storetest.Key()
		now := time.Now()
		start := time.Now()
		v, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now, Owner: "o-" + randomHex(4)})
		if err != nil {
			t.Fatalf("Save with WaitReplicas %d: %v", replicas, err)
		}
		t.Logf("Save acknowledged by %d replica(s) in %v", replicas, time.Since(start))
		if err := s.Touch(ctx, key, now.Add(2*time.Hour)); err != nil {
			t.Fatalf("Touch: %v", err)
		}
		if rec, err := s.Load(ctx, key); err != nil || rec.Version != v {
			t.Fatalf("Load = %+v, %v", rec, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	})

	t.Run("too few replicas", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		s := newStore(t, c, redisstore.Options{Prefix: prefix, WaitReplicas: replicas + 1, WaitTimeout: timeout})
		key := storetest.Key()
		owner := "o-" + randomHex(4)
		now := time.Now()
		timed := func(op string, f func() error) error {
			t.Helper()
			start := time.Now()
			err := f()
			d := time.Since(start)
			if !errors.Is(err, redisstore.ErrNotReplicated) {
				t.Fatalf("%s: err = %v, want ErrNotReplicated", op, err)
			}
			if d < timeout-10*time.Millisecond || d > timeout+500*time.Millisecond {
				t.Errorf("%s failed after %v, want about the %v WaitTimeout", op, d, timeout)
			}
			t.Logf("%s: %v after %v", op, err, d)
			return err
		}
		var v uint64
		timed("Save", func() (err error) {
			v, err = s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now, Owner: owner})
			return err
		})
		// The record is on the primary, and so is its owner index.
		rec, err := s.Load(ctx, key)
		if err != nil || v == 0 || rec.Version != v || string(rec.Data) != "x" {
			t.Fatalf("after the unreplicated Save: Load = %+v, %v; Save returned version %d", rec, err, v)
		}
		if keys, err := s.OwnerKeys(ctx, owner); err != nil || !slices.Equal(keys, []string{key}) {
			t.Fatalf("OwnerKeys = %v, %v; want [%s]", keys, err, key)
		}
		timed("Touch", func() error { return s.Touch(ctx, key, now.Add(2*time.Hour)) })
		if rec, err := s.Load(ctx, key); err != nil || !rec.Expiry.Equal(now.Add(2*time.Hour).Truncate(time.Millisecond)) {
			t.Fatalf("after the unreplicated Touch: Load = %+v, %v", rec, err)
		}
		// A conflict is reported as such: nothing was written.
		if _, err := s.Save(ctx, key, session.Record{Data: []byte("y"), Expiry: now.Add(time.Hour), Version: v + 100}); !errors.Is(err, session.ErrConflict) || errors.Is(err, redisstore.ErrNotReplicated) {
			t.Fatalf("conflicting Save: %v, want ErrConflict only", err)
		}
		timed("Delete", func() error { return s.Delete(ctx, key) })
		if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("after the unreplicated Delete: %v", err)
		}
		// Deleting what is not there writes nothing and waits for nothing.
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
	})

	// The WAIT never outlasts the caller's deadline.
	t.Run("deadline shorter than WaitTimeout", func(t *testing.T) {
		s := newStore(t, c, redisstore.Options{Prefix: prefix, WaitReplicas: replicas + 1, WaitTimeout: 2 * time.Second})
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.Save(short, storetest.Key(), session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
		if d := time.Since(start); d > 700*time.Millisecond {
			t.Fatalf("Save returned after %v, the deadline was 200ms", d)
		}
		// WAIT is given most of the time left, so it usually answers
		// "too few" before the deadline; on a loaded machine the
		// deadline may come first.
		if !errors.Is(err, redisstore.ErrNotReplicated) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrNotReplicated or context.DeadlineExceeded", err)
		}
		t.Logf("Save with a 200ms deadline: %v", err)
	})
}

// TestWaitRoundTrips: with WaitReplicas, the write and its WAIT go out as
// one pipeline, one round trip.
func TestWaitRoundTrips(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	replicas := connectedReplicas(t, ctx, c)
	if replicas == 0 {
		t.Skip("no connected replica")
	}
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c), WaitReplicas: replicas, WaitTimeout: 2 * time.Second})
	if err := s.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	warm := storetest.Key()
	mustSave(t, ctx, s, warm, "w")
	h := &countingHook{}
	c.AddHook(h)
	expect := func(op string, want ...string) {
		t.Helper()
		if got := h.take(); !slices.Equal(got, want) {
			t.Errorf("%s sent %v, want %v", op, got, want)
		}
	}
	key := storetest.Key()
	v := mustSave(t, ctx, s, key, "x")
	expect("Save", "pipeline(evalsha,wait)")
	if _, err := s.Load(ctx, key); err != nil {
		t.Fatal(err)
	}
	expect("Load", "hgetall")
	if err := s.Touch(ctx, key, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	expect("Touch", "pipeline(evalsha,wait)")
	if _, err := s.Save(ctx, key, session.Record{Data: []byte("y"), Expiry: time.Now().Add(time.Hour), Version: v, Owner: "o-" + randomHex(3)}); err != nil {
		t.Fatal(err)
	}
	expect("Save that sets the owner", "pipeline(evalsha,wait)", "pipeline(evalsha,wait)")
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	expect("Delete", "pipeline(del,wait)")
}

// TestWaitClusterGoesToKeyNode: on a Cluster the write and its WAIT are one
// pipeline on the primary that holds the key (a keyless WAIT sent through
// the cluster client could land on any node and count nothing useful).
// The test Cluster has no replicas, so WaitReplicas 1 fails with
// ErrNotReplicated after the write.
func TestWaitClusterGoesToKeyNode(t *testing.T) {
	addrs := strings.Split(env(t, envClusterAddrs), ",")
	var (
		mu    sync.Mutex
		sent  = map[string][]string{} // node address: pipelines
		hooks []*redis.Client
	)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	c.OnNewNode(func(node *redis.Client) {
		addr := node.Options().Addr
		node.AddHook(pipelineRecorder(func(names string) {
			mu.Lock()
			sent[addr] = append(sent[addr], names)
			mu.Unlock()
		}))
		mu.Lock()
		hooks = append(hooks, node)
		mu.Unlock()
	})
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	node := masterOf(t, ctx, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix, WaitReplicas: 1, WaitTimeout: 100 * time.Millisecond})
	masters := map[string]bool{}
	for range 8 {
		key := storetest.Key()
		mu.Lock()
		clear(sent)
		mu.Unlock()
		v, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
		if !errors.Is(err, redisstore.ErrNotReplicated) || v == 0 {
			t.Fatalf("Save on a Cluster without replicas = %d, %v; want a version and ErrNotReplicated", v, err)
		}
		if _, err := s.Load(ctx, key); err != nil {
			t.Fatalf("the record was not written: %v", err)
		}
		want := node(prefix + "{" + key + "}")
		masters[want] = true
		mu.Lock()
		got := map[string][]string{}
		for a, p := range sent {
			for _, names := range p {
				if strings.Contains(names, "wait") {
					got[a] = append(got[a], names)
				}
			}
		}
		mu.Unlock()
		if len(got) != 1 || len(got[want]) != 1 || !strings.Contains(got[want][0], "evalsha") && !strings.Contains(got[want][0], "eval,") {
			t.Fatalf("WAIT pipelines by node %v, want one write+WAIT pipeline on %s", got, want)
		}
	}
	if len(masters) < 2 {
		t.Fatalf("8 keys all on %v: the test did not exercise several primaries", masters)
	}
	t.Logf("write+WAIT pipelines went to the key's primary on %d primaries", len(masters))
}

// pipelineRecorder is a hook that reports the command names of every
// pipeline.
type pipelineRecorder func(names string)

func (r pipelineRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r pipelineRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (r pipelineRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		r(strings.Join(names, ","))
		return next(ctx, cmds)
	}
}

// BenchmarkSaveWait measures what WAIT adds to a Save on the single server
// and its replica: the write and WAIT share a round trip, so the cost is the
// replica's acknowledgement.
func BenchmarkSaveWait(b *testing.B) {
	addr := os.Getenv(envAddr)
	if addr == "" {
		b.Skipf("%s is not set", envAddr)
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	prefix := "skbench:" + randomHex(6) + ":"
	b.Cleanup(func() { _, _ = deleteAll(context.Background(), c, prefix+"*") })
	for _, n := range []int{0, 1} {
		b.Run("WaitReplicas="+strconv.Itoa(n), func(b *testing.B) {
			s, err := redisstore.New(c, redisstore.Options{Prefix: prefix, WaitReplicas: n, WaitTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			key := storetest.Key()
			rec := session.Record{Data: make([]byte, 512), Expiry: time.Now().Add(time.Hour)}
			for b.Loop() {
				v, err := s.Save(ctx, key, rec)
				if err != nil {
					b.Fatal(err)
				}
				rec.Version = v
			}
		})
	}
}
