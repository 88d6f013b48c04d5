package redisstore_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// nearOwners are owners that a lossy lookup (case or accent folding,
// padding, glob patterns in SCAN or KEYS, Cluster hash tags) would confuse
// with one another.
func nearOwners() []string {
	return []string{
		"a", "a ", " a", "A", "á", "a%", "a_", "a*", "a?", "[a]", `a\`, "{a}", "a}", "{a", "}",
		"a\x00", "owner:{a}", strings.Repeat("a", 10<<10),
	}
}

func TestOwnerKeysExactSingle(t *testing.T) {
	testOwnerKeysExact(t, singleClient(t, redis.Options{ContextTimeoutEnabled: true}))
}

func TestOwnerKeysExactCluster(t *testing.T) {
	testOwnerKeysExact(t, clusterClient(t))
}

// testOwnerKeysExact: OwnerKeys returns the records of the owner that is
// byte for byte the one asked for, and no other.
func testOwnerKeysExact(t *testing.T, c redis.UniversalClient) {
	ctx := shortCtx(t)
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	keyOf := map[string]string{}
	now := time.Now()
	for _, owner := range nearOwners() {
		key := storetest.Key()
		keyOf[owner] = key
		rec := session.Record{Data: []byte("x"), Owner: owner, Expiry: now.Add(time.Hour), Created: now}
		if _, err := s.Save(ctx, key, rec); err != nil {
			t.Fatalf("Save for owner %.20q: %v", owner, err)
		}
	}
	for _, owner := range nearOwners() {
		keys, err := s.OwnerKeys(ctx, owner)
		if err != nil || !slices.Equal(keys, []string{keyOf[owner]}) {
			t.Errorf("OwnerKeys(%.20q) = %v, %v; want only [%s]", owner, keys, err, keyOf[owner])
		}
	}
	for _, owner := range []string{"", "*", "?", "a\x00\x00", "á "} {
		if keys, err := s.OwnerKeys(ctx, owner); err != nil || len(keys) != 0 {
			t.Errorf("OwnerKeys(%q) = %v, %v; want none", owner, keys, err)
		}
	}
}
