package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
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

	"github.com/sessionkit/session/internal/sqlcount"
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
	var o sqlcount.Observer
	if c != nil {
		o = c
	}
	db, err := sqlcount.OpenDB(drv, dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	return db
}

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

// incubatorDDL is the incubator Database adapter's CREATE TABLE verbatim (MySQL form on MySQL/MariaDB,
// the same statement with SQLite's quotes on SQLite), under another name.
func incubatorDDL(d sqlstore.Dialect, table string) string {
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
type counts = sqlcount.Counts

func mysqlDriver() driver.Driver { return mysql.MySQLDriver{} }
