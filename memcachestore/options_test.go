package memcachestore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachestore"
)

// TestNewRejectsBadOptions: every bad option is an error from New, naming
// it; nothing is sent to a server.
func TestNewRejectsBadOptions(t *testing.T) {
	c := memcache.New("127.0.0.1:1")
	negative := memcache.New("127.0.0.1:1")
	negative.Timeout = -time.Second
	for _, tc := range []struct {
		name   string
		client *memcache.Client
		opts   memcachestore.Options
		want   string
	}{
		{"nil client", nil, memcachestore.Options{}, "nil client"},
		{"negative client Timeout", negative, memcachestore.Options{}, "Timeout"},
		{"prefix with a space", c, memcachestore.Options{Prefix: "has space"}, "prefix"},
		{"prefix with a newline", c, memcachestore.Options{Prefix: "a\nb"}, "prefix"},
		{"prefix of 250 bytes", c, memcachestore.Options{Prefix: strings.Repeat("p", 250)}, "prefix"},
		{"negative MaxItemSize", c, memcachestore.Options{MaxItemSize: -1}, "MaxItemSize"},
		{"MaxItemSize without room for data", c, memcachestore.Options{MaxItemSize: memcachestore.Overhead}, "MaxItemSize"},
		{"MaxItemSize above memcached's limit", c, memcachestore.Options{MaxItemSize: memcachestore.MaxItemSizeLimit + 1}, "MaxItemSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := memcachestore.New(tc.client, tc.opts)
			if err == nil || s != nil {
				t.Fatalf("New = %v, %v; want an error", s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	if _, err := memcachestore.New(c, memcachestore.Options{Prefix: "has space"}); !errors.Is(err, session.ErrInvalidKey) {
		t.Errorf("bad prefix: %v, want ErrInvalidKey", err)
	}
	for _, opts := range []memcachestore.Options{
		{},
		{Prefix: memcachestore.PhalconPrefix, MaxItemSize: memcachestore.MaxItemSizeLimit, HintBytes: -1},
		{MaxItemSize: memcachestore.Overhead + 1, Now: time.Now},
	} {
		if _, err := memcachestore.New(c, opts); err != nil {
			t.Errorf("New(%+v): %v", opts, err)
		}
	}
}

// TestNowOption: the store judges expiry by Options.Now, not the system
// clock.
func TestNowOption(t *testing.T) {
	now := time.Now()
	clock := now
	s, _, _ := newStore(t, memcachestore.Options{Now: func() time.Time { return clock }})
	key := "clock"
	t.Cleanup(func() { _ = s.Delete(t.Context(), key) })
	r := session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now}
	if _, err := s.Save(t.Context(), key, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(t.Context(), key)
	if err != nil || !got.Modified.Equal(now) {
		t.Fatalf("Load = %+v, %v; want Modified = the option's clock %v", got, err, now)
	}
	clock = now.Add(time.Hour)
	if _, err := s.Load(t.Context(), key); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("an hour later by Options.Now: %v, want ErrNotFound", err)
	}
}
