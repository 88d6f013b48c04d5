package memcachestore_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachestore"
)

// TestCorruptItems writes, with the raw client, items this store cannot
// read under a session key: a PHP session (Phalcon's Libmemcached adapter
// under the same prefix), a record of this store truncated, with a bad
// magic, a flipped bit, or a newer format version. Every call reports
// session.ErrCorrupt (and memcachestore.ErrCorrupt) naming the item, never
// ErrNotFound; Save and Touch leave the item as it was; Delete removes it.
func TestCorruptItems(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newStore(t, memcachestore.Options{Prefix: memcachestore.PhalconPrefix})
	goodKey := uniquePrefix() + "good"
	t.Cleanup(func() { _ = s.Delete(context.Background(), goodKey) })
	if _, err := s.Save(ctx, goodKey, rec("session data", time.Hour)); err != nil {
		t.Fatal(err)
	}
	good, err := c.Get(memcachestore.PhalconPrefix + goodKey)
	if err != nil {
		t.Fatal(err)
	}
	v := good.Value
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(v)) }
	for name, value := range map[string][]byte{
		"php session":                        []byte(`user|s:5:"alice";`),
		"php session longer than the header": []byte(`user|s:5:"alice";cart|a:2:{i:0;s:4:"book";i:1;s:3:"pen";}`),
		"truncated":                          v[:len(v)-4],
		"header only":                        v[:memcachestore.Overhead],
		"bad magic":                          edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"flipped bit":                        edit(func(b []byte) []byte { b[len(b)-2] ^= 4; return b }),
		"newer format":                       edit(func(b []byte) []byte { b[3] = 9; return b }),
	} {
		t.Run(name, func(t *testing.T) {
			key := uniquePrefix() + "bad"
			ik := memcachestore.PhalconPrefix + key
			if err := c.Set(&memcache.Item{Key: ik, Value: value, Expiration: 60}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Delete(ik) })
			isCorrupt := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, session.ErrCorrupt) || !errors.Is(err, memcachestore.ErrCorrupt) ||
					errors.Is(err, session.ErrNotFound) || !strings.Contains(err.Error(), memcachestore.PhalconPrefix+"<sha256:") {
					t.Errorf("%s: err = %v, want session.ErrCorrupt naming the item by the hash of its key", op, err)
				}
				if err != nil && strings.Contains(err.Error(), key) {
					t.Errorf("%s: err = %v names the key", op, err)
				}
			}
			_, err := s.Load(ctx, key)
			isCorrupt("Load", err)
			t.Logf("Load: %v", err)
			for _, version := range []uint64{0, 1} {
				r := rec("go", time.Hour)
				r.Version = version
				_, err := s.Save(ctx, key, r)
				isCorrupt("Save", err)
			}
			isCorrupt("Touch", s.Touch(ctx, key, time.Now().Add(time.Hour)))
			if it, err := c.Get(ik); err != nil || !bytes.Equal(it.Value, value) {
				t.Fatalf("the item changed: %v", err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ik); !errors.Is(err, memcache.ErrCacheMiss) {
				t.Fatalf("after Delete: Get = %v, want a cache miss", err)
			}
			if _, err := s.Save(ctx, key, rec("go", time.Hour)); err != nil {
				t.Fatalf("Save after Delete: %v", err)
			}
		})
	}
}
