package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session/redisstore"
)

// TestNewRejectsBadOptions: every option out of range is an error from New
// (never a panic), naming the option.
func TestNewRejectsBadOptions(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0", ReadTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:0"}})
	t.Cleanup(func() { _ = ring.Close() })
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		opts   redisstore.Options
		want   string
	}{
		{"nil client", nil, redisstore.Options{}, "nil client"},
		{"prefix with {", client, redisstore.Options{Prefix: "app{1}:"}, "Prefix"},
		{"prefix with }", client, redisstore.Options{Prefix: "app}"}, "Prefix"},
		{"negative MaxDataSize", client, redisstore.Options{MaxDataSize: -1}, "MaxDataSize"},
		{"MaxDataSize above Redis'", client, redisstore.Options{MaxDataSize: redisstore.RedisMaxDataSize + 1}, "MaxDataSize"},
		{"negative IndexSlack", client, redisstore.Options{IndexSlack: -time.Second}, "IndexSlack"},
		{"negative WaitReplicas", client, redisstore.Options{WaitReplicas: -1}, "WaitReplicas"},
		{"negative WaitTimeout", client, redisstore.Options{WaitTimeout: -time.Second}, "WaitTimeout"},
		{"WaitTimeout below a millisecond", client, redisstore.Options{WaitReplicas: 1, WaitTimeout: time.Microsecond}, "WaitTimeout"},
		{"WaitTimeout not below ReadTimeout", client, redisstore.Options{WaitReplicas: 1, WaitTimeout: time.Second}, "ReadTimeout"},
		{"WaitReplicas on a Ring", ring, redisstore.Options{WaitReplicas: 1}, "WaitReplicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisstore.New(tc.client, tc.opts)
			if err == nil || s != nil {
				t.Fatalf("New = %v, %v; want an error", s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	for _, opts := range []redisstore.Options{
		{},
		{Prefix: redisstore.PhalconPrefix, MaxDataSize: redisstore.RedisMaxDataSize, IndexSlack: time.Hour},
		{WaitReplicas: 1},
		{WaitReplicas: 2, WaitTimeout: 999 * time.Millisecond},
		{WaitTimeout: time.Hour}, // ignored without WaitReplicas
	} {
		if _, err := redisstore.New(client, opts); err != nil {
			t.Errorf("New(%+v): %v", opts, err)
		}
	}
}
