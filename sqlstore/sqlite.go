package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// [NewCompat] refuse a SQLite database whose busy_timeout is 0.
func SQLiteDSN(path string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate"
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

// classify: SQLite serializes writers; a busy database is an error of its
// own (see [SQLiteDSN]), not a lost compare-and-set.
func (sqliteDialect) classify(err error) error { return err }
