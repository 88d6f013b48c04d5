package sqlstore_test

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/sessionkit/session/sqlstore"
)

// backend is one database the tests run against.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	// open returns a database; c, when not nil, counts its statements.
	open func(t *testing.T, c *counts) *sql.DB
}

func backends() []backend {
	return []backend{
		{"mysql", sqlstore.MySQL, openMySQL},
		{"postgres", sqlstore.Postgres, openPostgres},
		{"sqlite", sqlstore.SQLite, openSQLite},
	}
}

func mysqlDSN(t *testing.T) string {
	dsn := os.Getenv("SESSION_TEST_MYSQL_DSN")
	if dsn == "" {
		t.Skip("SESSION_TEST_MYSQL_DSN not set")
	}
	return dsn
}

func openMySQL(t *testing.T, c *counts) *sql.DB {
	return openDSN(t, mysql.MySQLDriver{}, mysqlDSN(t), c)
}

func openPostgres(t *testing.T, c *counts) *sql.DB {
	dsn := os.Getenv("SESSION_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SESSION_TEST_POSTGRES_DSN not set")
	}
	return openDSN(t, stdlib.GetDefaultDriver(), dsn, c)
}

func openSQLite(t *testing.T, c *counts) *sql.DB {
	path := filepath.Join(sqliteDir(t), "sessions.db")
	return openDSN(t, &sqlite.Driver{}, "file:"+path+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)", c)
}

var (
	sqliteMu   sync.Mutex
	sqliteDirs = map[string]string{}
)

// sqliteDir returns the directory of the test's database: every open in one
// (sub)test sees the same database.
func sqliteDir(t *testing.T) string {
	sqliteMu.Lock()
	defer sqliteMu.Unlock()
	if d, ok := sqliteDirs[t.Name()]; ok {
		return d
	}
	d := t.TempDir()
	name := t.Name()
	sqliteDirs[name] = d
	t.Cleanup(func() {
		sqliteMu.Lock()
		delete(sqliteDirs, name)
		sqliteMu.Unlock()
	})
	return d
}

func openDSN(t *testing.T, drv driver.Driver, dsn string, c *counts) *sql.DB {
	t.Helper()
	var db *sql.DB
	if c == nil {
		db = sql.OpenDB(dsnConnector{dsn, drv})
	} else {
		db = sql.OpenDB(dsnConnector{dsn, countingDriver{drv, c}})
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	return db
}

type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if dc, ok := c.drv.(driver.DriverContext); ok {
		conn, err := dc.OpenConnector(c.dsn)
		if err != nil {
			return nil, err
		}
		return conn.Connect(ctx)
	}
	return c.drv.Open(c.dsn)
}

func (c dsnConnector) Driver() driver.Driver { return c.drv }

// uniqueTable returns a table name of its own for this test run and drops
// the table when the test ends.
func uniqueTable(t *testing.T, db *sql.DB, d sqlstore.Dialect) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sk_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		q := `DROP TABLE IF EXISTS "` + name + `"`
		if d == sqlstore.MySQL {
			q = "DROP TABLE IF EXISTS `" + name + "`"
		}
		_, _ = db.ExecContext(context.Background(), q)
	})
	return name
}

// seedDDL is the seed's CREATE TABLE verbatim (MySQL form on MySQL/MariaDB,
// the same statement with SQLite's quotes on SQLite), under another name.
func seedDDL(d sqlstore.Dialect, table string) string {
	s := "CREATE TABLE `session_data` (\n  `session_id` VARCHAR(35) NOT NULL,\n  `data` text NOT NULL,\n  `created_at` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  `modified_at` TIMESTAMP NULL DEFAULT NULL,\n  PRIMARY KEY (`session_id`)\n);"
	s = strings.Replace(s, "`session_data`", "`"+table+"`", 1)
	switch d {
	case sqlstore.SQLite:
		return strings.ReplaceAll(s, "`", `"`)
	case sqlstore.Postgres:
		// PostgreSQL has no backquotes; its equivalent is what
		// CreateSchema makes for the compatibility layout.
		s = strings.ReplaceAll(s, "`", `"`)
		return strings.Replace(s, "DEFAULT CURRENT_TIMESTAMP", "DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')", 1)
	}
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(ctxT(t), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// phpKey returns a PHP-style session ID: 32 characters of [a-z0-9,-].
func phpKey() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,-"
	var b [32]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// clock is a settable application clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// counts counts what reaches the driver: each is one round trip to the
// server (SQLite: one call into the engine).
type counts struct {
	exec, query, prepare, begin, commit, rollback atomic.Int64
}

func (c *counts) reset() {
	for _, n := range []*atomic.Int64{&c.exec, &c.query, &c.prepare, &c.begin, &c.commit, &c.rollback} {
		n.Store(0)
	}
}

func (c *counts) total() int64 {
	return c.exec.Load() + c.query.Load() + c.prepare.Load() + c.begin.Load() + c.commit.Load() + c.rollback.Load()
}

func (c *counts) String() string {
	return fmt.Sprintf("exec %d, query %d, prepare %d, begin %d, commit %d, rollback %d",
		c.exec.Load(), c.query.Load(), c.prepare.Load(), c.begin.Load(), c.commit.Load(), c.rollback.Load())
}

type countingDriver struct {
	driver.Driver
	c *counts
}

func (d countingDriver) Open(name string) (driver.Conn, error) {
	conn, err := d.Driver.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn, d.c}, nil
}

// OpenConnector wraps the driver's connector so that its connections count.
func (d countingDriver) OpenConnector(name string) (driver.Connector, error) {
	return countingConnector{dsnConnector{name, d.Driver}, d}, nil
}

type countingConnector struct {
	inner dsnConnector
	d     countingDriver
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn, c.d.c}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.d }

type countingConn struct {
	driver.Conn
	c *counts
}

func (cn *countingConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cn.c.prepare.Add(1)
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{st, cn.c}, nil
}

func (cn *countingConn) Begin() (driver.Tx, error) {
	return cn.BeginTx(context.Background(), driver.TxOptions{})
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.begin.Add(1)
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := cn.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = cn.Conn.Begin() //nolint:staticcheck // fallback of the wrapped driver
	}
	if err != nil {
		return nil, err
	}
	return countingTx{tx, cn.c}, nil
}

func (cn *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := e.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		cn.c.exec.Add(1)
	}
	return r, err
}

func (cn *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	r, err := q.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		cn.c.query.Add(1)
	}
	return r, err
}

func (cn *countingConn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	c *counts
}

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	return nil, errors.New("countingStmt: Exec without context is not used")
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	return nil, errors.New("countingStmt: Query without context is not used")
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.exec.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.query.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingTx struct {
	driver.Tx
	c *counts
}

func (tx countingTx) Commit() error   { tx.c.commit.Add(1); return tx.Tx.Commit() }
func (tx countingTx) Rollback() error { tx.c.rollback.Add(1); return tx.Tx.Rollback() }

func mysqlDriver() driver.Driver { return mysql.MySQLDriver{} }
