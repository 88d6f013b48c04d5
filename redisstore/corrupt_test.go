package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// corruptRecords are what something else may leave under a session key:
// each writes its value with the raw client.
func corruptRecords(now time.Time) map[string]func(ctx context.Context, c redis.UniversalClient, rk string) error {
	x := strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10)
	n := strconv.FormatInt(now.UnixMilli(), 10)
	good := map[string]any{"d": "data", "v": "42", "o": "", "c": n, "m": n, "x": x}
	hash := func(change func(h map[string]any)) func(context.Context, redis.UniversalClient, string) error {
		return func(ctx context.Context, c redis.UniversalClient, rk string) error {
			h := map[string]any{}
			for k, v := range good {
				h[k] = v
			}
			change(h)
			return c.HSet(ctx, rk, h).Err()
		}
	}
	cases := map[string]func(context.Context, redis.UniversalClient, string) error{
		"version not a number":  hash(func(h map[string]any) { h["v"] = "forty-two" }),
		"version zero":          hash(func(h map[string]any) { h["v"] = "0" }),
		"expiry not a number":   hash(func(h map[string]any) { h["x"] = "tomorrow" }),
		"created not a number":  hash(func(h map[string]any) { h["c"] = "2024-01-01" }),
		"modified not a number": hash(func(h map[string]any) { h["m"] = "1.5" }),
		"index not a number":    hash(func(h map[string]any) { h["i"] = "soon" }),
		"only foreign fields": func(ctx context.Context, c redis.UniversalClient, rk string) error {
			return c.HSet(ctx, rk, "foo", "bar").Err()
		},
		"a string (Phalcon's Redis adapter)": func(ctx context.Context, c redis.UniversalClient, rk string) error {
			return c.Set(ctx, rk, `user|s:5:"alice";`, time.Hour).Err()
		},
		"a list": func(ctx context.Context, c redis.UniversalClient, rk string) error {
			return c.RPush(ctx, rk, "a", "b").Err()
		},
	}
	for _, f := range []string{"d", "v", "o", "c", "m", "x"} {
		cases["field "+f+" missing"] = hash(func(h map[string]any) { delete(h, f) })
	}
	return cases
}

func TestCorruptRecordsSingle(t *testing.T) {
	testCorruptRecords(t, singleClient(t, redis.Options{ContextTimeoutEnabled: true}))
}

func TestCorruptRecordsCluster(t *testing.T) {
	testCorruptRecords(t, clusterClient(t))
}

// testCorruptRecords writes each kind of corrupt record with the raw client
// and checks that every store call reports it as session.ErrCorrupt (never
// ErrNotFound, never a generic error), leaves it as it was, that Iterate
// and OwnerKeys skip it without failing, and that Delete removes it.
func testCorruptRecords(t *testing.T, c redis.UniversalClient) {
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix})
	now := time.Now()
	owner := "owner-" + randomHex(4)
	goodKey := storetest.Key()
	if _, err := s.Save(ctx, goodKey, session.Record{Data: []byte("good"), Expiry: now.Add(time.Hour), Created: now, Owner: owner}); err != nil {
		t.Fatal(err)
	}
	for name, write := range corruptRecords(now) {
		t.Run(name, func(t *testing.T) {
			key := storetest.Key()
			rk := prefix + "{" + key + "}"
			if err := write(ctx, c, rk); err != nil {
				t.Fatal(err)
			}
			// The corrupt key is in the owner's index, as a record of
			// the owner that was overwritten would be.
			if err := c.SAdd(ctx, prefix+"owner:{"+owner+"}", key).Err(); err != nil {
				t.Fatal(err)
			}
			dump := func() string {
				t.Helper()
				d, err := c.Dump(ctx, rk).Result()
				if err != nil {
					t.Fatalf("DUMP %s: %v", rk, err)
				}
				return d
			}
			before := dump()
			isCorrupt := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, session.ErrCorrupt) || errors.Is(err, session.ErrNotFound) {
					t.Errorf("%s: err = %v, want session.ErrCorrupt (and not ErrNotFound)", op, err)
				}
			}
			_, err := s.Load(ctx, key)
			isCorrupt("Load", err)
			t.Logf("Load: %v", err)
			for _, version := range []uint64{0, 42} {
				v, err := s.Save(ctx, key, session.Record{Data: []byte("new"), Expiry: now.Add(time.Hour), Version: version})
				isCorrupt("Save version "+strconv.FormatUint(version, 10), err)
				if v != 0 {
					t.Errorf("Save over a corrupt record returned version %d", v)
				}
			}
			isCorrupt("Touch", s.Touch(ctx, key, now.Add(2*time.Hour)))
			if after := dump(); after != before {
				t.Errorf("the corrupt record was changed")
			}

			seen := map[string]bool{}
			if err := s.Iterate(ctx, func(k string, _ session.Record) bool { seen[k] = true; return true }); err != nil {
				t.Errorf("Iterate failed on a corrupt record: %v", err)
			}
			if !seen[goodKey] || seen[key] {
				t.Errorf("Iterate saw the good record: %v, the corrupt one: %v; want true, false", seen[goodKey], seen[key])
			}
			keys, err := s.OwnerKeys(ctx, owner)
			if err != nil || !slices.Equal(keys, []string{goodKey}) {
				t.Errorf("OwnerKeys = %v, %v; want [%s]", keys, err, goodKey)
			}

			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if n, err := c.Exists(ctx, rk).Result(); err != nil || n != 0 {
				t.Fatalf("EXISTS after Delete = %d, %v", n, err)
			}
			if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
			}
			if _, err := s.Save(ctx, key, session.Record{Data: []byte("new"), Expiry: now.Add(time.Hour)}); err != nil {
				t.Fatalf("Save after Delete: %v", err)
			}
		})
	}
}
