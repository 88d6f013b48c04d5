package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/sqlcount"
	"github.com/sessionkit/session/sqlstore"
)

// gcStore is what both layouts offer for batched GC.
type gcStore interface {
	session.Store
	session.BatchCollector
	session.ExpiredCounter
}

// layoutStores opens a native and a compatibility (incubator DDL) store on
// tables of their own, counting their statements on c.
func layoutStores(t *testing.T, b backend, c *counts) map[string]gcStore {
	db := b.open(t, c)
	db.SetMaxOpenConns(1)
	native := newNative(t, db, sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect)})
	table := uniqueTable(t, db, b.dialect)
	mustExec(t, db, incubatorDDL(b.dialect, table))
	compat, err := sqlstore.NewCompat(ctxT(t), db, sqlstore.Options{Dialect: b.dialect, Table: table, MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = compat.Close() })
	return map[string]gcStore{"native": native, "compat": compat}
}

// saveN saves n records expiring in ttl and returns their keys.
func saveN(t *testing.T, s session.Store, n int, ttl time.Duration) []string {
	t.Helper()
	var keys []string
	for range n {
		k := phpKey()
		if _, err := s.Save(ctxT(t), k, session.Record{Data: []byte("x"), Expiry: time.Now().Add(ttl)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// TestGCBatchBounded: GCBatch deletes at most limit expired rows with one
// statement, reports a short batch at the end, leaves live rows alone and
// refuses a limit below 1; CountExpired is one query whose answer follows
// the deletions. Both layouts, every dialect.
func TestGCBatchBounded(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := &counts{}
			for name, s := range layoutStores(t, b, c) {
				t.Run(name, func(t *testing.T) {
					ctx := ctxT(t)
					expired := saveN(t, s, 7, -2*time.Minute)
					live := saveN(t, s, 2, time.Hour)
					wantCount := func(want int) {
						t.Helper()
						c.Reset()
						n, err := s.CountExpired(ctx)
						if err != nil || n != want {
							t.Fatalf("CountExpired = %d, %v; want %d", n, err, want)
						}
						if q, e := c.Get(sqlcount.Query), c.Get(sqlcount.Exec); q != 1 || e != 0 {
							t.Fatalf("CountExpired ran %d queries and %d execs, want one query", q, e)
						}
					}
					wantCount(7)
					var got []int
					for _, want := range []int{3, 3, 1} {
						c.Reset()
						n, err := s.GCBatch(ctx, 3)
						if err != nil {
							t.Fatalf("GCBatch(3): %v", err)
						}
						if e := c.Get(sqlcount.Exec); e != 1 {
							t.Fatalf("GCBatch(3) ran %d statements, want 1", e)
						}
						got = append(got, n)
						if n != want {
							t.Fatalf("GCBatch(3) calls deleted %v, want 3, 3, 1", got)
						}
						wantCount(7 - sumInts(got))
					}
					for _, k := range expired {
						if _, err := s.Load(ctx, k); !errors.Is(err, session.ErrNotFound) {
							t.Fatalf("expired record after GCBatch: %v", err)
						}
					}
					for _, k := range live {
						if _, err := s.Load(ctx, k); err != nil {
							t.Fatalf("GCBatch removed a live record: %v", err)
						}
					}
					for _, limit := range []int{0, -1} {
						c.Reset()
						if n, err := s.GCBatch(ctx, limit); err == nil || n != 0 || !strings.Contains(err.Error(), "positive") {
							t.Fatalf("GCBatch(%d) = %d, %v; want an error saying the limit must be positive", limit, n, err)
						}
						if tot := c.Total(); tot != 0 {
							t.Fatalf("GCBatch(%d) ran %d statements, want none", limit, tot)
						}
					}
					cancelled, cancel := context.WithCancel(ctx)
					cancel()
					if _, err := s.GCBatch(cancelled, 3); !errors.Is(err, context.Canceled) {
						t.Fatalf("GCBatch with a cancelled context: %v", err)
					}
					if _, err := s.CountExpired(cancelled); !errors.Is(err, context.Canceled) {
						t.Fatalf("CountExpired with a cancelled context: %v", err)
					}
				})
			}
		})
	}
}

func sumInts(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// TestGCBatchesThroughManager: Manager.GCBatches drives GCBatch, reports the
// running total after every batch and stops at the first short batch; GC
// with Options.GCBatch does the same work in one call.
func TestGCBatchesThroughManager(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, nil)
			s := newNative(t, db, sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect), GCBatch: 4})
			m := session.New(s)
			saveN(t, s, 10, -time.Minute)
			live := saveN(t, s, 1, time.Hour)
			var progress []int
			n, err := m.GCBatches(ctxT(t), 4, func(removed int) { progress = append(progress, removed) })
			if err != nil || n != 10 {
				t.Fatalf("GCBatches = %d, %v; want 10", n, err)
			}
			if want := []int{4, 8, 10}; !slices.Equal(progress, want) {
				t.Fatalf("progress %v, want %v", progress, want)
			}
			saveN(t, s, 9, -time.Minute)
			if n, err := s.GC(ctxT(t)); err != nil || n != 9 {
				t.Fatalf("GC = %d, %v; want 9", n, err)
			}
			if _, err := s.Load(ctxT(t), live[0]); err != nil {
				t.Fatalf("live record after GC: %v", err)
			}
		})
	}
}

// TestGCBatchUsesExpiryIndex: on MySQL/MariaDB a native GCBatch reads the
// expires_at index, not the table. The session's handler counters show it:
// a batch of 5 among 3000 live rows reads a handful of index entries, while
// the same WHERE clause without the index reads every row (the control,
// which shows the measure can fail).
func TestGCBatchUsesExpiryIndex(t *testing.T) {
	ctx := ctxT(t)
	db := openMySQL(t, nil)
	db.SetMaxOpenConns(1) // one session: its status counters are ours
	table := uniqueTable(t, db, sqlstore.MySQL)
	s := newNative(t, db, sqlstore.Options{Dialect: sqlstore.MySQL, Table: table})
	const live = 3000
	mustExec(t, db, fmt.Sprintf("INSERT INTO `%s` (session_id, data, created_at, modified_at, expires_at, version, owner) "+
		"WITH d(n) AS (SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "+
		"UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) "+
		"SELECT CONCAT('live', a.n, b.n, c.n, e.n), 'x', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1 HOUR, 1, '' "+
		"FROM d a, d b, d c, d e WHERE a.n*1000 + b.n*100 + c.n*10 + e.n < %d", table, live))
	saveN(t, s, 10, -time.Minute)
	mustExec(t, db, "ANALYZE TABLE `"+table+"`")

	// readCounters sums the session's Handler_read_* counters: rows read
	// by position, by index or in sequence.
	readCounters := func() int64 {
		rows, err := db.QueryContext(ctx, "SHOW SESSION STATUS LIKE 'Handler_read%'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var sum int64
		for rows.Next() {
			var name string
			var v int64
			if err := rows.Scan(&name, &v); err != nil {
				t.Fatal(err)
			}
			sum += v
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	noise := -readCounters() + readCounters()
	// rowReads returns the rows fn made the session read, less what
	// reading the counters costs.
	rowReads := func(fn func()) int64 {
		before := readCounters()
		fn()
		return readCounters() - before - noise
	}
	gc := rowReads(func() {
		if n, err := s.GCBatch(ctx, 5); err != nil || n != 5 {
			t.Fatalf("GCBatch(5) = %d, %v", n, err)
		}
	})
	scan := rowReads(func() {
		var n int
		q := fmt.Sprintf("SELECT COUNT(*) FROM `%s` IGNORE INDEX (`%s_expires_at_idx`) WHERE expires_at <= UTC_TIMESTAMP(6)", table, table)
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 5 {
			t.Fatalf("control scan: %d, %v", n, err)
		}
	})
	t.Logf("handler reads: GCBatch(5) %d, control table scan %d (status noise %d)", gc, scan, noise)
	if scan < live {
		t.Fatalf("control scan read %d rows, fewer than the %d in the table: the measure is broken", scan, live)
	}
	if gc > 100 {
		t.Fatalf("GCBatch(5) read %d rows: not an index range on expires_at", gc)
	}
}
