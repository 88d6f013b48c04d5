package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/mysqlstore"
	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	"github.com/boj/redistore"
	"github.com/bradfitz/gomemcache/memcache"
	"github.com/go-sql-driver/mysql"
	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/memcachestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"modernc.org/sqlite"
)

// backend is one storage backend with every library that has a store for
// it, all counting their store calls on calls.
type backend struct {
	name  string
	libs  []*lib
	calls *counter
}

// backendSetup names a backend and builds it; setup skips when the server's
// variable is unset.
type backendSetup struct {
	name  string
	setup func(tb testing.TB) *backend
	// sizeOnly marks a backend that differs from another one only in how
	// many other sessions its store holds: TestLostUpdates skips it.
	sizeOnly bool
}

// backends lists every backend in the order the report shows them.
var backends = []backendSetup{
	{name: "memory", setup: setupMemory},
	{name: "file", setup: setupFile},
	{name: "sqlite", setup: setupSQLite},
	{name: "mariadb", setup: setupMariaDB("mariadb", "SESSION_TEST_MYSQL_DSN")},
	{name: "mariadb-durable", setup: setupMariaDB("mariadb-durable", "SESSION_TEST_MYSQL_DURABLE_DSN")},
	{name: "postgres", setup: setupPostgres("postgres", "SESSION_TEST_POSTGRES_DSN")},
	{name: "postgres-durable", setup: setupPostgres("postgres-durable", "SESSION_TEST_POSTGRES_DURABLE_DSN")},
	{name: "mongo", setup: setupMongo("mongo", mongoOthers)},
	{name: "mongo-10k", setup: setupMongo("mongo-10k", mongoOthers10k), sizeOnly: true},
	{name: "redis", setup: setupRedis},
	{name: "memcached", setup: setupMemcached},
}

// The Mongo backends' collections hold this many other sessions besides
// the ones a run creates, so that a cost growing with the collection shows
// as a difference between mongo and mongo-10k.
const (
	mongoOthers    = 10
	mongoOthers10k = 10000
)

// env returns the server address in variable name, or skips.
func env(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		tb.Skipf("%s is not set (eval \"$(scripts/services.sh)\" sets it)", name)
	}
	return v
}

// unique returns a name of its own for this run.
func unique(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func ctxFor(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// ---- memory and files ----

func setupMemory(tb testing.TB) *backend {
	c := &counter{}
	sm := scsmem.New()
	tb.Cleanup(sm.StopCleanup)
	cookie := sessions.NewCookieStore(gorillaKey)
	cookie.Options = gorillaOptions()
	return &backend{name: "memory", calls: c, libs: []*lib{
		sessionkitLib(countSK(memstore.New(), c)),
		scsLib("scs", &countedSCS{sm, c}),
		gorillaLib("gorilla-cookie", cookie),
		sessionkitGob(countSK(memstore.New(), c)),
	}}
}

func setupFile(tb testing.TB) *backend {
	c := &counter{}
	dir := tb.TempDir()
	fs, err := filestore.New(filestore.Options{Dir: filepath.Join(dir, "sessionkit")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = fs.Close() })
	gdir := filepath.Join(dir, "gorilla")
	if err := os.MkdirAll(gdir, 0o700); err != nil {
		tb.Fatal(err)
	}
	gs := sessions.NewFilesystemStore(gdir, gorillaKey)
	gs.Options = gorillaOptions()
	return &backend{name: "file", calls: c, libs: []*lib{
		sessionkitLib(countSK(fs, c)),
		gorillaLib("gorilla", &countedGorilla{gs, c}),
	}}
}

// sessionkitGob is sessionkit with GobCodec, the default before
// BinaryCodec, to show what the codec costs where nothing else does: it
// runs on memory only.
func sessionkitGob(store session.Store) *lib {
	m := session.New(store)
	m.Codec = session.GobCodec{}
	return sessionkitLibM("sessionkit-gob", m)
}

// ---- SQL ----

// openSQL opens a pool on connector whose statements count on c.
func openSQL(tb testing.TB, conn driver.Connector, c *counter) *sql.DB {
	tb.Helper()
	db := sql.OpenDB(countingConnector{conn, c})
	db.SetMaxIdleConns(64)
	tb.Cleanup(func() { _ = db.Close() })
	if err := db.PingContext(ctxFor(tb)); err != nil {
		tb.Fatalf("ping: %v", err)
	}
	return db
}

func mustExec(tb testing.TB, db *sql.DB, query string) {
	tb.Helper()
	if _, err := db.ExecContext(ctxFor(tb), query); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// sessionkitSQL creates sessionkit's native table and store.
func sessionkitSQL(tb testing.TB, db *sql.DB, d sqlstore.Dialect, table string) *sqlstore.Store {
	tb.Helper()
	opts := sqlstore.Options{Dialect: d, Table: table}
	if err := sqlstore.CreateSchema(ctxFor(tb), db, opts); err != nil {
		tb.Fatal(err)
	}
	s, err := sqlstore.New(ctxFor(tb), db, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func setupSQLite(tb testing.TB) *backend {
	c := &counter{}
	path := filepath.Join(tb.TempDir(), "bench.db")
	conn, err := connectorFor(&sqlite.Driver{}, "file:"+path+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)")
	if err != nil {
		tb.Fatal(err)
	}
	db := openSQL(tb, conn, c)
	skTable, scsTable := unique("sk_"), unique("scs_")
	sk := sessionkitLib(sessionkitSQL(tb, db, sqlstore.SQLite, skTable))
	// scs's README schema.
	mustExec(tb, db, "CREATE TABLE "+scsTable+" (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)")
	mustExec(tb, db, "CREATE INDEX "+scsTable+"_expiry_idx ON "+scsTable+"(expiry)")
	ss := sqlite3store.NewWithConfig(db, sqlite3store.Config{TableName: scsTable, CleanUpInterval: 5 * time.Minute})
	tb.Cleanup(ss.StopCleanup)
	return &backend{name: "sqlite", calls: c, libs: []*lib{
		sk, scsLib("scs", ss), driverLib(sk, sqlCeiling(tb, db, c, sk, skTable, false)),
	}}
}

// setupMariaDB returns the setup of backend name on the server whose DSN
// is in variable dsnVar.
func setupMariaDB(name, dsnVar string) func(tb testing.TB) *backend {
	return func(tb testing.TB) *backend { return mariadbBackend(tb, name, env(tb, dsnVar)) }
}

// mariadbScratch creates a database of its own on the MariaDB server of dsn,
// dropped at the end of the test, and returns the configuration to reach it.
func mariadbScratch(tb testing.TB, dsn, prefix string) *mysql.Config {
	tb.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	adminConn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	admin := sql.OpenDB(adminConn)
	tb.Cleanup(func() { _ = admin.Close() })
	dbName := unique(prefix)
	mustExec(tb, admin, "CREATE DATABASE "+dbName)
	tb.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+dbName) })
	cfg = cfg.Clone()
	cfg.DBName = dbName
	return cfg
}

func mariadbBackend(tb testing.TB, name, dsn string) *backend {
	c := &counter{}
	// scs's MySQL store uses the fixed table name "sessions": each run
	// gets a database of its own.
	cfg := mariadbScratch(tb, dsn, "skbench_")
	// Both libraries' statements then cost one round trip each: scs's
	// plain Exec/Query would otherwise prepare, execute and close.
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := openSQL(tb, conn, c)
	sk := sessionkitLib(sessionkitSQL(tb, db, sqlstore.MySQL, "sk_sessions"))
	// scs's README schema.
	mustExec(tb, db, "CREATE TABLE sessions (token CHAR(43) PRIMARY KEY, data BLOB NOT NULL, expiry TIMESTAMP(6) NOT NULL)")
	mustExec(tb, db, "CREATE INDEX sessions_expiry_idx ON sessions (expiry)")
	// No cleanup goroutine: mysqlstore's StopCleanup reads the channel
	// that its cleanup goroutine assigns, a data race that -race reports;
	// the goroutine would not run within a benchmark anyway.
	ms := mysqlstore.NewWithCleanupInterval(db, 0)
	return &backend{name: name, calls: c, libs: []*lib{
		sk, scsLib("scs", ms), driverLib(sk, sqlCeiling(tb, db, c, sk, "sk_sessions", false)),
	}}
}

// setupPostgres returns the setup of backend name on the server whose DSN
// is in variable dsnVar.
func setupPostgres(name, dsnVar string) func(tb testing.TB) *backend {
	return func(tb testing.TB) *backend { return postgresBackend(tb, name, env(tb, dsnVar)) }
}

func postgresBackend(tb testing.TB, name, dsn string) *backend {
	c := &counter{}
	conn, err := connectorFor(stdlib.GetDefaultDriver(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	db := openSQL(tb, conn, c)
	skTable, scsTable := unique("sk_"), unique("scs_")
	tb.Cleanup(func() {
		for _, t := range []string{skTable, scsTable} {
			_, _ = db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+t)
		}
	})
	sk := sessionkitLib(sessionkitSQL(tb, db, sqlstore.Postgres, skTable))
	// scs's README schema.
	mustExec(tb, db, "CREATE TABLE "+scsTable+" (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)")
	mustExec(tb, db, "CREATE INDEX "+scsTable+"_expiry_idx ON "+scsTable+" (expiry)")
	ps := postgresstore.NewWithConfig(db, postgresstore.Config{TableName: scsTable, CleanUpInterval: 5 * time.Minute})
	tb.Cleanup(ps.StopCleanup)
	return &backend{name: name, calls: c, libs: []*lib{
		sk, scsLib("scs", ps), driverLib(sk, sqlCeiling(tb, db, c, sk, skTable, true)),
	}}
}

// ---- MongoDB ----

// setupMongo returns the setup of backend name, whose collections hold
// others sessions besides the run's own.
func setupMongo(name string, others int) func(tb testing.TB) *backend {
	return func(tb testing.TB) *backend { return mongoBackend(tb, name, env(tb, "SESSION_TEST_MONGO_URI"), others) }
}

func mongoBackend(tb testing.TB, name, uri string, others int) *backend {
	c := &counter{}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMonitor(mongoMonitor(c)).SetTimeout(30 * time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	mdb := client.Database("sessionkit_bench")
	skColl, scsColl := mdb.Collection(unique("sk_")), mdb.Collection(unique("scs_"))
	tb.Cleanup(func() {
		_ = skColl.Drop(context.Background())
		_ = scsColl.Drop(context.Background())
	})
	ms, err := mongostore.New(skColl, mongostore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := ms.EnsureIndexes(ctxFor(tb)); err != nil {
		tb.Fatal(err)
	}
	sk := sessionkitLib(ms)
	fillMongo(tb, skColl, scsColl, sk, others)
	read := func(ctx context.Context, key string) ([]byte, error) {
		raw, err := skColl.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Raw()
		if err != nil {
			return nil, err
		}
		_, data, ok := raw.Lookup("data").BinaryOK()
		if !ok {
			return nil, errors.New("no binary data field")
		}
		return data, nil
	}
	ceil := ceiling{
		read: func(ctx context.Context, key string) error { _, err := read(ctx, key); return err },
		write: func(ctx context.Context, key string) error {
			data, err := read(ctx, key)
			if err != nil {
				return err
			}
			_, err = skColl.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: data}, {Key: "modified", Value: time.Now()}}}})
			return err
		},
		insert: func(ctx context.Context, key string) error {
			now := time.Now()
			_, err := skColl.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "data", Value: payload},
				{Key: "modified", Value: now}, {Key: "expires", Value: now.Add(idleTimeout)}, {Key: "version", Value: int64(1)}})
			return err
		},
	}
	return &backend{name: name, calls: c, libs: []*lib{
		sk, scsLib("scs*", scsMongo{scsColl}), driverLib(sk, ceil),
	}}
}

// fillMongo puts others live sessions into each collection: copies, under
// new IDs, of a document sessionkit's store wrote (so they have its
// shape and indexes) and of scs's.
func fillMongo(tb testing.TB, skColl, scsColl *mongo.Collection, sk *lib, others int) {
	tb.Helper()
	ctx := ctxFor(tb)
	sk.seed(tb)
	var model bson.D
	if err := skColl.FindOne(ctx, bson.D{}).Decode(&model); err != nil {
		tb.Fatalf("a document to copy: %v", err)
	}
	expiry := time.Now().Add(idleTimeout)
	const batch = 1000
	for done := 0; done < others; done += batch {
		n := min(batch, others-done)
		skDocs, scsDocs := make([]any, n), make([]any, n)
		for i := range n {
			d := slices.Clone(model)
			for j := range d {
				if d[j].Key == "_id" {
					d[j].Value = unique("other")
				}
			}
			skDocs[i] = d
			scsDocs[i] = bson.D{{Key: "_id", Value: unique("other")}, {Key: "data", Value: payload}, {Key: "expiry", Value: expiry}}
		}
		if _, err := skColl.InsertMany(ctx, skDocs); err != nil {
			tb.Fatalf("filling %s: %v", skColl.Name(), err)
		}
		if _, err := scsColl.InsertMany(ctx, scsDocs); err != nil {
			tb.Fatalf("filling %s: %v", scsColl.Name(), err)
		}
	}
}

// payload stands for a small session's encoded data in the ceiling's
// inserts.
var payload = []byte(strings.Repeat("x", 96))

// ---- Redis ----

func setupRedis(tb testing.TB) *backend {
	addr := env(tb, "SESSION_TEST_REDIS_ADDR")
	c := &counter{}
	client := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	client.AddHook(redisHook{c})
	tb.Cleanup(func() { _ = client.Close() })
	skPrefix, scsPrefix, gPrefix := unique("skb:")+":", unique("scsb")+":", unique("gb")+":"
	tb.Cleanup(func() {
		ctx := context.Background()
		for _, p := range []string{skPrefix, scsPrefix, gPrefix} {
			iter := client.Scan(ctx, 0, p+"*", 500).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
		}
	})
	rs, err := redisstore.New(client, redisstore.Options{Prefix: skPrefix})
	if err != nil {
		tb.Fatal(err)
	}
	sk := sessionkitLib(rs)
	dial := countingDial(c)
	pool := &redigo.Pool{MaxIdle: 64, IdleTimeout: 4 * time.Minute, DialContext: func(ctx context.Context) (redigo.Conn, error) {
		conn, err := dial(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return redigo.NewConn(conn, 5*time.Second, 5*time.Second), nil
	}}
	gs, err := redistore.NewRediStoreWithPool(pool, gorillaKey)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = gs.Close() })
	gs.SetKeyPrefix(gPrefix)
	gs.SetMaxAge(int(idleTimeout / time.Second))
	gs.Options = gorillaOptions()
	ceil := redisCeiling(client, skPrefix)
	return &backend{name: "redis", calls: c, libs: []*lib{
		sk, scsLib("scs", goredisstore.NewWithPrefix(client, scsPrefix)), gorillaLib("gorilla", gs), driverLib(sk, ceil),
	}}
}

// ---- memcached ----

func setupMemcached(tb testing.TB) *backend {
	addr := env(tb, "SESSION_TEST_MEMCACHED_ADDR")
	c := &counter{}
	client := memcache.New(addr)
	client.DialContext = countingDial(c)
	client.MaxIdleConns = 64
	tb.Cleanup(func() { _ = client.Close() })
	skPrefix, scsPrefix := unique("skb")+":", unique("scsb")+":"
	ms, err := memcachestore.New(client, memcachestore.Options{Prefix: skPrefix})
	if err != nil {
		tb.Fatal(err)
	}
	sk := sessionkitLib(ms)
	read := func(key string) (*memcache.Item, error) { return client.Get(skPrefix + key) }
	ceil := ceiling{
		read: func(_ context.Context, key string) error { _, err := read(key); return err },
		write: func(_ context.Context, key string) error {
			it, err := read(key)
			if err != nil {
				return err
			}
			it.Expiration = int32(idleTimeout / time.Second)
			return client.Set(it)
		},
		insert: func(_ context.Context, key string) error {
			return client.Add(&memcache.Item{Key: skPrefix + key, Value: payload, Expiration: int32(idleTimeout / time.Second)})
		},
	}
	return &backend{name: "memcached", calls: c, libs: []*lib{
		sk, scsLib("scs*", scsMemcache{client, scsPrefix}), driverLib(sk, ceil),
	}}
}

// sqlCeiling captures the statement sessionkit's store uses to load a
// record and the one it uses to insert a new record, and returns a ceiling
// that runs them (and a primary-key update) straight on db.
func sqlCeiling(tb testing.TB, db *sql.DB, c *counter, sk *lib, table string, postgres bool) ceiling {
	tb.Helper()
	ctx := ctxFor(tb)
	cookie := sk.seed(tb)
	load := c.capture(func() { mustServe(tb, sk.handler, "/read", cookie) })
	insert := c.capture(func() { mustServe(tb, sk.handler, "/new", "") })
	if len(load) != 1 || len(insert) != 1 {
		tb.Fatalf("sessionkit issued %d statements for a read and %d for a new session; the ceiling expects 1 and 1", len(load), len(insert))
	}
	if len(insert[0].args) == 0 || !strings.Contains(strings.ToUpper(insert[0].query), "INSERT") {
		tb.Fatalf("unexpected insert statement %q", insert[0].query)
	}
	loadStmt, err := db.PrepareContext(ctx, load[0].query)
	if err != nil {
		tb.Fatal(err)
	}
	insertStmt, err := db.PrepareContext(ctx, insert[0].query)
	if err != nil {
		tb.Fatal(err)
	}
	upd := "UPDATE " + table + " SET data = ?, version = version + 1 WHERE session_id = ?"
	if postgres {
		upd = "UPDATE " + table + " SET data = $1, version = version + 1 WHERE session_id = $2"
	}
	updStmt, err := db.PrepareContext(ctx, upd)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _, _, _ = loadStmt.Close(), insertStmt.Close(), updStmt.Close() })
	insArgs := make([]any, len(insert[0].args))
	for i, a := range insert[0].args {
		insArgs[i] = a.Value
	}
	var ncols int
	read := func(ctx context.Context, key string) ([]byte, error) {
		rows, err := loadStmt.QueryContext(ctx, key)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("no row")
		}
		if ncols == 0 {
			cols, err := rows.Columns()
			if err != nil {
				return nil, err
			}
			ncols = len(cols)
		}
		raw := make([]sql.RawBytes, ncols)
		dest := make([]any, ncols)
		for i := range raw {
			dest[i] = &raw[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		data := append([]byte(nil), raw[0]...)
		return data, rows.Close()
	}
	return ceiling{
		read: func(ctx context.Context, key string) error { _, err := read(ctx, key); return err },
		write: func(ctx context.Context, key string) error {
			data, err := read(ctx, key)
			if err != nil {
				return err
			}
			res, err := updStmt.ExecContext(ctx, data, key)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return fmt.Errorf("update: %d rows, %v", n, err)
			}
			return nil
		},
		insert: func(ctx context.Context, key string) error {
			args := append([]any(nil), insArgs...)
			args[0] = key
			_, err := insertStmt.ExecContext(ctx, args...)
			return err
		},
	}
}
