package redisstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

func TestRoundTripsSingle(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	testRoundTrips(t, c)
}

func TestRoundTripsCluster(t *testing.T) {
	testRoundTrips(t, clusterClient(t))
}

// testRoundTrips counts, with a go-redis hook, the commands each store call
// sends (a pipeline counts as one).
func testRoundTrips(t *testing.T, c redis.UniversalClient) {
	ctx := shortCtx(t)
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	if err := s.LoadScripts(ctx); err != nil {
		t.Fatal(err)
	}
	// Warm up: open the client's connections (go-redis keeps a separate
	// pool for pipelines), whose handshakes the hook would see.
	warm := storetest.Key()
	warmOwner := "warm-" + randomHex(4)
	if _, err := s.Save(ctx, warm, session.Record{Data: []byte("w"), Expiry: time.Now().Add(time.Minute), Owner: warmOwner}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OwnerKeys(ctx, warmOwner); err != nil {
		t.Fatal(err)
	}
	h := &countingHook{}
	c.AddHook(h)
	expect := func(op string, want ...string) {
		t.Helper()
		got := h.take()
		if !slices.Equal(got, want) {
			t.Errorf("%s sent %v, want %v", op, got, want)
		} else {
			t.Logf("%s: %d round trip(s) %v", op, len(got), got)
		}
	}
	now := time.Now()
	key := storetest.Key()

	v, err := s.Save(ctx, key, session.Record{Data: []byte("new"), Expiry: now.Add(time.Hour), Created: now})
	if err != nil {
		t.Fatal(err)
	}
	expect("Save of a new session", "evalsha")

	rec, err := s.Load(ctx, key)
	if err != nil || rec.Version != v {
		t.Fatalf("Load: %+v, %v", rec, err)
	}
	expect("Load", "hgetall")

	rec.Data = []byte("changed")
	rec.Expiry = time.Now().Add(time.Hour)
	if v, err = s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	expect("Save", "evalsha")

	if err := s.Touch(ctx, key, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	expect("Touch", "evalsha")

	// A login: the record gets an owner. The owner's index set learns the
	// key with a second command.
	rec, err = s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	h.take()
	rec.Owner = "user-" + randomHex(4)
	if rec.Version, err = s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	expect("Save that sets the owner", "evalsha", "evalsha")

	// Later saves and touches of an owned session within the index's
	// slack: one round trip.
	rec.Data = []byte("owned")
	rec.Expiry = time.Now().Add(time.Hour)
	if rec.Version, err = s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	expect("Save of an owned session", "evalsha")
	if err := s.Touch(ctx, key, time.Now().Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	expect("Touch of an owned session", "evalsha")

	keys, err := s.OwnerKeys(ctx, rec.Owner)
	if err != nil || !slices.Equal(keys, []string{key}) {
		t.Fatalf("OwnerKeys = %v, %v", keys, err)
	}
	expect("OwnerKeys", "smembers", "pipeline(hmget)")

	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	expect("Delete", "del")
}

// TestIndexExtension checks that a Touch past what the owner's set was
// kept alive for extends the set, so that the set never dies before its
// sessions.
func TestIndexExtension(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix, IndexSlack: time.Minute})
	owner := "user-" + randomHex(4)
	setKey := prefix + "owner:{" + owner + "}"
	key := storetest.Key()
	now := time.Now()
	if _, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now, Owner: owner}); err != nil {
		t.Fatal(err)
	}
	setExpiry := func() time.Time {
		t.Helper()
		d, err := c.PExpireTime(ctx, setKey).Result()
		if err != nil || d <= 0 {
			t.Fatalf("PEXPIRETIME %s = %v, %v", setKey, d, err)
		}
		return time.UnixMilli(d.Milliseconds())
	}
	closeTo := func(what string, got, want time.Time) {
		t.Helper()
		if d := got.Sub(want); d < -time.Second || d > time.Second {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
	closeTo("index expiry after Save", setExpiry(), now.Add(time.Hour+time.Minute))

	// Within the slack: the set is left alone.
	if err := s.Touch(ctx, key, now.Add(time.Hour+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	closeTo("index expiry after a Touch within the slack", setExpiry(), now.Add(time.Hour+time.Minute))

	// Past it: the set is extended to the new expiry plus the slack.
	later := now.Add(3 * time.Hour)
	if err := s.Touch(ctx, key, later); err != nil {
		t.Fatal(err)
	}
	closeTo("index expiry after a Touch past the slack", setExpiry(), later.Add(time.Minute))

	// A shorter expiry never shortens the set (other sessions may need it).
	if err := s.Touch(ctx, key, now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	closeTo("index expiry after a shortening Touch", setExpiry(), later.Add(time.Minute))
}
