// Package testenv gives the tests of the cmd module store URLs on the test
// servers named by the SESSION_TEST_* environment variables (set by
// scripts/services.sh), each with a unique table, collection or key prefix
// that is removed when the test ends.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for cleanup
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Backend is one kind of store the tests run against.
type Backend struct {
	// Name names the backend in subtest names.
	Name string
	// Env is the variable that must be set, or "" for none.
	Env string
	// URL returns a store URL with a fresh table, collection, prefix or
	// directory, removed by t.Cleanup. It skips t when Env is unset.
	URL func(t testing.TB) string
	// Collector: the store keeps expired records until GC removes them.
	Collector bool
	// Iterator: the store can list its records.
	Iterator bool
	// Owners: records keep an owner.
	Owners bool
	// RawIDs: the URL stores raw session IDs (compatibility layouts).
	RawIDs bool
}

// Backends lists every backend: SQLite (always available) first.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", URL: SQLite, Collector: true, Iterator: true, Owners: true},
		{Name: "sqlite-compat", URL: func(t testing.TB) string { return SQLite(t) + "?layout=compat" }, Collector: true, Iterator: true, RawIDs: true},
		{Name: "mysql", Env: "SESSION_TEST_MYSQL_DSN", URL: func(t testing.TB) string { return MySQL(t, "") }, Collector: true, Iterator: true, Owners: true},
		{Name: "mysql-compat", Env: "SESSION_TEST_MYSQL_DSN", URL: func(t testing.TB) string { return MySQL(t, "layout=compat") }, Collector: true, Iterator: true, RawIDs: true},
		{Name: "postgres", Env: "SESSION_TEST_POSTGRES_DSN", URL: func(t testing.TB) string { return Postgres(t, "") }, Collector: true, Iterator: true, Owners: true},
		{Name: "mongo", Env: "SESSION_TEST_MONGO_URI", URL: Mongo, Collector: true, Iterator: true, Owners: true},
		{Name: "redis", Env: "SESSION_TEST_REDIS_ADDR", URL: Redis, Iterator: true, Owners: true},
		{Name: "redis-cluster", Env: "SESSION_TEST_REDIS_CLUSTER_ADDRS", URL: RedisCluster, Iterator: true, Owners: true},
		{Name: "memcached", Env: "SESSION_TEST_MEMCACHED_ADDR", URL: Memcached, Owners: true},
		{Name: "files", URL: Files, Collector: true, Iterator: true, Owners: true},
	}
}

// Need returns the value of the environment variable name, or skips t with
// a message naming it.
func Need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set: run scripts/services.sh (or scripts/test.sh) to start the test servers", name)
	}
	return v
}

// Unique returns a name made of prefix and random hex digits, valid as a
// table, collection or key prefix.
func Unique(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// SQLite returns the URL of a SQLite file in a temporary directory.
func SQLite(t testing.TB) string {
	return "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "sessions.db"))
}

// Files returns the URL of a temporary session directory.
func Files(t testing.TB) string {
	return "file://" + filepath.ToSlash(t.TempDir())
}

// MySQL returns a mysql:// URL for SESSION_TEST_MYSQL_DSN with a unique
// table, dropped at cleanup; extra is more query parameters.
func MySQL(t testing.TB, extra string) string {
	dsn := Need(t, "SESSION_TEST_MYSQL_DSN")
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("SESSION_TEST_MYSQL_DSN: %v", err)
	}
	table := Unique("cli_")
	u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName, RawQuery: "table=" + table}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	} else {
		u.User = url.User(cfg.User)
	}
	t.Cleanup(func() { dropTable(t, "mysql", dsn, "`"+table+"`") })
	return withQuery(u.String(), extra)
}

// Postgres returns a postgres:// URL for SESSION_TEST_POSTGRES_DSN with a
// unique table, dropped at cleanup.
func Postgres(t testing.TB, extra string) string {
	dsn := Need(t, "SESSION_TEST_POSTGRES_DSN")
	table := Unique("cli_")
	t.Cleanup(func() { dropTable(t, "pgx", dsn, `"`+table+`"`) })
	return withQuery(withQuery(dsn, "table="+table), extra)
}

// dropTable drops a test table.
func dropTable(t testing.TB, driver, dsn, quoted string) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoted); err != nil {
		t.Errorf("cleanup: drop table %s: %v", quoted, err)
	}
}

// Mongo returns a mongodb:// URL for SESSION_TEST_MONGO_URI with a unique
// collection, dropped at cleanup.
func Mongo(t testing.TB) string {
	uri := Need(t, "SESSION_TEST_MONGO_URI")
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("SESSION_TEST_MONGO_URI: %v", err)
	}
	const db = "sessionkit_cli_test"
	coll := Unique("cli_")
	u.Path = "/" + db
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer c.Disconnect(ctx)
		if err := c.Database(db).Collection(coll).Drop(ctx); err != nil {
			t.Errorf("cleanup: drop collection %s: %v", coll, err)
		}
	})
	return withQuery(u.String(), "collection="+coll)
}

// Redis returns a redis:// URL for SESSION_TEST_REDIS_ADDR with a unique
// key prefix. Records expire by themselves; tests delete what they made.
func Redis(t testing.TB) string {
	addr := Need(t, "SESSION_TEST_REDIS_ADDR")
	return "redis://" + addr + "/0?prefix=" + Unique("clitest") + ":"
}

// RedisCluster returns a redis-cluster:// URL for
// SESSION_TEST_REDIS_CLUSTER_ADDRS with a unique key prefix.
func RedisCluster(t testing.TB) string {
	addrs := Need(t, "SESSION_TEST_REDIS_CLUSTER_ADDRS")
	return "redis-cluster://" + strings.ReplaceAll(addrs, " ", "") + "?prefix=" + Unique("clitest") + ":"
}

// Memcached returns a memcache:// URL for SESSION_TEST_MEMCACHED_ADDR with a
// unique key prefix.
func Memcached(t testing.TB) string {
	addr := Need(t, "SESSION_TEST_MEMCACHED_ADDR")
	return "memcache://" + addr + "?prefix=" + Unique("clitest")
}

// withQuery adds query parameters q ("a=b&c=d") to rawURL.
func withQuery(rawURL, q string) string {
	if q == "" {
		return rawURL
	}
	if strings.Contains(rawURL, "?") {
		return rawURL + "&" + q
	}
	return rawURL + "?" + q
}
