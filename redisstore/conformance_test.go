package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

func TestConformanceSingle(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix})
	storetest.Run(t, s, storetest.Config{
		// A hash whose version is not a number, as another program
		// might leave under a session key.
		Corrupt: func(ctx context.Context, key string) error {
			return c.HSet(ctx, prefix+"{"+key+"}", "d", "data", "v", "forty-two", "x", "9999999999999", "c", "1", "m", "1", "o", "").Err()
		},
	})
}

// TestConformanceSingleDefaultClient runs the suite on a client with
// go-redis' default options (ContextTimeoutEnabled unset), where the store
// itself bounds every call by the context.
func TestConformanceSingleDefaultClient(t *testing.T) {
	c := singleClient(t, redis.Options{})
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	storetest.Run(t, s, storetest.Config{})
}

// TestConformanceRawIDs uses PHP-style raw session IDs as keys, as the
// manager does in Phalcon compatibility mode.
func TestConformanceRawIDs(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	storetest.Run(t, s, storetest.Config{NewKey: func() string { return "php-" + randomHex(12) + ",x" }})
}

func TestConformanceCluster(t *testing.T) {
	c := clusterClient(t)
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	storetest.Run(t, s, storetest.Config{})
}

func TestConformanceSentinel(t *testing.T) {
	c := sentinelClient(t)
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	storetest.Run(t, s, storetest.Config{})
}

func TestConformanceMaxDataSize(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c), MaxDataSize: 64 << 10})
	storetest.Run(t, s, storetest.Config{MaxDataSize: 64 << 10})
}
