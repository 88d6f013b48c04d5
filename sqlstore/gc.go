package sqlstore

import "context"

// gc deletes expired rows in batches of at most Options.GCBatch, one
// statement per batch, through the expiry index of the native layout (the
// incubator table has none: there each batch scans). Several processes may run
// it at once: PostgreSQL skips rows another collector has locked, MySQL and
// SQLite delete each row once. ctx is checked between batches.
func (e *engine) gc(ctx context.Context) (int, error) {
	total := 0
	cut := e.cutoff(e.now())
	args := make([]any, e.q.gcParams)
	for i := range args {
		args[i] = cut
	}
	for {
		if err := ctx.Err(); err != nil {
			return total, fail(ctx, "gc", err)
		}
		n, err := e.exec(ctx, qGC, args...)
		if err != nil {
			return total, fail(ctx, "gc", err)
		}
		total += int(n)
		if n < int64(e.o.GCBatch) {
			return total, nil
		}
	}
}
