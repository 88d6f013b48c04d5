package storeurl

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/session/redisstore"
)

func init() {
	register(openRedis, []string{"prefix", "master"}, "redis", "rediss", "redis-cluster", "redis-sentinel")
}

// openRedis opens a Redis store:
//
//	redis://[user:pass@]host:port[/db]        one server (rediss:// for TLS)
//	redis-cluster://host:port,host:port,...   a Redis Cluster
//	redis-sentinel://host:port,.../db?master=NAME  a primary behind Sentinel
//
// prefix=PREFIX sets the key prefix (default "session:"). Every call
// honours its context's deadline (ContextTimeoutEnabled), so that the
// programs' timeouts bound it.
func openRedis(ctx context.Context, u *url.URL, p *params, _ Options) (*Target, error) {
	var (
		client redis.UniversalClient
		where  string
	)
	switch strings.ToLower(u.Scheme) {
	case "redis", "rediss":
		opt, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		opt.ContextTimeoutEnabled = true
		client = redis.NewClient(opt)
		where = fmt.Sprintf("Redis %s db %d", opt.Addr, opt.DB)
	default:
		addrs := strings.Split(u.Host, ",")
		if u.Host == "" {
			return nil, fmt.Errorf("%w: %s: no address", ErrUsage, u.Scheme)
		}
		uo := &redis.UniversalOptions{Addrs: addrs, ContextTimeoutEnabled: true}
		if u.User != nil {
			uo.Username = u.User.Username()
			uo.Password, _ = u.User.Password()
		}
		if len(u.Query()) > 0 {
			return nil, fmt.Errorf("%w: %s: unknown parameter(s) %s", ErrUsage, u.Scheme, u.RawQuery)
		}
		if strings.EqualFold(u.Scheme, "redis-sentinel") {
			uo.MasterName = p.get("master")
			if uo.MasterName == "" {
				return nil, fmt.Errorf("%w: redis-sentinel: master=NAME is required", ErrUsage)
			}
			if db := strings.Trim(u.Path, "/"); db != "" {
				n, err := strconv.Atoi(db)
				if err != nil {
					return nil, fmt.Errorf("%w: redis-sentinel: database %q is not a number", ErrUsage, db)
				}
				uo.DB = n
			}
			client = redis.NewFailoverClient(uo.Failover())
			where = fmt.Sprintf("Redis primary %q via Sentinel %s db %d", uo.MasterName, u.Host, uo.DB)
		} else {
			client = redis.NewClusterClient(uo.Cluster())
			where = "Redis Cluster " + u.Host
		}
	}
	prefix := p.get("prefix")
	if strings.ContainsAny(prefix, "{}") {
		client.Close()
		return nil, fmt.Errorf("%w: redis: prefix must not contain { or }", ErrUsage)
	}
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("%w: redis: %v", ErrUsage, err)
	}
	t := &Target{Store: s, Where: fmt.Sprintf("%s, keys %s*", where, s.Prefix()), selfExpiring: true}
	t.closers = append(t.closers, client.Close)
	if err := client.Ping(ctx).Err(); err != nil {
		t.Close()
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	return p.finish(t)
}
