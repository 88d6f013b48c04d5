package redisstore_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// masterOf maps a key to the address of the primary serving its slot.
func masterOf(t *testing.T, ctx context.Context, c *redis.ClusterClient) func(key string) string {
	t.Helper()
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	return func(key string) string {
		t.Helper()
		slot, err := c.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				return r.Nodes[0].Addr
			}
		}
		t.Fatalf("no node serves slot %d", slot)
		return ""
	}
}

// TestClusterOwnersAcrossSlots spreads the sessions of several owners over
// the Cluster's primaries, with index sets on other primaries than their
// sessions, and checks the index and the iteration.
func TestClusterOwnersAcrossSlots(t *testing.T) {
	c := clusterClient(t)
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix})
	node := masterOf(t, ctx, c)

	owners := []string{"alice-" + randomHex(3), "bob-" + randomHex(3), "carol-" + randomHex(3)}
	want := map[string][]string{}
	sessionNodes := map[string]bool{}
	crossNode := 0
	now := time.Now()
	for _, owner := range owners {
		for range 4 {
			key := storetest.Key()
			rec := session.Record{Data: []byte(owner), Expiry: now.Add(time.Hour), Created: now, Owner: owner}
			if _, err := s.Save(ctx, key, rec); err != nil {
				t.Fatal(err)
			}
			want[owner] = append(want[owner], key)
			n := node(prefix + "{" + key + "}")
			sessionNodes[n] = true
			if n != node(prefix+"owner:{"+owner+"}") {
				crossNode++
			}
		}
	}
	if len(sessionNodes) < 2 {
		t.Fatalf("12 sessions all on one primary %v: the keys are not spread over slots", sessionNodes)
	}
	if crossNode == 0 {
		t.Fatal("every session sits on its owner's index node: the test does not exercise cross-node indexing")
	}
	t.Logf("sessions on %d primaries, %d of 12 on another primary than their owner's index", len(sessionNodes), crossNode)

	check := func(when string) {
		t.Helper()
		for _, owner := range owners {
			got, err := s.OwnerKeys(ctx, owner)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			w := slices.Sorted(slices.Values(want[owner]))
			if !slices.Equal(got, w) {
				t.Fatalf("%s: OwnerKeys(%s) = %v, want %v", when, owner, got, w)
			}
		}
	}
	check("after saving")

	// Move one of alice's sessions to bob, delete one of carol's.
	moved := want[owners[0]][0]
	rec, err := s.Load(ctx, moved)
	if err != nil {
		t.Fatal(err)
	}
	rec.Owner = owners[1]
	if _, err := s.Save(ctx, moved, rec); err != nil {
		t.Fatal(err)
	}
	want[owners[0]] = want[owners[0]][1:]
	want[owners[1]] = append(want[owners[1]], moved)
	if err := s.Delete(ctx, want[owners[2]][0]); err != nil {
		t.Fatal(err)
	}
	want[owners[2]] = want[owners[2]][1:]
	check("after moving and deleting")

	seen := map[string]string{}
	if err := s.Iterate(ctx, func(key string, rec session.Record) bool {
		seen[key] = rec.Owner
		return true
	}); err != nil {
		t.Fatal(err)
	}
	wantSeen := map[string]string{}
	for owner, keys := range want {
		for _, k := range keys {
			wantSeen[k] = owner
		}
	}
	if !maps.Equal(seen, wantSeen) {
		t.Fatalf("Iterate saw %d records %v, want %d %v", len(seen), seen, len(wantSeen), wantSeen)
	}
}
