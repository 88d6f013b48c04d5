package sqlstore

import (
	"context"
	"fmt"

	"github.com/sessionkit/session"
)

// iterate walks the live records in key order, Options.IterateBatch rows per
// query (keyset pagination on the primary key). fn runs between queries,
// with no rows or connection held, so it may call the store.
func (e *engine) iterate(ctx context.Context, fn func(string, session.Record) bool) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "iterate", err)
	}
	now := e.now()
	cut := e.cutoff(now)
	after := ""
	type item struct {
		key string
		rec session.Record
	}
	for {
		st, err := e.stmt(ctx, "iterate")
		if err != nil {
			return fail(ctx, "iterate", err)
		}
		rows, err := st.QueryContext(ctx, after, cut)
		if err != nil {
			return fail(ctx, "iterate", err)
		}
		var batch []item
		for rows.Next() {
			var key string
			rec, err := e.scanRecord(func(dest ...any) error { return rows.Scan(append([]any{&key}, dest...)...) })
			if err != nil {
				_ = rows.Close()
				return fail(ctx, "iterate", err)
			}
			batch = append(batch, item{key, rec})
		}
		err = rows.Err()
		_ = rows.Close()
		if err != nil {
			return fail(ctx, "iterate", err)
		}
		for _, it := range batch {
			if !it.rec.Expiry.After(now) {
				continue
			}
			if !fn(it.key, it.rec) {
				return nil
			}
		}
		if len(batch) < e.o.IterateBatch {
			return nil
		}
		after = batch[len(batch)-1].key
		if err := ctx.Err(); err != nil {
			return fail(ctx, "iterate", err)
		}
	}
}

// ownerKeys lists the keys of the owner's live records through the owner
// index.
func (e *engine) ownerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	if owner == "" {
		return nil, fmt.Errorf("sqlstore: owner keys: %w: empty owner", session.ErrInvalidKey)
	}
	st, err := e.stmt(ctx, "ownerKeys")
	if err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	rows, err := st.QueryContext(ctx, owner, e.cutoff(e.now()))
	if err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fail(ctx, "owner keys", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	return keys, nil
}
