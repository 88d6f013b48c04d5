package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// nativeFixture creates a native table and a store on it.
func nativeFixture(t *testing.T, b backend) (*sql.DB, string, *sqlstore.Store) {
	db := b.open(t, nil)
	table := uniqueTable(t, db, b.dialect)
	return db, table, newNative(t, db, sqlstore.Options{Dialect: b.dialect, Table: table})
}

// newNative creates the native table of opts and returns a store on it,
// closed when the test ends.
func newNative(t *testing.T, db *sql.DB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	if err := sqlstore.CreateSchema(ctxT(t), db, opts); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.New(ctxT(t), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// foreignUpdate writes the row the way the incubator Database adapter does:
// UPDATE ... SET data = ?, modified_at = now WHERE session_id = ?.
func foreignUpdate(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, key string, data any) {
	t.Helper()
	now := "NOW()"
	if d == sqlstore.SQLite {
		now = "CURRENT_TIMESTAMP"
	}
	mustExec(t, db, "UPDATE "+q(d, table)+" SET data = "+ph(d, 1)+", modified_at = "+now+" WHERE session_id = "+ph(d, 2), data, key)
}

// TestForeignWriteIsConflict: Go loads a session, another program changes
// its data with plain SQL, Go saves with the version it loaded: the save is
// a conflict and the other program's data stays; after a reload the save
// goes through. A Touch between load and save is no conflict.
func TestForeignWriteIsConflict(t *testing.T) {
	for _, b := range backends() {
		for _, layout := range []string{"native", "compat"} {
			t.Run(b.name+"/"+layout, func(t *testing.T) {
				ctx := ctxT(t)
				var (
					db    *sql.DB
					table string
					s     session.Store
				)
				foreign := any("php|s:5:\"wrote\";")
				if layout == "native" {
					db, table, s = nativeFixture(t, b)
					foreign = []byte("php|s:5:\"wrote\";")
				} else {
					db, table, s = compatFixture(t, b, time.Hour, nil)
				}
				key := phpKey()
				exp := time.Now().Add(30 * time.Minute)
				if _, err := s.Save(ctx, key, session.Record{Data: []byte("go|i:1;"), Expiry: exp}); err != nil {
					t.Fatal(err)
				}
				rec, err := s.Load(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				// A touch between load and save is no conflict.
				if err := s.(session.Toucher).Touch(ctx, key, exp.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				rec.Data = []byte("go|i:2;")
				if rec.Version, err = s.Save(ctx, key, rec); err != nil {
					t.Fatalf("save after a touch: %v", err)
				}

				foreignUpdate(t, db, b.dialect, table, key, foreign)
				rec.Data = []byte("go|i:3;")
				if _, err := s.Save(ctx, key, rec); !errors.Is(err, session.ErrConflict) {
					t.Fatalf("save over another program's write: err = %v, want ErrConflict", err)
				}
				if got, _ := rowData(t, db, b.dialect, table, key); got != "php|s:5:\"wrote\";" {
					t.Fatalf("row data = %q: the other program's write was overwritten", got)
				}
				fresh, err := s.Load(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if string(fresh.Data) != "php|s:5:\"wrote\";" || fresh.Version == rec.Version {
					t.Fatalf("reload: data %q version %d (was %d)", fresh.Data, fresh.Version, rec.Version)
				}
				fresh.Data = []byte("go|i:4;")
				if _, err := s.Save(ctx, key, fresh); err != nil {
					t.Fatalf("save after the reload: %v", err)
				}
			})
		}
	}
}
