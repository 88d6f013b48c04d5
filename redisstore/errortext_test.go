package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// TestErrorsNameNoKey: with raw IDs a store key is a session ID, so no
// error names a record by its key: corrupt records (a hash with a bad
// field, a string) and invalid keys are named by a short hash.
func TestErrorsNameNoKey(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	s := newStore(t, c, redisstore.Options{Prefix: prefix})
	now := time.Now()
	check := func(op, key string, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s: no error", op)
		case strings.Contains(err.Error(), key):
			t.Errorf("%s: error names the key: %v", op, err)
		case !strings.Contains(err.Error(), "sha256:"):
			t.Errorf("%s: error does not name the record by its hash: %v", op, err)
		}
	}
	for name, write := range corruptRecords(now) {
		key := storetest.Key()
		if err := write(ctx, c, prefix+"{"+key+"}"); err != nil {
			t.Fatal(err)
		}
		_, err := s.Load(ctx, key)
		check(name+": Load", key, err)
		_, err = s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour)})
		check(name+": Save", key, err)
		check(name+": Touch", key, s.Touch(ctx, key, now.Add(time.Hour)))
	}
	bad := storetest.Key() + "{x}"
	_, err := s.Load(ctx, bad)
	check("Load of an invalid key", bad, err)
}
