package reliability_test

import (
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/storetest"
)

// TestLifecycleOnEveryStore runs storetest.RunLifecycle on every store:
// a write during a Renew is kept whichever commits first, the old ID never
// sees the login and dies with the session, a replayed Pop keeps a message
// saved meanwhile, each through two managers (two application servers,
// each with its own client) over the same server.
func TestLifecycleOnEveryStore(t *testing.T) {
	for _, b := range pick("memory", "files", "SQLite", "MariaDB", "PostgreSQL", "Redis", "Redis Cluster", "Mongo", "memcached",
		"SQLite incubator table", "MariaDB incubator table", "PostgreSQL incubator table") {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunLifecycle(t, appServers(b.prepare(t)))
		})
	}
}

// appServers returns a function that makes a Manager on a new client of
// the backend opened by open, as an application server would, accepting
// its cookies over plain HTTP.
func appServers(open opener) func(t *testing.T) *session.Manager {
	return func(t *testing.T) *session.Manager {
		c := open(t)
		t.Cleanup(c.close)
		m := session.New(c.store)
		if c.configure != nil {
			c.configure(m)
		}
		m.Cookie.Insecure = true
		return m
	}
}
