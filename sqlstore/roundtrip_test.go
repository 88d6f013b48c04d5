package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/sqlcount"
	"github.com/sessionkit/session/sqlstore"
)

// TestRoundTrips counts the statements that reach the driver per operation,
// in the steady state (statements prepared on the connection).
func TestRoundTrips(t *testing.T) {
	for _, b := range backends() {
		for _, compat := range []bool{false, true} {
			name := b.name + "/native"
			if compat {
				name = b.name + "/compat"
			}
			t.Run(name, func(t *testing.T) {
				ctx := ctxT(t)
				c := &counts{}
				db := b.open(t, c)
				db.SetMaxOpenConns(1)
				table := uniqueTable(t, db, b.dialect)
				opts := sqlstore.Options{Dialect: b.dialect, Table: table, MaxLifetime: time.Hour}
				var s session.Store
				newKey := storetestKey
				if compat {
					mustExec(t, db, incubatorDDL(b.dialect, table))
					cs, err := sqlstore.NewCompat(ctx, db, opts)
					if err != nil {
						t.Fatal(err)
					}
					defer cs.Close()
					s, newKey = cs, phpKey
				} else {
					s = newNative(t, db, opts)
				}
				tc := s.(session.Toucher)
				rec := func(data string) session.Record {
					return session.Record{Data: []byte(data), Expiry: time.Now().Add(30 * time.Minute)}
				}
				// Warm up: prepare every statement on the connection.
				warm := newKey()
				v, err := s.Save(ctx, warm, rec("warm"))
				if err != nil {
					t.Fatal(err)
				}
				r, _ := s.Load(ctx, warm)
				r.Data = []byte("warm2")
				if _, err := s.Save(ctx, warm, r); err != nil {
					t.Fatal(err)
				}
				_ = tc.Touch(ctx, warm, time.Now().Add(time.Hour))
				_ = s.Delete(ctx, warm)
				_ = v

				key := newKey()
				measure := func(op string, want int64, fn func() error) {
					t.Helper()
					c.Reset()
					if err := fn(); err != nil {
						t.Fatalf("%s: %v", op, err)
					}
					if got := c.Total(); got != want {
						t.Errorf("%s: %d round trips (%v), want %d", op, got, c, want)
					} else {
						t.Logf("%s: %d (%v)", op, got, c)
					}
				}
				measure("new session", 1, func() error { v, err = s.Save(ctx, key, rec("one")); return err })
				var loaded session.Record
				measure("load", 1, func() error { loaded, err = s.Load(ctx, key); return err })
				saveWant := int64(1)
				if compat {
					saveWant = 4 // BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT
					if b.dialect == sqlstore.SQLite {
						saveWant = 2 // SELECT, UPDATE ... WHERE data = ?
					}
				}
				loaded.Data = []byte("two")
				measure("save", saveWant, func() error { _, err = s.Save(ctx, key, loaded); return err })
				measure("touch", 1, func() error { return tc.Touch(ctx, key, time.Now().Add(45*time.Minute)) })
				measure("load missing", 1, func() error {
					if _, err := s.Load(ctx, newKey()); !errors.Is(err, session.ErrNotFound) {
						return err
					}
					return nil
				})
				measure("delete", 1, func() error { return s.Delete(ctx, key) })
			})
		}
	}
}

func storetestKey() string { return phpKey() + phpKey() }

// TestGCBatches: GC deletes in bounded batches, one statement each, returns
// the count, honours ctx, and two collectors running at once delete each row
// once.
func TestGCBatches(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			c := &counts{}
			db := b.open(t, c)
			db.SetMaxOpenConns(1)
			table := uniqueTable(t, db, b.dialect)
			opts := sqlstore.Options{Dialect: b.dialect, Table: table, GCBatch: 3}
			s := newNative(t, db, opts)
			if n, err := s.GC(ctx); err != nil || n != 0 {
				t.Fatalf("GC of an empty table = %d, %v", n, err)
			}
			save := func(n int, ttl time.Duration) []string {
				var keys []string
				for range n {
					k := storetestKey()
					if _, err := s.Save(ctx, k, session.Record{Data: []byte("x"), Expiry: time.Now().Add(ttl)}); err != nil {
						t.Fatal(err)
					}
					keys = append(keys, k)
				}
				return keys
			}
			save(10, -time.Minute)
			live := save(2, time.Hour)
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.GC(cancelled); !errors.Is(err, context.Canceled) {
				t.Fatalf("GC with a cancelled context: %v", err)
			}
			c.Reset()
			n, err := s.GC(ctx)
			if err != nil || n != 10 {
				t.Fatalf("GC = %d, %v; want 10", n, err)
			}
			if got := c.Get(sqlcount.Exec); got != 4 {
				t.Fatalf("GC of 10 rows in batches of 3 ran %d statements, want 4", got)
			}
			for _, k := range live {
				if _, err := s.Load(ctx, k); err != nil {
					t.Fatalf("GC removed a live record: %v", err)
				}
			}

			// Two collectors at once.
			db2 := b.open(t, nil)
			s2, err := sqlstore.New(ctx, db2, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			save(40, -time.Minute)
			var (
				wg     sync.WaitGroup
				n1, n2 int
				e1, e2 error
			)
			wg.Add(2)
			go func() { defer wg.Done(); n1, e1 = s.GC(ctx) }()
			go func() { defer wg.Done(); n2, e2 = s2.GC(ctx) }()
			wg.Wait()
			if e1 != nil || e2 != nil {
				t.Fatalf("concurrent GC: %v, %v", e1, e2)
			}
			rest, err := s.GC(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n1+n2+rest != 40 {
				t.Fatalf("concurrent GC deleted %d + %d (+%d after) rows, want 40 in all", n1, n2, rest)
			}
			t.Logf("concurrent GC: %d + %d (+%d)", n1, n2, rest)
		})
	}
}
