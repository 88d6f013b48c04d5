package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// sqliteDialect is SQLite 3.35 and later, through any driver.
type sqliteDialect struct{}

const (
	sqliteNativeLayout = "2006-01-02 15:04:05.000000"
	sqliteCompatLayout = "2006-01-02 15:04:05"
)

// SQLiteDSN returns the modernc.org/sqlite data source name of the database
// file at path, set up for a session store shared by concurrent requests:
//
//   - _pragma=busy_timeout(5000): a connection that finds the database
//     locked by another writer waits up to 5 s instead of failing at once
//     with "database is locked (SQLITE_BUSY)";
//   - _pragma=journal_mode(WAL): readers do not block the writer, nor the
//     writer the readers;
//   - _txlock=immediate: transactions (the schema upgrades) take the write
//     lock when they begin, where busy_timeout applies, rather than fail
//     when a read turns into a write.
//
// Every connection of the pool runs the pragmas, since they are part of the
// DSN. Use it as sql.Open("sqlite", sqlstore.SQLiteDSN("app.db")). [New] and
// [NewCompat] refuse a SQLite database whose busy_timeout is 0. The store
// lets its own writes through one at a time; [OpenSQLite] also sizes the
// pools, so that a burst of requests opens no connections.
func SQLiteDSN(path string) string {
	return "file:" + sqliteEscape(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// sqliteEscape escapes path for the file: URI of a DSN.
func sqliteEscape(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// SQLiteDB is a SQLite database opened by [OpenSQLite] as two pools, sized
// for a session store.
type SQLiteDB struct {
	// Write has one connection, which every write goes through in turn:
	// SQLite lets one writer at a time in, and writers that queue in
	// database/sql wait less, and never fail with SQLITE_BUSY, than
	// writers that race for the file lock in SQLite's busy handler. Give
	// it to [Migrate], [New] and [NewCompat].
	Write *sql.DB
	// Read is a pool of read-only connections, which in WAL mode read
	// while the writer writes. Give it to the store as Options.ReadDB.
	Read *sql.DB
}

// OpenSQLite opens the SQLite database file at path (creating it) for a
// session store, through the database/sql driver registered as driverName:
// "sqlite" for modernc.org/sqlite, which the program imports; the data
// source names are in its syntax. The write pool has one connection, kept
// open; the read pool has max(4, GOMAXPROCS) read-only connections, all
// kept open, so that a burst of requests opens no connection and closes
// none. Both run the pragmas of [SQLiteDSN]: WAL mode and busy_timeout; the
// write pool also synchronous(NORMAL), the usual setting with WAL: a commit
// does not wait for an fsync, and a power loss may lose the last commits
// but never corrupts the database. Use it as
//
//	sdb, err := sqlstore.OpenSQLite("sqlite", "sessions.db")
//	...
//	defer sdb.Close()
//	opts := sqlstore.Options{Dialect: sqlstore.SQLite, ReadDB: sdb.Read}
//	err = sqlstore.Migrate(ctx, sdb.Write, opts)
//	store, err := sqlstore.New(ctx, sdb.Write, opts)
func OpenSQLite(driverName, path string) (*SQLiteDB, error) {
	w, err := sql.Open(driverName, SQLiteDSN(path)+"&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	// The writer creates the file and turns WAL on before a reader opens
	// it read-only.
	if err := w.Ping(); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	r, err := sql.Open(driverName, "file:"+sqliteEscape(path)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlstore: open %s read-only: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.Ping(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("sqlstore: open %s read-only: %w", path, err)
	}
	return &SQLiteDB{Write: w, Read: r}, nil
}

// Close closes both pools.
func (d *SQLiteDB) Close() error {
	return errors.Join(d.Read.Close(), d.Write.Close())
}

func (sqliteDialect) quote(name string) string { return `"` + name + `"` }

func (sqliteDialect) bind(query string) string { return query }

func (sqliteDialect) timeIn(timeKind) string { return "?" }

// timeOut: times are text, so that they stay readable and compare
// correctly as text.
func (sqliteDialect) timeOut(_ timeKind, col string) string { return "CAST(" + col + " AS TEXT)" }

func (sqliteDialect) timeCmp(_ timeKind, col string) string { return col }

// timeParam: the compatibility layout holds whole seconds like SQLite's
// CURRENT_TIMESTAMP; comparing them as text with floor(t) gives s > floor(t)
// exactly when s > t.
func (sqliteDialect) timeParam(k timeKind, t time.Time) any {
	t = clampTime(t, nativeMin, nativeMax)
	if k == compatTime {
		return t.Format(sqliteCompatLayout)
	}
	return t.Format(sqliteNativeLayout)
}

func (sqliteDialect) timeRange(timeKind) (lo, hi time.Time) { return nativeMin, nativeMax }

func (sqliteDialect) catalog(ctx context.Context, q queryer, schema, table string) (*sql.Rows, error) {
	if schema == "" {
		schema = "main"
	}
	return q.QueryContext(ctx, `SELECT name, type, 0, 0, CASE WHEN "notnull" = 0 AND pk = 0 THEN 'YES' ELSE 'NO' END, '' FROM pragma_table_info(?, ?)`, table, schema)
}

// probe refuses a database without busy_timeout: concurrent requests would
// fail with SQLITE_BUSY instead of waiting their turn to write. The pragma
// must be in the DSN (see [SQLiteDSN]) so that every pooled connection
// runs it; a PRAGMA statement sets it on one connection only.
func (d sqliteDialect) probe(ctx context.Context, db *sql.DB, n names, _ tableInfo, l Layout) (facts, error) {
	var f facts
	var timeout int64
	if err := db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return f, fmt.Errorf("sqlstore: read PRAGMA busy_timeout: %w", err)
	}
	if timeout <= 0 {
		return f, fmt.Errorf("%w: SQLite busy_timeout is 0, so concurrent saves fail with SQLITE_BUSY: open the database with sql.Open(\"sqlite\", sqlstore.SQLiteDSN(path)), or add _pragma=busy_timeout(5000) to the DSN (and journal_mode(WAL))", errOptions)
	}
	master := "sqlite_master"
	if n.schema != "" {
		master = d.quote(n.schema) + ".sqlite_master"
	}
	var one int
	if l == Compatibility {
		// SQLite keeps the declared type: look at the values.
		err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT 1 FROM %s WHERE typeof(%s) IN ('integer', 'real') OR typeof(%s) IN ('integer', 'real') LIMIT 1",
			n.tbl, n.created, n.modified)).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return f, fmt.Errorf("sqlstore: inspect table %s: %w", n.o.Table, err)
		}
		f.secondsInTime = err == nil
		return f, nil
	}
	err := db.QueryRowContext(ctx, "SELECT 1 FROM "+master+" WHERE type = 'trigger' AND name = ? AND tbl_name = ?", n.triggerName(), n.table).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("sqlstore: inspect table %s: %w", n.o.Table, err)
	}
	f.versionTrigger = err == nil
	return f, nil
}

// queries: INSERT ... ON CONFLICT DO UPDATE ... WHERE makes a new record one
// statement. The compatibility layout's read does not lock (SQLite has no
// FOR UPDATE, and a deferred transaction cannot be upgraded to a write under
// concurrency): its update compares the data instead.
func (sqliteDialect) queries(e *engine, q *queries) { e.upsertQueries(q, "", "") }

func (sqliteDialect) create(ctx context.Context, e *engine, key string, args []any, _ uint64, now time.Time) error {
	return e.upsert(ctx, key, args, now)
}

func (sqliteDialect) compatUpdate(ctx context.Context, e *engine, key string, args []any, want uint64, now time.Time) error {
	return e.compatUpdateIfData(ctx, key, args, want, now)
}

// oneWriter: SQLite lets one writer at a time in.
func (sqliteDialect) oneWriter() bool { return true }

// classify: SQLite serializes writers; a busy database is an error of its
// own (see [SQLiteDSN]), not a lost compare-and-set.
func (sqliteDialect) classify(err error) error { return err }
