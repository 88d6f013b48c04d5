package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// postgresDialect is PostgreSQL 12 and later, through any driver (error
// codes are read through the SQLState method of pgx's PgError and of lib/pq's
// Error).
type postgresDialect struct{}

func (postgresDialect) quote(name string) string { return `"` + name + `"` }

// bind turns the ? placeholders into $1, $2 ...; queries built by this
// package contain no other question marks.
func (postgresDialect) bind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeIn: the compatibility layout's TIMESTAMP holds UTC wall clock.
func (postgresDialect) timeIn(k timeKind) string {
	if k == compatTime {
		return "(?::timestamptz AT TIME ZONE 'UTC')"
	}
	return "?::timestamptz"
}

func (d postgresDialect) timeOut(k timeKind, col string) string { return d.timeCmp(k, col) }

func (postgresDialect) timeCmp(k timeKind, col string) string {
	if k == compatTime {
		return "(" + col + " AT TIME ZONE 'UTC')"
	}
	return col
}

func (postgresDialect) timeParam(_ timeKind, t time.Time) any {
	return clampTime(t, nativeMin, nativeMax).Truncate(time.Microsecond)
}

func (postgresDialect) timeRange(timeKind) (lo, hi time.Time) { return nativeMin, nativeMax }

func (postgresDialect) catalog(ctx context.Context, q queryer, schema, table string) (*sql.Rows, error) {
	return q.QueryContext(ctx, `SELECT column_name, data_type, COALESCE(character_maximum_length, 0), 0, is_nullable, COALESCE(collation_name, '')
FROM information_schema.columns WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = $2`, nullable(schema), table)
}

func (postgresDialect) probe(ctx context.Context, db *sql.DB, n names, ti tableInfo, l Layout) (facts, error) {
	cc, _ := ti.get(n.o.Columns.Created)
	f := facts{secondsInTime: isIntegerType(cc.dataType)}
	if l == Native {
		var one int
		err := db.QueryRowContext(ctx, "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2", n.tbl, n.triggerName()).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return f, fmt.Errorf("sqlstore: inspect table %s: %w", n.o.Table, err)
		}
		f.versionTrigger = err == nil
	}
	return f, nil
}

// queries: PostgreSQL's INSERT ... ON CONFLICT DO UPDATE ... WHERE makes a
// new record one statement; the GC skips the rows another collector holds.
func (postgresDialect) queries(e *engine, q *queries) {
	e.upsertQueries(q, " FOR UPDATE", " FOR UPDATE SKIP LOCKED")
}

func (postgresDialect) create(ctx context.Context, e *engine, key string, args []any, _ uint64, now time.Time) error {
	return e.upsert(ctx, key, args, now)
}

// compatUpdate locks the row (SELECT ... FOR UPDATE) in a transaction.
func (postgresDialect) compatUpdate(ctx context.Context, e *engine, key string, args []any, want uint64, now time.Time) error {
	return e.compatUpdateLocked(ctx, key, args, want, now)
}

func (postgresDialect) oneWriter() bool { return false }

// classify: 40001 is a serialization failure, 40P01 a deadlock; both roll
// the transaction back.
func (postgresDialect) classify(err error) error {
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		switch c := st.SQLState(); c {
		case "40001", "40P01":
			return fmt.Errorf("%w: the database rolled the transaction back (SQLSTATE %s): %w", session.ErrConflict, c, err)
		}
	}
	return err
}
