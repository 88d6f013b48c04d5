package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/keyref"
)

// iterate walks the live records in key order, Options.IterateBatch rows per
// query (keyset pagination on the primary key). fn runs between queries,
// with no rows or connection held, so it may call the store. Rows it cannot
// read are passed over; it then returns an error wrapping
// session.ErrCorrupt that counts them and names the first.
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
	var (
		bad      int
		firstBad error
	)
	report := func() error {
		if bad == 0 {
			return nil
		}
		return fmt.Errorf("sqlstore: iterate: passed over %d unreadable rows, the first: %w", bad, firstBad)
	}
	for {
		st, err := e.stmt(ctx, qIterate)
		if err != nil {
			return fail(ctx, "iterate", err)
		}
		rows, err := st.QueryContext(ctx, after, cut)
		if err != nil {
			return fail(ctx, "iterate", err)
		}
		var (
			batch []item
			n     int
		)
		for rows.Next() {
			var key string
			rec, err := e.scanRecord(func(dest ...any) error { return rows.Scan(append([]any{&key}, dest...)...) })
			n++
			after = key
			if errors.Is(err, session.ErrCorrupt) {
				if bad++; firstBad == nil {
					firstBad = fmt.Errorf("record %s: %w", keyref.Of(key), err)
				}
				continue
			}
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
				return report()
			}
		}
		if n < e.o.IterateBatch {
			return report()
		}
		if err := ctx.Err(); err != nil {
			return fail(ctx, "iterate", err)
		}
	}
}

// ownerKeys lists the keys of the owner's live records through the owner
// index. The index finds the rows whose owner the column's collation holds
// equal to owner; only those whose owner is byte for byte owner are kept, so
// that a column that ignores trailing spaces, case or accents (one that
// Migrate has not yet converted) never hands out another owner's records.
// An owner the table cannot hold is refused as Save refuses it.
func (e *engine) ownerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	if owner == "" {
		return nil, fmt.Errorf("sqlstore: owner keys: %w: empty owner", session.ErrInvalidKey)
	}
	if err := e.checkOwner(owner); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	st, err := e.stmt(ctx, qOwnerKeys)
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
		var k, o string
		if err := rows.Scan(&k, &o); err != nil {
			return nil, fail(ctx, "owner keys", err)
		}
		if o == owner {
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	return keys, nil
}
