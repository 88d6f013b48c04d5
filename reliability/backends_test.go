package reliability_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/memcachestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
)

// Variables naming the test servers (set by scripts/services.sh).
const (
	envServiceCtl   = "SESSION_TEST_SERVICECTL"
	envMySQL        = "SESSION_TEST_MYSQL_DSN"
	envPostgres     = "SESSION_TEST_POSTGRES_DSN"
	envRedis        = "SESSION_TEST_REDIS_ADDR"
	envRedisCluster = "SESSION_TEST_REDIS_CLUSTER_ADDRS"
	envMongo        = "SESSION_TEST_MONGO_URI"
	envMemcached    = "SESSION_TEST_MEMCACHED_ADDR"
)

// backend is one store on one server.
type backend struct {
	name    string
	env     string // variable naming the server; "" for none
	service string // scripts/servicectl.sh name; "" when it cannot be stopped
	// volatile servers keep nothing across a restart (memcached): the
	// fault test then checks that every session is intact or cleanly
	// absent, and reports the absent ones as lost.
	volatile bool
	// setup prepares a namespace of this test (table, prefix, database,
	// directory), removed at the end of the test, and returns an opener.
	setup func(t *testing.T, addr string) opener
}

// opener opens a new client and store over the namespace: two calls are
// two application servers sharing the sessions.
type opener func(t *testing.T) *conn

// conn is an open store and what it needs to be released.
type conn struct {
	store session.Store
	// close releases the store and its client; it may be called twice.
	close func()
	// weakCAS, when not "", says why the server's compare-and-set is not
	// atomic under concurrency (FerretDB v1).
	weakCAS string
	// beforeStop, when set, runs just before the fault test stops the
	// server; the function it returns runs once the server is back.
	beforeStop func(t *testing.T) (afterStart func())
	// configure, when set, adjusts the manager to the store (raw PHP-style
	// IDs for the incubator adapter's VARCHAR(35) table).
	configure func(m *session.Manager)
}

// withTempDB opens a pool with open, runs f on it with a 30 s deadline and
// closes it: for schema work that must leave no connection behind.
func withTempDB(open func() (*sql.DB, error), f func(ctx context.Context, db *sql.DB) error) error {
	db, err := open()
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	return f(ctx, db)
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func ctxTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// allBackends returns every store by sub-test name; the tests pick theirs
// with pick, which keeps their order.
func allBackends() map[string]backend {
	return map[string]backend{
		"memory":                     {name: "memory", setup: setupMemory},
		"files":                      {name: "files", setup: setupFiles},
		"SQLite":                     {name: "SQLite", setup: setupSQLite(false)},
		"MariaDB":                    {name: "MariaDB", env: envMySQL, service: "mariadb", setup: setupMySQL(false)},
		"MariaDB incubator table":    {name: "MariaDB incubator table", env: envMySQL, setup: setupMySQL(true)},
		"PostgreSQL incubator table": {name: "PostgreSQL incubator table", env: envPostgres, setup: setupPostgres(true)},
		"SQLite incubator table":     {name: "SQLite incubator table", setup: setupSQLite(true)},
		"PostgreSQL":                 {name: "PostgreSQL", env: envPostgres, service: "postgres", setup: setupPostgres(false)},
		"Redis":                      {name: "Redis", env: envRedis, service: "redis", setup: setupRedis},
		"Redis Cluster":              {name: "Redis Cluster", env: envRedisCluster, setup: setupRedisCluster},
		"Mongo":                      {name: "Mongo", env: envMongo, service: "mongo", setup: setupMongo},
		"memcached":                  {name: "memcached", env: envMemcached, service: "memcached", volatile: true, setup: setupMemcached},
	}
}

func pick(names ...string) []backend {
	all := allBackends()
	out := make([]backend, 0, len(names))
	for _, n := range names {
		out = append(out, all[n])
	}
	return out
}

// prepare skips the test when the backend's variable is unset and runs its
// setup.
func (b backend) prepare(t *testing.T) opener {
	t.Helper()
	addr := ""
	if b.env != "" {
		addr = os.Getenv(b.env)
		if addr == "" {
			t.Skipf("%s is not set: no %s server to test against (scripts/services.sh sets it)", b.env, b.name)
		}
	}
	return b.setup(t, addr)
}

// ---- in-process stores

func setupMemory(t *testing.T, _ string) opener {
	s := memstore.New() // one process: both "servers" share the instance
	return func(*testing.T) *conn { return &conn{store: s, close: func() {}} }
}

func setupFiles(t *testing.T, _ string) opener {
	dir := t.TempDir()
	return func(t *testing.T) *conn {
		s, err := filestore.New(filestore.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return &conn{store: s, close: func() {}}
	}
}

// ---- SQL

// setupSQL makes a table of the native layout, or with compat set the incubator adapter's
// table (sqlstore.NewCompat: value-based compare-and-set), with data in
// base64 so that gob fits its text column, and PHP-style raw IDs of 32
// characters so that they fit its VARCHAR(35).
func setupSQL(t *testing.T, dialect sqlstore.Dialect, compat bool, openDB func() (*sql.DB, error)) opener {
	t.Helper()
	table := randomName("reliability_")
	opts := sqlstore.Options{Dialect: dialect, Table: table}
	if compat {
		opts.Layout = sqlstore.Compatibility
		opts.Base64 = true
		opts.MaxLifetime = time.Hour
	}
	// The schema is made and dropped over connections of their own, closed
	// at once, so that the fault test's goroutine count sees only the
	// store's client.
	withDB := func(f func(ctx context.Context, db *sql.DB) error) error { return withTempDB(openDB, f) }
	if err := withDB(func(ctx context.Context, db *sql.DB) error { return sqlstore.CreateSchema(ctx, db, opts) }); err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	t.Cleanup(func() {
		q := `DROP TABLE IF EXISTS "` + table + `"`
		if dialect == sqlstore.MySQL {
			q = "DROP TABLE IF EXISTS `" + table + "`"
		}
		if err := withDB(func(ctx context.Context, db *sql.DB) error { _, err := db.ExecContext(ctx, q); return err }); err != nil {
			t.Errorf("drop table %s: %v", table, err)
		}
	})
	return func(t *testing.T) *conn {
		t.Helper()
		db, err := openDB()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := ctxTimeout(30 * time.Second)
		defer cancel()
		if compat {
			s, err := sqlstore.NewCompat(ctx, db, opts)
			if err != nil {
				db.Close()
				t.Fatalf("sqlstore.NewCompat: %v", err)
			}
			c := &conn{store: s, close: sync.OnceFunc(func() { s.Close(); db.Close() }), configure: phpIDs}
			t.Cleanup(c.close)
			return c
		}
		s, err := sqlstore.New(ctx, db, opts)
		if err != nil {
			db.Close()
			t.Fatalf("sqlstore.New: %v", err)
		}
		c := &conn{store: s, close: sync.OnceFunc(func() { s.Close(); db.Close() })}
		t.Cleanup(c.close)
		return c
	}
}

// phpIDs makes the manager use raw 32-character IDs of PHP's alphabet.
func phpIDs(m *session.Manager) {
	m.RawIDs = true
	m.IDAlphabet = session.AlphabetPHP
	m.IDLength = 32
}

func setupSQLite(compat bool) func(t *testing.T, _ string) opener {
	return func(t *testing.T, _ string) opener {
		dsn := "file:" + filepath.Join(t.TempDir(), "sessions.db") + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)"
		return setupSQL(t, sqlstore.SQLite, compat, func() (*sql.DB, error) {
			return sql.Open("sqlite", dsn)
		})
	}
}

func setupMySQL(compat bool) func(t *testing.T, dsn string) opener {
	return func(t *testing.T, dsn string) opener {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("%s: %v", envMySQL, err)
		}
		cfg.Timeout = 2 * time.Second // dial timeout, for the outage
		return setupSQL(t, sqlstore.MySQL, compat, func() (*sql.DB, error) {
			c, err := mysql.NewConnector(cfg)
			if err != nil {
				return nil, err
			}
			return sql.OpenDB(c), nil
		})
	}
}

func setupPostgres(compat bool) func(t *testing.T, dsn string) opener {
	return func(t *testing.T, dsn string) opener {
		if !strings.Contains(dsn, "connect_timeout") {
			if strings.Contains(dsn, "?") {
				dsn += "&connect_timeout=2"
			} else {
				dsn += "?connect_timeout=2"
			}
		}
		return setupSQL(t, sqlstore.Postgres, compat, func() (*sql.DB, error) {
			return sql.Open("pgx", dsn)
		})
	}
}

// ---- Redis

// redisLog discards go-redis' own log lines (one per failed dial while a
// server is down); the tests count the errors themselves.
type redisLog struct{}

func (redisLog) Printf(context.Context, string, ...any) {}

// mysqlLog does the same for the MySQL driver ("unexpected EOF" and
// "closing bad idle connection" while MariaDB is down).
type mysqlLog struct{}

func (mysqlLog) Print(...any) {}

func init() {
	redis.SetLogger(redisLog{})
	_ = mysql.SetLogger(mysqlLog{})
}

// redisCleanup deletes the keys under prefix at the end of the test, with a
// client of its own.
func redisCleanup(t *testing.T, newClient func() redis.UniversalClient, prefix string) {
	t.Cleanup(func() {
		c := newClient()
		defer c.Close()
		ctx, cancel := ctxTimeout(30 * time.Second)
		defer cancel()
		del := func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+"*", 256).Iterator()
			for iter.Next(ctx) {
				if err := node.Del(ctx, iter.Val()).Err(); err != nil {
					return err
				}
			}
			return iter.Err()
		}
		var err error
		switch cc := c.(type) {
		case *redis.ClusterClient:
			err = cc.ForEachMaster(ctx, del)
		case *redis.Client:
			err = del(ctx, cc)
		}
		if err != nil {
			t.Errorf("delete test keys %s*: %v", prefix, err)
		}
	})
}

func setupRedis(t *testing.T, addr string) opener {
	prefix := randomName("reliability:") + ":"
	newClient := func() *redis.Client {
		return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	}
	redisCleanup(t, func() redis.UniversalClient { return newClient() }, prefix)
	return func(t *testing.T) *conn {
		rc := newClient()
		s, err := redisstore.New(rc, redisstore.Options{Prefix: prefix})
		if err != nil {
			rc.Close()
			t.Fatalf("redisstore.New: %v", err)
		}
		c := &conn{
			store: s,
			close: sync.OnceFunc(func() { rc.Close() }),
		}
		c.beforeStop = func(t *testing.T) func() { return redisPersist(t, addr) }
		t.Cleanup(c.close)
		return c
	}
}

// redisPersist makes the test Redis keep its data across the stop and start
// that follow. The test servers run without persistence (--save "",
// --appendonly no, and servicectl stops with SHUTDOWN NOSAVE), so a restart
// would come back empty, as any Redis without persistence does. A production
// Redis that keeps sessions has RDB or AOF persistence; this stands in for
// it: writes are paused (CLIENT PAUSE WRITE, reads go on), the data set is
// written to dump.rdb (SAVE), and the stop that follows happens with writes
// still paused, so every write acknowledged before the stop is in the dump
// that the restarted server loads. The returned function, run once the
// server is back, puts the dump file back as it was (or removes it).
func redisPersist(t *testing.T, addr string) func() {
	t.Helper()
	ctx, cancel := ctxTimeout(30 * time.Second)
	defer cancel()
	admin := redis.NewClient(&redis.Options{Addr: addr})
	defer admin.Close()
	dir, err := admin.ConfigGet(ctx, "dir").Result()
	if err != nil {
		t.Fatalf("redis CONFIG GET dir: %v", err)
	}
	file, err := admin.ConfigGet(ctx, "dbfilename").Result()
	if err != nil {
		t.Fatalf("redis CONFIG GET dbfilename: %v", err)
	}
	dump := filepath.Join(dir["dir"], file["dbfilename"])
	previous, readErr := os.ReadFile(dump) // put back once the server is up again
	if err := admin.Do(ctx, "CLIENT", "PAUSE", "20000", "WRITE").Err(); err != nil {
		t.Fatalf("redis CLIENT PAUSE: %v", err)
	}
	if err := admin.Save(ctx).Err(); err != nil {
		_ = admin.Do(ctx, "CLIENT", "UNPAUSE").Err()
		t.Fatalf("redis SAVE: %v", err)
	}
	return sync.OnceFunc(func() {
		var err error
		if readErr == nil {
			err = os.WriteFile(dump, previous, 0o644)
		} else {
			err = os.Remove(dump)
		}
		if err != nil {
			t.Errorf("put back %s as it was: %v", dump, err)
		}
	})
}

func setupRedisCluster(t *testing.T, addrs string) opener {
	prefix := randomName("reliability:") + ":"
	newClient := func() *redis.ClusterClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), ContextTimeoutEnabled: true})
	}
	redisCleanup(t, func() redis.UniversalClient { return newClient() }, prefix)
	return func(t *testing.T) *conn {
		rc := newClient()
		s, err := redisstore.New(rc, redisstore.Options{Prefix: prefix})
		if err != nil {
			rc.Close()
			t.Fatalf("redisstore.New: %v", err)
		}
		c := &conn{
			store: s,
			close: sync.OnceFunc(func() { rc.Close() }),
		}
		t.Cleanup(c.close)
		return c
	}
}

// ---- Mongo

func setupMongo(t *testing.T, uri string) opener {
	connect := func(t *testing.T) *mongo.Client {
		t.Helper()
		mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second))
		if err != nil {
			t.Fatalf("mongo connect %s: %v", uri, err)
		}
		return mc
	}
	dbName := randomName("reliability_")
	// Setup and cleanup use clients of their own, disconnected at once, so
	// that the fault test's goroutine count sees only the store's client.
	withClient := func(f func(ctx context.Context, mc *mongo.Client) error) error {
		mc := connect(t)
		ctx, cancel := ctxTimeout(30 * time.Second)
		defer cancel()
		defer mc.Disconnect(ctx)
		return f(ctx, mc)
	}
	t.Cleanup(func() {
		if err := withClient(func(ctx context.Context, mc *mongo.Client) error { return mc.Database(dbName).Drop(ctx) }); err != nil {
			t.Errorf("drop database %s: %v", dbName, err)
		}
	})
	weak := ""
	err := withClient(func(ctx context.Context, mc *mongo.Client) error {
		var info struct {
			FerretDBVersion string `bson:"ferretdbVersion"`
		}
		if err := mc.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
			return fmt.Errorf("buildInfo: %w", err)
		}
		if v := info.FerretDBVersion; v == "unknown" || strings.HasPrefix(v, "v1.") {
			weak = fmt.Sprintf("the server is FerretDB %s, whose conditional updates are not atomic (see mongostore's README)", v)
		}
		s, err := mongostore.New(mc.Database(dbName).Collection("sessions"), mongostore.Options{})
		if err != nil {
			return err
		}
		return s.EnsureIndexes(ctx)
	})
	if err != nil {
		t.Fatalf("mongo setup: %v", err)
	}
	return func(t *testing.T) *conn {
		mc := connect(t)
		s, err := mongostore.New(mc.Database(dbName).Collection("sessions"), mongostore.Options{})
		if err != nil {
			ctx, cancel := ctxTimeout(10 * time.Second)
			defer cancel()
			_ = mc.Disconnect(ctx)
			t.Fatalf("mongostore.New: %v", err)
		}
		c := &conn{
			store: s,
			close: sync.OnceFunc(func() {
				ctx, cancel := ctxTimeout(10 * time.Second)
				defer cancel()
				_ = mc.Disconnect(ctx)
			}),
			weakCAS: weak,
		}
		t.Cleanup(c.close)
		return c
	}
}

// ---- memcached

func setupMemcached(t *testing.T, addr string) opener {
	prefix := randomName("rel") + ":"
	return func(t *testing.T) *conn {
		mc := memcache.New(addr)
		mc.Timeout = time.Second // per socket operation (gomemcache takes no context)
		mc.MaxIdleConns = 64
		s, err := memcachestore.New(mc, memcachestore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		c := &conn{store: s, close: sync.OnceFunc(func() { mc.Close() })}
		t.Cleanup(c.close)
		return c
	}
}
