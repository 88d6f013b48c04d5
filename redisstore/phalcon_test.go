package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// TestPhalconPrefix checks the key names under Phalcon's prefix, with a
// PHP-style raw session ID as the key.
func TestPhalconPrefix(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	s := newStore(t, c, redisstore.Options{Prefix: redisstore.PhalconPrefix})
	id := "q" + randomHex(12) + "-" + randomHex(3) // PHP's alphabet [a-zA-Z0-9,-]
	owner := "user-" + randomHex(6)
	redisKey := "sess-reds-{" + id + "}"
	ownerKey := "sess-reds-owner:{" + owner + "}"
	t.Cleanup(func() { c.Del(ctx, redisKey, ownerKey) })

	now := time.Now()
	if _, err := s.Save(ctx, id, session.Record{Data: []byte("a|s:1:\"b\";"), Expiry: now.Add(time.Minute), Created: now, Owner: owner}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.HGet(ctx, redisKey, "d").Result(); err != nil || got != "a|s:1:\"b\";" {
		t.Fatalf("HGET %s d = %q, %v", redisKey, got, err)
	}
	if ttl, err := c.PTTL(ctx, redisKey).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("PTTL %s = %v, %v; want an expiry within a minute", redisKey, ttl, err)
	}
	if ok, err := c.SIsMember(ctx, ownerKey, id).Result(); err != nil || !ok {
		t.Fatalf("SISMEMBER %s %s = %v, %v", ownerKey, id, ok, err)
	}
	found := false
	if err := s.Iterate(ctx, func(key string, _ session.Record) bool {
		found = found || key == id
		return !found
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("Iterate did not list %s", id)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, redisKey).Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS %s after Delete = %d, %v", redisKey, n, err)
	}
	if keys, err := s.OwnerKeys(ctx, owner); err != nil || len(keys) != 0 {
		t.Fatalf("OwnerKeys after Delete = %v, %v", keys, err)
	}
	if n, err := c.Exists(ctx, ownerKey).Result(); err != nil || n != 0 {
		t.Fatalf("the emptied index set %s still exists: %d, %v", ownerKey, n, err)
	}
}
