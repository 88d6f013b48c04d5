package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// dump returns every row of table, in key order, as text.
func dump(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctxT(t), "SELECT * FROM "+q(d, table)+" ORDER BY session_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(&b, "%s=%q ", cols[i], fmt.Sprint(v))
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpgradeIncubator34 upgrades the incubator 3.4 table (Unix seconds in
// integer columns), keeping every row's times; running it twice changes
// nothing.
func TestUpgradeIncubator34(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t, nil)
			table := uniqueTable(t, db, b.dialect)
			var ddl string
			switch b.dialect {
			case sqlstore.MySQL:
				ddl = "CREATE TABLE `" + table + "` (\n  `session_id` varchar(35) NOT NULL,\n  `data` text NOT NULL,\n  `created_at` int(15) unsigned NOT NULL,\n  `modified_at` int(15) unsigned DEFAULT NULL,\n  PRIMARY KEY (`session_id`)\n)"
			case sqlstore.Postgres:
				ddl = `CREATE TABLE "` + table + `" (session_id varchar(35) NOT NULL, data text NOT NULL, created_at bigint NOT NULL, modified_at bigint DEFAULT NULL, PRIMARY KEY (session_id))`
			default:
				ddl = `CREATE TABLE "` + table + `" (session_id varchar(35) NOT NULL, data text NOT NULL, created_at INTEGER NOT NULL, modified_at INTEGER DEFAULT NULL, PRIMARY KEY (session_id))`
			}
			mustExec(t, db, ddl)
			const created, modified = 1700000000, 1700000600
			k1, k2 := phpKey(), phpKey()
			ins := "INSERT INTO " + q(b.dialect, table) + " (session_id, data, created_at, modified_at) VALUES (" + ph(b.dialect, 1) + ", " + ph(b.dialect, 2) + ", " + ph(b.dialect, 3) + ", " + ph(b.dialect, 4) + ")"
			mustExec(t, db, ins, k1, "a|s:1:\"1\";", created, nil)
			mustExec(t, db, ins, k2, "b|s:1:\"2\";", created, modified)

			opts := sqlstore.Options{Dialect: b.dialect, Table: table, MaxLifetime: time.Hour, Now: newClock(time.Unix(created+60, 0)).Now}
			if _, err := sqlstore.NewCompat(ctx, db, opts); !errors.Is(err, sqlstore.ErrSchema) {
				t.Fatalf("NewCompat on a 3.4 table: err = %v, want ErrSchema", err)
			}
			if err := sqlstore.UpgradeIncubator34(ctx, db, opts); err != nil {
				t.Fatal(err)
			}
			before := dump(t, db, b.dialect, table)
			if err := sqlstore.UpgradeIncubator34(ctx, db, opts); err != nil {
				t.Fatalf("second run: %v", err)
			}
			if err := sqlstore.Migrate(ctx, db, sqlstore.Options{Dialect: b.dialect, Table: table, Layout: sqlstore.Compatibility}); err != nil {
				t.Fatalf("Migrate after the upgrade: %v", err)
			}
			if after := dump(t, db, b.dialect, table); !slices.Equal(before, after) {
				t.Fatalf("second run changed the rows:\n%v\n%v", before, after)
			}
			if len(before) != 2 {
				t.Fatalf("%d rows after the upgrade, want 2", len(before))
			}
			s, err := sqlstore.NewCompat(ctx, db, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, c := range []struct {
				key    string
				data   string
				expiry int64
			}{{k1, "a|s:1:\"1\";", created + 3600}, {k2, "b|s:1:\"2\";", modified + 3600}} {
				rec, err := s.Load(ctx, c.key)
				if err != nil {
					t.Fatal(err)
				}
				if string(rec.Data) != c.data || rec.Created.Unix() != created || rec.Expiry.Unix() != c.expiry {
					t.Fatalf("row %s: data %q created %d expiry %d; want %q %d %d", c.key, rec.Data, rec.Created.Unix(), rec.Expiry.Unix(), c.data, created, c.expiry)
				}
			}
		})
	}
}

// TestUpgradeToNative turns the incubator table into the native layout keeping
// every row, idempotently; the store then accepts long keys and binary data.
func TestUpgradeToNative(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			now := time.Unix(time.Now().Unix(), 0)
			clk := newClock(now)
			db, table, cs := compatFixture(t, b, time.Hour, clk)
			type row struct {
				key, data string
				expiry    time.Time
			}
			rows := []row{
				{phpKey(), `a|s:6:"O'Hara";b|s:2:"é✓";`, now.Add(30 * time.Minute)},
				{phpKey(), `c|i:1;`, now.Add(-time.Minute)}, // expired, kept until GC
				{phpKey(), ``, now.Add(50 * time.Minute)},
			}
			if b.dialect != sqlstore.Postgres {
				rows = append(rows, row{phpKey(), "o|O:1:\"A\":1:{s:4:\"\x00*\x00p\";N;}", now.Add(20 * time.Minute)})
			}
			for _, r := range rows {
				if _, err := cs.Save(ctx, r.key, session.Record{Data: []byte(r.data), Expiry: r.expiry, Created: now.Add(-time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			// A row as PHP writes it: created_at only.
			phpRow := row{phpKey(), `php|b:1;`, now.Add(-10 * time.Minute).Add(time.Hour)}
			mustExec(t, db, "INSERT INTO "+q(b.dialect, table)+" (session_id, data, created_at) VALUES ("+ph(b.dialect, 1)+", "+ph(b.dialect, 2)+", "+ph(b.dialect, 3)+")",
				phpRow.key, phpRow.data, now.Add(-10*time.Minute).UTC().Format("2006-01-02 15:04:05"))
			rows = append(rows, phpRow)
			_ = cs.Close()

			opts := sqlstore.Options{Dialect: b.dialect, Table: table, MaxLifetime: time.Hour, Now: clk.Now}
			if _, err := sqlstore.New(ctx, db, opts); !errors.Is(err, sqlstore.ErrSchema) {
				t.Fatalf("New on the incubator table: err = %v, want ErrSchema", err)
			}
			if err := sqlstore.UpgradeToNative(ctx, db, opts); err != nil {
				t.Fatal(err)
			}
			before := dump(t, db, b.dialect, table)
			if len(before) != len(rows) {
				t.Fatalf("%d rows after the upgrade, want %d", len(before), len(rows))
			}
			if err := sqlstore.UpgradeToNative(ctx, db, opts); err != nil {
				t.Fatalf("second run: %v", err)
			}
			if err := sqlstore.Migrate(ctx, db, opts); err != nil {
				t.Fatalf("Migrate on the native table: %v", err)
			}
			if after := dump(t, db, b.dialect, table); !slices.Equal(before, after) {
				t.Fatalf("second run changed the rows:\n%v\n%v", before, after)
			}
			s, err := sqlstore.New(ctx, db, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.MaxKeyLength() != 255 {
				t.Fatalf("MaxKeyLength = %d after widening, want 255", s.MaxKeyLength())
			}
			for _, r := range rows {
				rec, err := s.Load(ctx, r.key)
				if !r.expiry.After(now) {
					if !errors.Is(err, session.ErrNotFound) {
						t.Fatalf("expired row: Load err = %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("row %q: %v", r.data, err)
				}
				if string(rec.Data) != r.data || !rec.Expiry.Equal(r.expiry) || rec.Version != 1 || rec.Owner != "" {
					t.Fatalf("row: data %q expiry %v version %d owner %q; want %q %v 1 \"\"", rec.Data, rec.Expiry, rec.Version, rec.Owner, r.data, r.expiry)
				}
				rec.Data = []byte("\xff\x00binary now")
				if _, err := s.Save(ctx, r.key, rec); err != nil {
					t.Fatalf("Save over an upgraded row: %v", err)
				}
			}
			long := storetestKey()
			if _, err := s.Save(ctx, long, session.Record{Data: []byte("\x00\xff"), Expiry: now.Add(time.Hour)}); err != nil {
				t.Fatalf("64-character key after the upgrade: %v", err)
			}
			if n, err := s.GC(ctx); err != nil || n != 1 {
				t.Fatalf("GC = %d, %v; want the 1 expired row", n, err)
			}
		})
	}
}

// TestMigrateCreates: Migrate creates a missing table of either layout and
// is idempotent.
func TestMigrateCreates(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t, nil)
			for _, l := range []sqlstore.Layout{sqlstore.Native, sqlstore.Compatibility} {
				opts := sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect), Layout: l}
				for range 2 {
					if err := sqlstore.Migrate(ctx, db, opts); err != nil {
						t.Fatalf("%v: %v", l, err)
					}
				}
				var err error
				if l == sqlstore.Native {
					_, err = sqlstore.New(ctx, db, opts)
				} else {
					_, err = sqlstore.NewCompat(ctx, db, opts)
				}
				if err != nil {
					t.Fatalf("%v: %v", l, err)
				}
			}
		})
	}
}

// TestOptionsValidation: names are validated before they reach SQL.
func TestOptionsValidation(t *testing.T) {
	for _, o := range []sqlstore.Options{
		{},
		{Dialect: sqlstore.MySQL, Table: "session_data; DROP TABLE x"},
		{Dialect: sqlstore.MySQL, Table: "a.b.c"},
		{Dialect: sqlstore.Postgres, Columns: sqlstore.Columns{ID: `id"`}},
		{Dialect: sqlstore.SQLite, Columns: sqlstore.Columns{Data: "session_id"}},
		{Dialect: sqlstore.SQLite, MaxLifetime: time.Millisecond},
	} {
		if err := sqlstore.CreateSchema(ctxT(t), nil, o); err == nil {
			t.Errorf("CreateSchema(%+v) accepted invalid options", o)
		}
	}
}

// TestCompatOperationsRefuseNativeTable: the compatibility-layout schema
// functions and NewCompat refuse a native table and leave its columns as
// they are.
func TestCompatOperationsRefuseNativeTable(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t, nil)
			opts := sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect), Layout: sqlstore.Native}
			if err := sqlstore.CreateSchema(ctx, db, opts); err != nil {
				t.Fatal(err)
			}
			before := columnTypes(t, db, opts.Table)
			compat := opts
			compat.Layout = sqlstore.Compatibility
			for name, err := range map[string]error{
				"UpgradeIncubator34": sqlstore.UpgradeIncubator34(ctx, db, compat),
				"Migrate compat":     sqlstore.Migrate(ctx, db, compat),
				"NewCompat":          func() error { _, err := sqlstore.NewCompat(ctx, db, compat); return err }(),
			} {
				if !errors.Is(err, sqlstore.ErrSchema) || !strings.Contains(err.Error(), "native layout") {
					t.Errorf("%s on a native table: %v, want ErrSchema naming the native layout", name, err)
				}
			}
			if after := columnTypes(t, db, opts.Table); !slices.Equal(before, after) {
				t.Fatalf("columns changed: %v -> %v", before, after)
			}
			if _, err := sqlstore.New(ctx, db, opts); err != nil {
				t.Fatalf("the native table no longer opens: %v", err)
			}
		})
	}
}

// columnTypes returns the table's columns with their database types.
func columnTypes(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(ctxT(t), "SELECT * FROM "+table+" WHERE 1=0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cts {
		out = append(out, c.Name()+" "+c.DatabaseTypeName())
	}
	return out
}
