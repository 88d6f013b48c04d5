package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/sessionkit/session"
)

// mysqlDialect is MySQL 8 and MariaDB 10.5 and later, through any driver
// (the error numbers are read from github.com/go-sql-driver/mysql's
// MySQLError or any error with the same Number field).
type mysqlDialect struct{}

const mysqlNativeLayout = "2006-01-02 15:04:05.000000"

// Range of MySQL's TIMESTAMP.
var (
	mysqlTSMin = time.Unix(1, 0).UTC()
	mysqlTSMax = time.Unix(1<<31-1, 0).UTC()
)

func (mysqlDialect) quote(name string) string { return "`" + name + "`" }

func (mysqlDialect) bind(query string) string { return query }

func (mysqlDialect) timeIn(k timeKind) string {
	if k == compatTime {
		return "FROM_UNIXTIME(?)"
	}
	return "?"
}

// timeOut reads TIMESTAMP as Unix seconds and DATETIME(6) as UTC text, so
// that neither the session's time_zone nor the driver's parseTime and loc
// matter.
func (mysqlDialect) timeOut(k timeKind, col string) string {
	if k == compatTime {
		return "UNIX_TIMESTAMP(" + col + ")"
	}
	return "DATE_FORMAT(" + col + ", '%Y-%m-%d %H:%i:%s.%f')"
}

func (mysqlDialect) timeCmp(k timeKind, col string) string {
	if k == compatTime {
		return "UNIX_TIMESTAMP(" + col + ")"
	}
	return col
}

// timeParam: TIMESTAMP holds whole seconds, so comparing an integer number
// of seconds s with floor(t) gives s > floor(t) exactly when s > t.
func (d mysqlDialect) timeParam(k timeKind, t time.Time) any {
	lo, hi := d.timeRange(k)
	t = clampTime(t, lo, hi)
	if k == compatTime {
		return t.Unix()
	}
	return t.Format(mysqlNativeLayout)
}

func (mysqlDialect) timeRange(k timeKind) (lo, hi time.Time) {
	if k == compatTime {
		return mysqlTSMin, mysqlTSMax
	}
	return nativeMin, nativeMax
}

func (mysqlDialect) catalog(ctx context.Context, q queryer, schema, table string) (*sql.Rows, error) {
	return q.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), COALESCE(CHARACTER_OCTET_LENGTH, 0), IS_NULLABLE, COALESCE(COLLATION_NAME, '')
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`, nullable(schema), table)
}

func (mysqlDialect) probe(ctx context.Context, db *sql.DB, n names, ti tableInfo, l Layout) (facts, error) {
	dc, _ := ti.get(n.o.Columns.Data)
	cc, _ := ti.get(n.o.Columns.Created)
	f := facts{dataLimit: dc.maxBytes, secondsInTime: isIntegerType(cc.dataType)}
	if l == Native {
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1 FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ? AND TRIGGER_NAME = ?",
			nullable(n.schema), n.table, n.triggerName()).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return f, fmt.Errorf("sqlstore: inspect table %s: %w", n.o.Table, err)
		}
		f.versionTrigger = err == nil
	}
	return f, nil
}

// queries: MySQL's upsert cannot be made conditional without relying on
// affected-row counts that change with the client's CLIENT_FOUND_ROWS flag,
// so a new record is a plain INSERT; on a duplicate key (rare: a leftover
// expired row) create deletes that row if it is expired and inserts again.
func (mysqlDialect) queries(e *engine, q *queries) {
	cond := ""
	if !e.compat {
		cond = fmt.Sprintf(" AND %s <> ?", e.version)
	}
	live := e.expiryExpr("")
	q.set(qDeleteExpired, "DELETE FROM %s WHERE %s = ? AND %s <= ?%s", e.tbl, e.id, live, cond)
	q.text[qLock] = e.lockQuery(" FOR UPDATE")
	q.set(qGC, "DELETE FROM %s WHERE %s <= ? LIMIT %d", e.tbl, live, e.o.GCBatch)
	q.gcParams = 1
	// UPDATE counts changed rows, not matched ones, unless the client sets
	// CLIENT_FOUND_ROWS: a touch that changes nothing reports 0, and then
	// asks whether the row exists.
	q.touchExists = true
}

func (mysqlDialect) create(ctx context.Context, e *engine, key string, args []any, ver uint64, now time.Time) error {
	conflict := fmt.Errorf("%w: a live record exists (version 0 expected none)", session.ErrConflict)
	ins := append([]any{key}, args...)
	_, err := e.exec(ctx, qInsert, ins...)
	if mysqlErrno(err) != 1062 {
		return err
	}
	del := []any{key, e.cutoff(now)}
	if !e.compat {
		del = append(del, int64(ver))
	}
	n, err := e.exec(ctx, qDeleteExpired, del...)
	if err != nil {
		return err
	}
	if n == 0 {
		return conflict
	}
	if _, err := e.exec(ctx, qInsert, ins...); err != nil {
		if mysqlErrno(err) == 1062 {
			return conflict
		}
		return err
	}
	return nil
}

func (mysqlDialect) compatUpdate(ctx context.Context, e *engine, key string, args []any, want uint64, now time.Time) error {
	return e.compatUpdateLocked(ctx, key, args, want, now)
}

func (mysqlDialect) oneWriter() bool { return false }

// classify: 1213 is a deadlock, and on Galera a transaction that loses
// certification (at COMMIT or at its next statement); 1205 is a lock wait
// timeout. Both roll the transaction back.
func (mysqlDialect) classify(err error) error {
	switch n := mysqlErrno(err); n {
	case 1213, 1205:
		return fmt.Errorf("%w: the database rolled the transaction back (error %d): %w", session.ErrConflict, n, err)
	}
	return err
}

// mysqlErrno returns the server error number carried by err (0 when none):
// the Number field of the driver's error struct, found by reflection so that
// this package does not import a driver.
func mysqlErrno(err error) uint16 {
	for _, x := range errorChain(err) {
		v := reflect.ValueOf(x)
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				break
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		if f := v.FieldByName("Number"); f.IsValid() && f.CanUint() {
			return uint16(f.Uint())
		}
	}
	return 0
}

// errorChain lists err and every error it wraps.
func errorChain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

// inUTC runs fn with the session's time_zone at '+00:00' (restored after),
// so that conversions between TIMESTAMP, DATETIME and Unix seconds are in
// UTC.
func (mysqlDialect) inUTC(ctx context.Context, conn *sql.Conn, fn func() error) (err error) {
	var tz string
	if err := conn.QueryRowContext(ctx, "SELECT @@session.time_zone").Scan(&tz); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SET time_zone = '+00:00'"); err != nil {
		return err
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "SET time_zone = ?", tz); rerr != nil && err == nil {
			err = rerr
		}
	}()
	return fn()
}
