package sqlstore_test

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// compatFixture creates the incubator table with the incubator Database adapter's DDL and a store on
// it with an application clock.
func compatFixture(t *testing.T, b backend, ml time.Duration, clk *clock) (*sql.DB, string, *sqlstore.CompatStore) {
	db := b.open(t, nil)
	table := uniqueTable(t, db, b.dialect)
	mustExec(t, db, incubatorDDL(b.dialect, table))
	opts := sqlstore.Options{Dialect: b.dialect, Table: table, MaxLifetime: ml}
	if clk != nil {
		opts.Now = clk.Now
	}
	s, err := sqlstore.NewCompat(ctxT(t), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return db, table, s
}

// q quotes a test identifier for the dialect.
func q(d sqlstore.Dialect, name string) string {
	if d == sqlstore.MySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// ph returns the n-th placeholder of the dialect.
func ph(d sqlstore.Dialect, n int) string {
	if d == sqlstore.Postgres {
		return "$" + string(rune('0'+n))
	}
	return "?"
}

// modifiedUnix reads modified_at of a row with plain SQL, as Unix seconds.
func modifiedUnix(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, key string) int64 {
	t.Helper()
	var expr string
	switch d {
	case sqlstore.MySQL:
		expr = "UNIX_TIMESTAMP(modified_at)"
	case sqlstore.Postgres:
		expr = "CAST(FLOOR(EXTRACT(EPOCH FROM modified_at)) AS BIGINT)"
	default:
		expr = "CAST(strftime('%s', modified_at) AS INTEGER)"
	}
	var n int64
	if err := db.QueryRowContext(ctxT(t), "SELECT "+expr+" FROM "+q(d, table)+" WHERE session_id = "+ph(d, 1), key).Scan(&n); err != nil {
		t.Fatalf("read modified_at: %v", err)
	}
	return n
}

func rowData(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, key string) (string, bool) {
	t.Helper()
	var s string
	err := db.QueryRowContext(ctxT(t), "SELECT data FROM "+q(d, table)+" WHERE session_id = "+ph(d, 1), key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return s, true
}

// TestCompatIncubatorTable uses the incubator table exactly: PHP-readable text data,
// modified_at = expiry - MaxLifetime, clear errors for what the table cannot
// hold.
func TestCompatIncubatorTable(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db, table, s := compatFixture(t, b, time.Hour, nil)
			if s.HasOwner() {
				t.Fatal("HasOwner on the incubator table")
			}
			key := phpKey()
			// PHP serialization: quotes, backslashes, multi-byte text, and
			// (except on PostgreSQL, whose text has no NUL) the NUL bytes of
			// serialized protected properties.
			data := `user|s:6:"O'Hara";msg|s:12:"\"héllo\" ✓ ;--";`
			if b.dialect != sqlstore.Postgres {
				data += "obj|O:1:\"A\":1:{s:4:\"\x00*\x00p\";i:1;}"
			}
			expiry := time.Now().Add(40 * time.Minute)
			v, err := s.Save(ctx, key, session.Record{Data: []byte(data), Expiry: expiry})
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := rowData(t, db, b.dialect, table, key); !ok || got != data {
				t.Fatalf("row data = %q, want %q", got, data)
			}
			if got, want := modifiedUnix(t, db, b.dialect, table, key), expiry.Add(-time.Hour).Unix(); got != want {
				t.Fatalf("modified_at = %d, want expiry - MaxLifetime = %d", got, want)
			}
			rec, err := s.Load(ctx, key)
			if err != nil || string(rec.Data) != data || rec.Version != v {
				t.Fatalf("Load = %q v%d, %v; want %q v%d", rec.Data, rec.Version, err, data, v)
			}

			// What the text column cannot hold is refused; the row stays.
			bad := []struct {
				name string
				rec  session.Record
				want error
			}{
				{"invalid UTF-8", session.Record{Data: []byte("ok\xff\xfe"), Expiry: expiry, Version: v}, session.ErrUnsupported},
				{"owner without column", session.Record{Data: []byte("x"), Expiry: expiry, Version: v, Owner: "alice"}, session.ErrUnsupported},
			}
			if b.dialect == sqlstore.Postgres {
				bad = append(bad, struct {
					name string
					rec  session.Record
					want error
				}{"NUL on PostgreSQL", session.Record{Data: []byte("a\x00b"), Expiry: expiry, Version: v}, session.ErrUnsupported})
			}
			if b.dialect == sqlstore.MySQL {
				bad = append(bad, struct {
					name string
					rec  session.Record
					want error
				}{"over TEXT's 64 KiB", session.Record{Data: []byte(strings.Repeat("a", 1<<20)), Expiry: expiry, Version: v}, session.ErrTooLarge})
			}
			for _, c := range bad {
				if _, err := s.Save(ctx, key, c.rec); !errors.Is(err, c.want) {
					t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
				}
				if got, _ := rowData(t, db, b.dialect, table, key); got != data {
					t.Fatalf("%s changed the row: %q", c.name, got)
				}
			}
			if _, ok := any(s).(session.OwnerIndex); ok {
				t.Fatal("CompatStore implements session.OwnerIndex")
			}
		})
	}
}

// TestCompatKeyTooLong: a 64-character key does not fit VARCHAR(35); it is
// refused, never truncated onto another session's row.
func TestCompatKeyTooLong(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db, table, s := compatFixture(t, b, time.Hour, nil)
			long := strings.Repeat("ab", 32)
			prefix := long[:35]
			// The row a truncating store would overwrite.
			created := "2030-01-02 03:04:05"
			mustExec(t, db, "INSERT INTO "+q(b.dialect, table)+" (session_id, data, created_at) VALUES ("+ph(b.dialect, 1)+", "+ph(b.dialect, 2)+", "+ph(b.dialect, 3)+")", prefix, "victim", created)
			exp := time.Now().Add(time.Hour)
			if _, err := s.Save(ctx, long, session.Record{Data: []byte("attacker"), Expiry: exp}); !errors.Is(err, session.ErrInvalidKey) {
				t.Fatalf("Save with a 64-char key: err = %v, want ErrInvalidKey", err)
			}
			if _, err := s.Load(ctx, long); !errors.Is(err, session.ErrInvalidKey) {
				t.Fatalf("Load with a 64-char key: err = %v, want ErrInvalidKey", err)
			}
			if err := s.Touch(ctx, long, exp); !errors.Is(err, session.ErrInvalidKey) {
				t.Fatalf("Touch with a 64-char key: err = %v, want ErrInvalidKey", err)
			}
			if err := s.Delete(ctx, long); !errors.Is(err, session.ErrInvalidKey) {
				t.Fatalf("Delete with a 64-char key: err = %v, want ErrInvalidKey", err)
			}
			if got, ok := rowData(t, db, b.dialect, table, prefix); !ok || got != "victim" {
				t.Fatalf("the 35-character row = %q (present %v), want untouched", got, ok)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q(b.dialect, table)).Scan(&n); err != nil || n != 1 {
				t.Fatalf("rows = %d, %v; want 1", n, err)
			}
		})
	}
}

// TestCompatTouchKeepsReadOnlySessionAlive: the incubator adapter let a session that is
// only read expire after max lifetime; Touch moves modified_at so that it
// lives on, for PHP's expression too.
func TestCompatTouchKeepsReadOnlySessionAlive(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			t0 := time.Unix(time.Now().Unix(), 0)
			clk := newClock(t0)
			const ml = 3 * time.Second
			db, table, s := compatFixture(t, b, ml, clk)
			key := phpKey()
			if _, err := s.Save(ctx, key, session.Record{Data: []byte("read-only"), Expiry: t0.Add(ml), Created: t0}); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				clk.Add(2 * time.Second) // t0+2, t0+4, t0+6: past t0+3 from the second step on
				rec, err := s.Load(ctx, key)
				if err != nil {
					t.Fatalf("step %d: Load: %v (a read-only session must stay alive while used)", i, err)
				}
				if string(rec.Data) != "read-only" {
					t.Fatalf("Data = %q", rec.Data)
				}
				if err := s.Touch(ctx, key, clk.Now().Add(ml)); err != nil {
					t.Fatalf("step %d: Touch: %v", i, err)
				}
				// PHP computes COALESCE(modified_at, created_at) + max lifetime.
				if got, want := modifiedUnix(t, db, b.dialect, table, key), clk.Now().Unix(); got != want {
					t.Fatalf("step %d: modified_at = %d, want %d", i, got, want)
				}
			}
			clk.Add(ml)
			if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Load after an idle max lifetime: err = %v, want ErrNotFound", err)
			}
			if err := s.Touch(ctx, key, clk.Now().Add(ml)); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("Touch of an expired session: err = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestMySQLSessionTimeZone: with the connection's time_zone at +05:00, times
// still come from the application clock in UTC: the rows hold the right
// instants and come back unchanged.
func TestMySQLSessionTimeZone(t *testing.T) {
	dsn := mysqlDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	b := backend{"mysql+05:00", sqlstore.MySQL, func(t *testing.T, c *counts) *sql.DB {
		return openDSN(t, mysqlDriver(), dsn+sep+"time_zone=%27%2B05%3A00%27", c)
	}}
	utc := openDSN(t, mysqlDriver(), dsn+sep+"time_zone=%27%2B00%3A00%27", nil)
	created := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	clk := newClock(created.Add(time.Minute))
	ctx := ctxT(t)

	db, table, s := compatFixture(t, b, time.Hour, clk)
	var tz string
	if err := db.QueryRowContext(ctx, "SELECT @@session.time_zone").Scan(&tz); err != nil || tz != "+05:00" {
		t.Fatalf("session time_zone = %q, %v", tz, err)
	}
	key := phpKey()
	expiry := created.Add(90 * time.Minute)
	if _, err := s.Save(ctx, key, session.Record{Data: []byte("tz"), Expiry: expiry, Created: created}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Created.Equal(created) || !rec.Expiry.Equal(expiry) {
		t.Fatalf("Created %v Expiry %v, want %v %v", rec.Created, rec.Expiry, created, expiry)
	}
	var utcText, localText string
	if err := utc.QueryRowContext(ctx, "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') FROM `"+table+"`").Scan(&utcText); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') FROM `"+table+"`").Scan(&localText); err != nil {
		t.Fatal(err)
	}
	if want := created.Format("2006-01-02 15:04:05"); utcText != want {
		t.Fatalf("created_at seen in UTC = %s, want %s", utcText, want)
	}
	if want := created.Add(5 * time.Hour).Format("2006-01-02 15:04:05"); localText != want {
		t.Fatalf("created_at seen at +05:00 = %s, want %s (the same instant)", localText, want)
	}

	// Native layout: DATETIME(6) in UTC, whatever the session's zone.
	table2 := uniqueTable(t, db, sqlstore.MySQL)
	opts := sqlstore.Options{Dialect: sqlstore.MySQL, Table: table2, Now: clk.Now}
	ns := newNative(t, db, opts)
	createdMicro := created.Add(123456 * time.Microsecond)
	if _, err := ns.Save(ctx, key, session.Record{Data: []byte("tz"), Expiry: expiry, Created: createdMicro}); err != nil {
		t.Fatal(err)
	}
	if rec, err := ns.Load(ctx, key); err != nil || !rec.Created.Equal(createdMicro) || !rec.Expiry.Equal(expiry) {
		t.Fatalf("native: Created %v Expiry %v, %v; want %v %v", rec.Created, rec.Expiry, err, createdMicro, expiry)
	}
	if err := utc.QueryRowContext(ctx, "SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM `"+table2+"`").Scan(&utcText); err != nil {
		t.Fatal(err)
	}
	if want := createdMicro.Format("2006-01-02 15:04:05.000000"); utcText != want {
		t.Fatalf("native created_at = %s, want %s (UTC)", utcText, want)
	}
}
