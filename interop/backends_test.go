package interop_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	_ "modernc.org/sqlite"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/sqlstore"
)

// backend is a table or collection shared by PHP and Go.
type backend interface {
	// name labels the backend in messages.
	name() string
	// phpConn is the connection part of php/run.php's input.
	phpConn() map[string]any
	// store opens the Go store on the shared table or collection for one
	// turn of the Go side, with the clock now; done closes what it opened
	// (on SQLite every connection, so that PHP finds the file unlocked).
	store(t *testing.T, now func() time.Time) (st session.Store, done func())
	// count returns how many records the table or collection holds, live or
	// not, read with plain queries.
	count(t *testing.T) int
	// modified reads the record's modification date with plain queries:
	// whether the record exists, whether the date is null, and the date in
	// Unix seconds.
	modified(t *testing.T, id string) (exists, null bool, unix int64)
}

// maxLifetime is PHP's session.gc_maxlifetime in these tests, the stores'
// MaxLifetime and the manager's idle timeout: short, with the clocks of both
// sides moved by the test instead of sleeping.
const maxLifetime = 60 * time.Second

func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// incubatorDDL is the incubator adapter's table, verbatim but for its name (SQLite takes the
// MySQL statement as it is).
func incubatorDDL(table string) string {
	return "CREATE TABLE `" + table + "` (\n" +
		"  `session_id` VARCHAR(35) NOT NULL,\n" +
		"  `data` text NOT NULL,\n" +
		"  `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n" +
		"  `modified_at` TIMESTAMP NULL DEFAULT NULL,\n" +
		"  PRIMARY KEY (`session_id`)\n" +
		");"
}

// sqlBackend is the incubator adapter's session_data table on MariaDB or SQLite.
type sqlBackend struct {
	label   string
	dialect sqlstore.Dialect
	table   string
	pdo     map[string]any
	open    func(t *testing.T) (db *sql.DB, done func())
}

func (b *sqlBackend) name() string { return b.label }

func (b *sqlBackend) phpConn() map[string]any {
	kind := "mysql"
	if b.dialect == sqlstore.SQLite {
		kind = "sqlite"
	}
	return map[string]any{"backend": kind, "pdo": b.pdo, "table": b.table}
}

func (b *sqlBackend) store(t *testing.T, now func() time.Time) (session.Store, func()) {
	t.Helper()
	db, done := b.open(t)
	st, err := sqlstore.NewCompat(ctxT(t), db, sqlstore.Options{
		Dialect: b.dialect, Table: b.table, MaxLifetime: maxLifetime, Now: now,
	})
	if err != nil {
		done()
		t.Fatalf("%s: sqlstore.NewCompat: %v", b.label, err)
	}
	return st, func() { _ = st.Close(); done() }
}

func (b *sqlBackend) count(t *testing.T) int {
	t.Helper()
	db, done := b.open(t)
	defer done()
	var n int
	if err := db.QueryRowContext(ctxT(t), "SELECT COUNT(*) FROM "+b.table).Scan(&n); err != nil {
		t.Fatalf("%s: count: %v", b.label, err)
	}
	return n
}

func (b *sqlBackend) modified(t *testing.T, id string) (exists, null bool, unix int64) {
	t.Helper()
	db, done := b.open(t)
	defer done()
	expr := "UNIX_TIMESTAMP(modified_at)"
	if b.dialect == sqlstore.SQLite {
		expr = "CAST(strftime('%s', modified_at) AS INTEGER)"
	}
	var m sql.NullInt64
	err := db.QueryRowContext(ctxT(t), "SELECT "+expr+" FROM "+b.table+" WHERE session_id = ?", id).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, 0
	}
	if err != nil {
		t.Fatalf("%s: read modified_at: %v", b.label, err)
	}
	return true, !m.Valid, m.Int64
}

// newMariaDB creates the incubator adapter's table under a unique name in the database
// of SESSION_TEST_MYSQL_DSN and drops it at the end of the test.
func newMariaDB(t *testing.T) *sqlBackend {
	dsn := os.Getenv("SESSION_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("SESSION_TEST_MYSQL_DSN not set")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("SESSION_TEST_MYSQL_DSN: %v", err)
	}
	pdoDSN := "mysql:dbname=" + cfg.DBName + ";charset=utf8mb4"
	switch cfg.Net {
	case "unix":
		pdoDSN += ";unix_socket=" + cfg.Addr
	default:
		host, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			host, port = cfg.Addr, "3306"
		}
		pdoDSN += ";host=" + host + ";port=" + port
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	b := &sqlBackend{
		label:   "MariaDB",
		dialect: sqlstore.MySQL,
		table:   uniqueName("sk_interop_"),
		pdo:     map[string]any{"dsn": pdoDSN, "user": cfg.User, "password": cfg.Passwd},
		open:    func(*testing.T) (*sql.DB, func()) { return db, func() {} },
	}
	if _, err := db.ExecContext(ctxT(t), incubatorDDL(b.table)); err != nil {
		t.Fatalf("MariaDB: create the incubator adapter's table: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+b.table); err != nil {
			t.Errorf("MariaDB: drop %s: %v", b.table, err)
		}
	})
	return b
}

// newSQLite creates the incubator adapter's table in a database file of the test's
// temporary directory, which PHP (pdo_sqlite) and Go (modernc.org/sqlite)
// open in turn. Every Go turn opens and closes its own *sql.DB.
func newSQLite(t *testing.T) *sqlBackend {
	path := filepath.Join(t.TempDir(), "sessions.db")
	b := &sqlBackend{
		label:   "SQLite",
		dialect: sqlstore.SQLite,
		table:   uniqueName("sk_interop_"),
		pdo:     map[string]any{"dsn": "sqlite:" + path},
	}
	b.open = func(t *testing.T) (*sql.DB, func()) {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		return db, func() {
			if err := db.Close(); err != nil {
				t.Errorf("SQLite: close: %v", err)
			}
		}
	}
	db, done := b.open(t)
	defer done()
	if _, err := db.ExecContext(ctxT(t), incubatorDDL(b.table)); err != nil {
		t.Fatalf("SQLite: create the incubator adapter's table: %v", err)
	}
	return b
}

// mongoBackend is a collection of the incubator adapter's {_id, modified, data}
// documents in a database of its own, dropped at the end of the test.
type mongoBackend struct {
	uri  string
	coll *mongo.Collection
}

func newMongo(t *testing.T) *mongoBackend {
	uri := os.Getenv("SESSION_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("SESSION_TEST_MONGO_URI not set")
	}
	if os.Getenv("SESSION_TEST_PHP_MONGODB") == "" {
		t.Skip("SESSION_TEST_PHP_MONGODB not set (PHP's mongodb extension, Debian's php-mongodb)")
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatalf("SESSION_TEST_MONGO_URI: %v", err)
	}
	db := client.Database(uniqueName("sk_interop_"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			t.Errorf("Mongo: drop database %s: %v", db.Name(), err)
		}
		_ = client.Disconnect(ctx)
	})
	return &mongoBackend{uri: uri, coll: db.Collection("session_data")}
}

func (b *mongoBackend) name() string { return "Mongo" }

func (b *mongoBackend) phpConn() map[string]any {
	return map[string]any{"backend": "mongo", "mongo": map[string]any{
		"uri": b.uri, "ns": b.coll.Database().Name() + "." + b.coll.Name(),
	}}
}

func (b *mongoBackend) store(t *testing.T, now func() time.Time) (session.Store, func()) {
	t.Helper()
	st, err := mongostore.New(b.coll, mongostore.Options{Compat: true, MaxLifetime: maxLifetime, Now: now})
	if err != nil {
		t.Fatalf("Mongo: %v", err)
	}
	if err := st.EnsureIndexes(ctxT(t)); err != nil {
		t.Fatalf("Mongo: EnsureIndexes: %v", err)
	}
	return st, func() {}
}

func (b *mongoBackend) count(t *testing.T) int {
	t.Helper()
	n, err := b.coll.CountDocuments(ctxT(t), bson.D{})
	if err != nil {
		t.Fatalf("Mongo: count: %v", err)
	}
	return int(n)
}

// doc returns the raw document with _id id, or nil.
func (b *mongoBackend) doc(t *testing.T, id string) bson.M {
	t.Helper()
	var m bson.M
	err := b.coll.FindOne(ctxT(t), bson.D{{Key: "_id", Value: id}}).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		t.Fatalf("Mongo: find %s: %v", id, err)
	}
	return m
}

func (b *mongoBackend) modified(t *testing.T, id string) (exists, null bool, unix int64) {
	t.Helper()
	m := b.doc(t, id)
	if m == nil {
		return false, false, 0
	}
	v, ok := m["modified"]
	if !ok {
		t.Fatalf("Mongo: document %s has no modified field: %v", id, m)
	}
	switch x := v.(type) {
	case nil:
		return true, true, 0
	case bson.DateTime:
		return true, false, x.Time().Unix()
	}
	t.Fatalf("Mongo: document %s: modified is a %T", id, v)
	return false, false, 0
}
