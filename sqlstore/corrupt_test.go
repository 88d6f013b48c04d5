package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// spoil runs one UPDATE on the row of key, on MySQL in a session without
// strict mode (sql_mode ”), where MariaDB stores zero dates.
func spoil(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, key, set string) {
	t.Helper()
	ctx := ctxT(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if d == sqlstore.MySQL {
		if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = conn.ExecContext(ctx, "SET SESSION sql_mode = @@GLOBAL.sql_mode") }()
	}
	if _, err := conn.ExecContext(ctx, "UPDATE "+q(d, table)+" SET "+set+" WHERE session_id = "+ph(d, 1), key); err != nil {
		t.Fatalf("SET %s: %v", set, err)
	}
}

// TestCorruptRows: a row Load cannot read (a zero date, NULL or garbage in
// the version or a time column, a negative version) is ErrCorrupt, not
// ErrNotFound and not a bare driver error; Iterate passes over it and reports
// it. A live native row whose version is 0 gets a usable version: a save of
// it succeeds.
func TestCorruptRows(t *testing.T) {
	native := map[sqlstore.Dialect][]spoilt{
		sqlstore.MySQL: {
			{"zero created_at", "created_at = '0000-00-00 00:00:00'"},
			{"zero expires_at", "expires_at = '0000-00-00 00:00:00'"},
			{"negative version", "version = -5"},
			{"NULL version", "version = NULL"},
		},
		sqlstore.Postgres: {
			{"negative version", "version = -5"},
			{"NULL version", "version = NULL"},
			{"infinite expires_at", "expires_at = 'infinity'"},
		},
		sqlstore.SQLite: {
			{"garbage version", "version = 'abc'"},
			{"fractional version", "version = 1.5"},
			{"garbage expires_at", "expires_at = 'tomorrow'"},
			{"garbage created_at", "created_at = x'00ff'"},
		},
	}
	compat := map[sqlstore.Dialect][]spoilt{
		sqlstore.MySQL:  {{"zero created_at", "created_at = '0000-00-00 00:00:00'"}, {"zero modified_at", "modified_at = '0000-00-00 00:00:00'"}},
		sqlstore.SQLite: {{"garbage created_at", "created_at = 'yesterday', modified_at = NULL"}, {"garbage modified_at", "modified_at = 'now'"}},
	}
	for _, b := range backends() {
		t.Run(b.name+"/native", func(t *testing.T) {
			ctx := ctxT(t)
			db, table, s := nativeFixture(t, b)
			switch b.dialect {
			case sqlstore.MySQL:
				mustExec(t, db, "ALTER TABLE "+q(b.dialect, table)+" MODIFY version BIGINT NULL DEFAULT 1")
			case sqlstore.Postgres:
				mustExec(t, db, "ALTER TABLE "+q(b.dialect, table)+" ALTER COLUMN version DROP NOT NULL")
			}
			spoilEach(t, db, b.dialect, table, s, native[b.dialect])
			exp := time.Now().Add(time.Hour)

			// Version 0: usable.
			key := phpKey()
			if _, err := s.Save(ctx, key, session.Record{Data: []byte("zero"), Expiry: exp}); err != nil {
				t.Fatal(err)
			}
			spoil(t, db, b.dialect, table, key, "version = 0")
			rec, err := s.Load(ctx, key)
			if err != nil || rec.Version == 0 || string(rec.Data) != "zero" {
				t.Fatalf("Load of a version-0 row = version %d data %q, %v; want a non-zero version", rec.Version, rec.Data, err)
			}
			rec.Data = []byte("saved")
			v, err := s.Save(ctx, key, rec)
			if err != nil {
				t.Fatalf("Save of a version-0 row: %v", err)
			}
			if got, err := s.Load(ctx, key); err != nil || got.Version != v || string(got.Data) != "saved" {
				t.Fatalf("after the save: version %d data %q, %v; want %d \"saved\"", got.Version, got.Data, err, v)
			}
			if _, err := s.Save(ctx, key, rec); !errors.Is(err, session.ErrConflict) {
				t.Fatalf("second save with the version-0 row's version: err = %v, want ErrConflict", err)
			}
		})
		if len(compat[b.dialect]) == 0 {
			continue
		}
		t.Run(b.name+"/compat", func(t *testing.T) {
			db, table, s := compatFixture(t, b, time.Hour, nil)
			spoilEach(t, db, b.dialect, table, s, compat[b.dialect])
		})
	}
}

// spoilt names a way to spoil a row and its SET clause.
type spoilt struct{ name, set string }

// spoilEach saves a good record and one record per case, spoils each with
// its SET clause and checks that Load reports ErrCorrupt and that Iterate
// visits the good record only and reports the others.
func spoilEach(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string, s interface {
	session.Store
	session.Iterator
}, cases []spoilt) {
	t.Helper()
	ctx := ctxT(t)
	exp := time.Now().Add(30 * time.Minute)
	good := phpKey()
	if _, err := s.Save(ctx, good, session.Record{Data: []byte("good"), Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		key := phpKey()
		if _, err := s.Save(ctx, key, session.Record{Data: []byte(c.name), Expiry: exp}); err != nil {
			t.Fatal(err)
		}
		spoil(t, db, d, table, key, c.set)
		if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrCorrupt) {
			t.Errorf("%s: Load err = %v, want ErrCorrupt", c.name, err)
		}
	}
	checkIterate(t, s, good, len(cases))
}

// checkIterate: Iterate visits the good record and reports the bad rows
// with ErrCorrupt.
func checkIterate(t *testing.T, s session.Iterator, good string, bad int) {
	t.Helper()
	var seen []string
	err := s.Iterate(ctxT(t), func(key string, _ session.Record) bool { seen = append(seen, key); return true })
	if !errors.Is(err, session.ErrCorrupt) {
		t.Errorf("Iterate over %d unreadable rows: err = %v, want ErrCorrupt", bad, err)
	}
	if len(seen) != 1 || seen[0] != good {
		t.Errorf("Iterate visited %q, want only the readable %q", seen, good)
	}
}
