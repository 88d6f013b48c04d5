package storeurl

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/sessionkit/session/memcachestore"
)

func init() { register(openMemcache, []string{"prefix"}, "memcache", "memcached") }

// openMemcache opens a memcached store: memcache://host:port[,host:port...]
// (port 11211 by default), with prefix=PREFIX.
func openMemcache(ctx context.Context, u *url.URL, p *params, _ Options) (*Target, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("%w: memcache: no address (memcache://host:11211)", ErrUsage)
	}
	if len(u.Query()) > 0 {
		return nil, fmt.Errorf("%w: memcache: unknown parameter(s) %s", ErrUsage, u.RawQuery)
	}
	var servers []string
	for _, h := range strings.Split(u.Host, ",") {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "11211")
		}
		servers = append(servers, h)
	}
	client := memcache.New(servers...)
	client.Timeout = 2 * time.Second
	where := "memcached " + strings.Join(servers, ",")
	s, err := memcachestore.New(client, memcachestore.Options{Prefix: p.get("prefix")})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	t := &Target{Store: s, Where: where, selfExpiring: true}
	t.closers = append(t.closers, client.Close)
	if err := pingMemcache(ctx, client); err != nil {
		t.Close()
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	return p.finish(t)
}

// pingMemcache checks that the servers answer, within ctx.
func pingMemcache(ctx context.Context, c *memcache.Client) error {
	done := make(chan error, 1)
	go func() { done <- c.Ping() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
