package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// dialect holds everything that differs between MySQL/MariaDB, PostgreSQL
// and SQLite; the rest of the package is written once against it. The
// implementations are mysqlDialect (mysql.go), postgresDialect (postgres.go)
// and sqliteDialect (sqlite.go).
type dialect interface {
	// quote quotes one validated identifier.
	quote(name string) string
	// bind rewrites the ? placeholders of a query built by this package.
	bind(query string) string

	// timeIn is the SQL expression that turns the parameter ? into a value
	// of a column of kind k.
	timeIn(k timeKind) string
	// timeOut is the SQL expression that reads column expression col of
	// kind k as something scanTime understands, whatever the connection's
	// time zone or driver options.
	timeOut(k timeKind, col string) string
	// timeCmp is the expression of col compared with a timeParam value.
	timeCmp(k timeKind, col string) string
	// timeParam is the parameter for timeIn and timeCmp: t in UTC at the
	// column's precision, clamped to timeRange.
	timeParam(k timeKind, t time.Time) any
	// timeRange is the earliest and latest instant a column of kind k holds.
	timeRange(k timeKind) (lo, hi time.Time)

	// catalog reads the columns of schema.table ("" schema: the current
	// one) as rows of name, type, character length, byte length, nullable
	// ("YES"/"NO") and collation.
	catalog(ctx context.Context, q queryer, schema, table string) (*sql.Rows, error)
	// probe learns what New needs beyond the columns, and refuses a
	// database the store cannot work with.
	probe(ctx context.Context, db *sql.DB, n names, ti tableInfo, l Layout) (facts, error)

	// queries adds the dialect's statements to q: the insert of a new
	// record, the locking read of the compatibility layout and the GC.
	queries(e *engine, q *queries)
	// create inserts a new record, replacing an expired one; a live one is
	// a conflict.
	create(ctx context.Context, e *engine, key string, args []any, ver uint64, now time.Time) error
	// compatUpdate is the compatibility layout's compare-and-set update.
	compatUpdate(ctx context.Context, e *engine, key string, args []any, want uint64, now time.Time) error
	// oneWriter reports whether the database lets one writer at a time in
	// (SQLite): the engine then sends its writes one after the other
	// through a gate of its own, so that they queue in the process rather
	// than in the database's busy handler, and accepts Options.ReadDB.
	oneWriter() bool
	// classify wraps the driver errors that mean "another transaction won"
	// (a deadlock, a lock wait timeout, a serialization or certification
	// failure) with session.ErrConflict, so that the manager reloads and
	// retries; other errors are returned as they are.
	classify(err error) error

	// ddl returns the statements that create the table of layout l if it
	// does not exist; q is the database, for what the statements depend on
	// (MySQL: the name of the server's exact collation).
	ddl(ctx context.Context, q queryer, n names, l Layout) ([]string, error)
	// upgradeIncubator34 converts Unix seconds in created and modified to
	// the compatibility layout's timestamps.
	upgradeIncubator34(ctx context.Context, conn *sql.Conn, n names, created, modified column) error
	// upgradeToNative turns a compatibility table into the native layout.
	upgradeToNative(ctx context.Context, conn *sql.Conn, n names, ti tableInfo) error
}

// facts are what probe learns about a table.
type facts struct {
	// secondsInTime: a compatibility table still holds incubator 3.4 Unix
	// seconds in its time columns.
	secondsInTime bool
	// dataLimit is the byte capacity of the data column, 0 when unknown.
	dataLimit int64
	// versionTrigger: a native table has the trigger that gives a row a
	// new version when another program changes its data.
	versionTrigger bool
}

// dialectOf returns the implementation of d; d has been validated.
func dialectOf(d Dialect) dialect {
	switch d {
	case MySQL:
		return mysqlDialect{}
	case Postgres:
		return postgresDialect{}
	}
	return sqliteDialect{}
}

// quoteTable quotes a validated, optionally schema-qualified table name.
func quoteTable(d dialect, table string) string {
	parts := strings.Split(table, ".")
	for i, p := range parts {
		parts[i] = d.quote(p)
	}
	return strings.Join(parts, ".")
}

// timeKind is how a time column is stored.
type timeKind int

const (
	// nativeTime: DATETIME(6) (MySQL), TIMESTAMPTZ (PostgreSQL), text
	// "2006-01-02 15:04:05.000000" in UTC (SQLite).
	nativeTime timeKind = iota
	// compatTime: the incubator table's TIMESTAMP (MySQL, seconds,
	// converted from the session time zone), TIMESTAMP without time zone
	// holding UTC (PostgreSQL), text "2006-01-02 15:04:05" in UTC like
	// SQLite's CURRENT_TIMESTAMP (SQLite).
	compatTime
)

// Range of the native time columns.
var (
	nativeMin = time.Unix(0, 0).UTC()
	nativeMax = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// clampTime returns t in UTC, raised to lo and lowered to hi.
func clampTime(t, lo, hi time.Time) time.Time {
	t = t.UTC()
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// writeTime returns the parameter that stores t in a column of kind k:
// times before the column's range are raised to its minimum (every time the
// store writes that early means "already expired"); times after it are an
// error.
func writeTime(d dialect, k timeKind, t time.Time) (any, error) {
	if _, hi := d.timeRange(k); t.After(hi) {
		return nil, fmt.Errorf("time %v is after %v, the latest the column holds", t.UTC(), hi)
	}
	return d.timeParam(k, t), nil
}
