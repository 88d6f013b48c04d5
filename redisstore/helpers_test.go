package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session/redisstore"
)

// Environment variables naming the test servers (see scripts/services.sh).
const (
	envAddr           = "SESSION_TEST_REDIS_ADDR"
	envClusterAddrs   = "SESSION_TEST_REDIS_CLUSTER_ADDRS"
	envSentinelAddrs  = "SESSION_TEST_REDIS_SENTINEL_ADDRS"
	envSentinelMaster = "SESSION_TEST_REDIS_SENTINEL_MASTER"
)

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: no Redis server to test against", name)
	}
	return v
}

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ping(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	if err := c.Ping(shortCtx(t)).Err(); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// singleClient returns a client of the single server. Options not set by
// the caller get the settings recommended by the README.
func singleClient(t *testing.T, opt redis.Options) *redis.Client {
	t.Helper()
	opt.Addr = env(t, envAddr)
	c := redis.NewClient(&opt)
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	return c
}

func clusterClient(t *testing.T) *redis.ClusterClient {
	t.Helper()
	addrs := strings.Split(env(t, envClusterAddrs), ",")
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	return c
}

func sentinelClient(t *testing.T) *redis.Client {
	t.Helper()
	addrs := strings.Split(env(t, envSentinelAddrs), ",")
	master := os.Getenv(envSentinelMaster)
	if master == "" {
		master = "mymaster"
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            master,
		SentinelAddrs:         addrs,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	ping(t, c)
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uniquePrefix returns a key prefix of its own for this test run and
// deletes every key under it when the test ends.
func uniquePrefix(t *testing.T, c redis.UniversalClient) string {
	t.Helper()
	prefix := "sktest:" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n, err := deleteAll(ctx, c, prefix+"*")
		if err != nil {
			t.Errorf("cleanup of %s*: %v", prefix, err)
		}
		t.Logf("cleanup: %d keys under %s", n, prefix)
	})
	return prefix
}

// deleteAll deletes the keys matching pattern on every primary.
func deleteAll(ctx context.Context, c redis.UniversalClient, pattern string) (int, error) {
	var (
		mu    sync.Mutex
		total int
	)
	del := func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			if err := node.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
			mu.Lock()
			total++
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	}
	return total, err
}

// countingHook counts what a client sends: each command, and each
// pipeline as one.
type countingHook struct {
	mu    sync.Mutex
	names []string
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.names = append(h.names, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		h.mu.Lock()
		h.names = append(h.names, "pipeline("+strings.Join(names, ",")+")")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// take returns what was sent since the last take.
func (h *countingHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.names
	h.names = nil
	return n
}

// newStore returns a store on c, failing the test on an options error.
func newStore(t *testing.T, c redis.UniversalClient, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(c, opts)
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	return s
}
