package reliability_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cachestore"
	"github.com/sessionkit/session/storetest"
)

// tierPair is a cache tier: a fast store in front of a durable one, both
// from allBackends.
type tierPair struct{ name, durable, fast string }

var tierPairs = []tierPair{
	{"MariaDB+Redis", "MariaDB", "Redis"},
	{"PostgreSQL+memcached", "PostgreSQL", "memcached"},
	{"SQLite+memory", "SQLite", "memory"},
}

// quietTier keeps the tier's warnings (one per outage) out of the test
// output; the tests read its counters instead.
var quietTier = cachestore.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// prepare skips when either server's variable is unset and returns an
// opener of tiers: each call is one application server with its own
// clients on both servers.
func (p tierPair) prepare(t *testing.T) func(t *testing.T) session.Store {
	all := allBackends()
	openDurable := all[p.durable].prepare(t)
	openFast := all[p.fast].prepare(t)
	return func(t *testing.T) session.Store {
		d, f := openDurable(t), openFast(t)
		t.Cleanup(d.close)
		t.Cleanup(f.close)
		return cachestore.New(f.store, d.store, quietTier)
	}
}

// TestCacheTierConformance runs storetest.Run on each cache tier.
func TestCacheTierConformance(t *testing.T) {
	for _, p := range tierPairs {
		t.Run(p.name, func(t *testing.T) {
			tier := p.prepare(t)(t)
			storetest.Run(t, tier, storetest.Config{})
			st, _ := cachestore.StatsOf(tier)
			t.Logf("%s: %+v", p.name, st)
			if st.Hits == 0 || st.Fills == 0 || st.Moves == 0 {
				t.Errorf("the suite never went through the cache: %+v", st)
			}
		})
	}
}

// TestCacheTierLifecycle runs storetest.RunLifecycle on each cache tier,
// through two managers with tiers and clients of their own (two application
// servers sharing the cache and the database).
func TestCacheTierLifecycle(t *testing.T) {
	for _, p := range tierPairs {
		t.Run(p.name, func(t *testing.T) {
			open := p.prepare(t)
			storetest.RunLifecycle(t, func(t *testing.T) *session.Manager {
				m := session.New(open(t))
				m.Cookie.Insecure = true
				return m
			})
		})
	}
}
