package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// TestKilledConnection: the server kills the store's connection; the next
// call is an error or succeeds on a fresh connection, never a panic, and the
// store works again without a restart.
func TestKilledConnection(t *testing.T) {
	for _, b := range backends()[:2] {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t, nil)
			db.SetMaxOpenConns(1)
			admin := b.open(t, nil)
			opts := sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect)}
			s := newNative(t, db, opts)
			key := storetestKey()
			v, err := s.Save(ctx, key, session.Record{Data: []byte("before"), Expiry: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				var id int64
				idQuery, kill := "SELECT CONNECTION_ID()", "KILL %d"
				if b.dialect == sqlstore.Postgres {
					idQuery, kill = "SELECT pg_backend_pid()", "SELECT pg_terminate_backend(%d)"
				}
				if err := db.QueryRowContext(ctx, idQuery).Scan(&id); err != nil {
					t.Fatal(err)
				}
				mustExec(t, admin, fmt.Sprintf(kill, id))
				// The first call after the kill may fail (or the driver
				// may retry on a new connection) ...
				var firstErr error
				if i == 0 {
					_, firstErr = s.Load(ctx, key)
				} else {
					_, firstErr = s.Save(ctx, key, session.Record{Data: []byte("during"), Expiry: time.Now().Add(time.Hour), Version: v})
				}
				t.Logf("first call after the kill: %v", firstErr)
				// ... the next one works, on a new connection.
				rec, err := s.Load(ctx, key)
				if err != nil {
					t.Fatalf("Load after reconnecting: %v", err)
				}
				rec.Data = []byte("after")
				if v, err = s.Save(ctx, key, rec); err != nil {
					t.Fatalf("Save after reconnecting: %v", err)
				}
			}
		})
	}
}
