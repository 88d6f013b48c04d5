package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/session"
)

var (
	_ session.BatchCollector = (*Store)(nil)
	_ session.ExpiredCounter = (*Store)(nil)
	_ session.BatchCollector = (*CompatStore)(nil)
	_ session.ExpiredCounter = (*CompatStore)(nil)
)

// errGCLimit is wrapped by the error of a GCBatch call whose limit is not
// positive.
var errGCLimit = errors.New("sqlstore: gc batch limit must be positive")

// GCBatch implements session.BatchCollector: one DELETE of at most limit
// expired rows, found through the expires_at index. It returns how many it
// deleted; fewer than limit means none were left.
func (s *Store) GCBatch(ctx context.Context, limit int) (int, error) {
	return s.e.gcBatch(ctx, limit)
}

// CountExpired implements session.ExpiredCounter: one SELECT COUNT(*) of the
// rows whose expires_at has passed, a range of the expires_at index.
func (s *Store) CountExpired(ctx context.Context) (int, error) { return s.e.countExpired(ctx) }

// GCBatch implements session.BatchCollector: one DELETE of at most limit
// rows whose COALESCE(modified_at, created_at) + MaxLifetime has passed.
// The incubator table has no index on that expression, so each batch scans
// the table until it has found limit rows.
func (s *CompatStore) GCBatch(ctx context.Context, limit int) (int, error) {
	return s.e.gcBatch(ctx, limit)
}

// CountExpired implements session.ExpiredCounter: one SELECT COUNT(*) of the
// rows whose COALESCE(modified_at, created_at) + MaxLifetime has passed (a
// scan of the table, which has no index on that expression).
func (s *CompatStore) CountExpired(ctx context.Context) (int, error) {
	return s.e.countExpired(ctx)
}

// gc deletes expired rows in batches of at most Options.GCBatch, one
// statement per batch, through the expiry index of the native layout (the
// incubator table has none: there each batch scans). Several processes may run
// it at once: PostgreSQL skips rows another collector has locked, MySQL and
// SQLite delete each row once. ctx is checked between batches.
func (e *engine) gc(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := e.gcBatch(ctx, e.o.GCBatch)
		total += n
		if err != nil || n < e.o.GCBatch {
			return total, err
		}
	}
}

// gcBatch runs one GC statement deleting at most limit expired rows. With
// the configured Options.GCBatch it is the prepared qGC statement; another
// limit runs the same dialect statement built for that limit, unprepared.
func (e *engine) gcBatch(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: got %d", errGCLimit, limit)
	}
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "gc", err)
	}
	cut := e.cutoff(e.now())
	args := make([]any, e.q.gcParams)
	for i := range args {
		args[i] = cut
	}
	var (
		n   int64
		err error
	)
	if limit == e.o.GCBatch {
		n, err = e.exec(ctx, qGC, args...)
	} else {
		n, err = e.execText(ctx, e.gcQuery(limit), args...)
	}
	if err != nil {
		return int(n), fail(ctx, "gc", err)
	}
	return int(n), nil
}

// gcQuery returns the dialect's GC statement with its LIMIT set to limit:
// the text the dialect builds for an engine whose Options.GCBatch is limit,
// so that there is one definition of each dialect's GC statement.
func (e *engine) gcQuery(limit int) string {
	o := e.o
	o.GCBatch = limit
	tmp := &engine{names: e.names, o: o, d: e.d, compat: e.compat, hasOwner: e.hasOwner, tk: e.tk}
	var q queries
	e.d.queries(tmp, &q)
	return e.d.bind(q.text[qGC])
}

// execText runs a statement that is not one of the prepared ones and
// returns the number of rows it affected.
func (e *engine) execText(ctx context.Context, text string, args ...any) (int64, error) {
	done, err := e.writeTurn(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	res, err := e.db.ExecContext(ctx, text, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// countExpired counts the rows GC would delete now, with one COUNT query.
func (e *engine) countExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "count expired", err)
	}
	text := e.d.bind(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s <= ?", e.tbl, e.expiryExpr("")))
	var n int64
	if err := e.rdb.QueryRowContext(ctx, text, e.cutoff(e.now())).Scan(&n); err != nil {
		return 0, fail(ctx, "count expired", err)
	}
	return int(n), nil
}
