package reliability_test

import (
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/storetest"
)

// TestModelOnEveryStore runs storetest.RunModel on every store, and on the
// incubator tables with PHP's raw IDs and codec: random requests from browsers with cookie jars, some from stale
// tabs, some held between load and commit, through three application
// servers (real HTTP servers) on one store, each response checked against
// the model of the session rules. SESSIONKIT_MODEL_STEPS makes the runs
// longer.
func TestModelOnEveryStore(t *testing.T) {
	for _, b := range pick("memory", "files", "SQLite", "MariaDB", "PostgreSQL", "Redis", "Redis Cluster", "Mongo", "memcached",
		"SQLite incubator table", "MariaDB incubator table", "PostgreSQL incubator table") {
		t.Run(b.name, func(t *testing.T) {
			open := b.prepare(t)
			storetest.RunModel(t, func(t *testing.T) *session.Manager {
				c := open(t)
				t.Cleanup(c.close)
				m := session.New(c.store)
				if c.configure != nil {
					c.configure(m)
				}
				m.Cookie.Insecure = true
				return m
			}, storetest.ModelConfig{Managers: 3, Steps: 400})
		})
	}
}
