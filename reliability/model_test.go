package reliability_test

import (
	"testing"

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
			// FerretDB (the Mongo test server) does not apply conditional
			// updates atomically across connections: see mongostore's README.
			storetest.RunModel(t, appServers(b.prepare(t)), storetest.ModelConfig{Managers: 3, Steps: 400, OneServerAtOnce: b.name == "Mongo"})
		})
	}
}
