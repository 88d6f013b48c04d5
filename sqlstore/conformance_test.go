package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
	"github.com/sessionkit/session/storetest"
)

// TestConformanceNative runs the storetest suite on the native layout of
// every dialect.
func TestConformanceNative(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, nil)
			opts := sqlstore.Options{Dialect: b.dialect, Table: uniqueTable(t, db, b.dialect)}
			if err := sqlstore.CreateSchema(ctxT(t), db, opts); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(ctxT(t), db, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			set := map[sqlstore.Dialect]string{sqlstore.MySQL: "version = -5", sqlstore.Postgres: "version = -5", sqlstore.SQLite: "version = 'abc'"}[b.dialect]
			storetest.Run(t, s, storetest.Config{
				// A live row whose version another program spoilt.
				Corrupt: func(ctx context.Context, key string) error {
					if _, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)}); err != nil {
						return err
					}
					_, err := db.ExecContext(ctx, "UPDATE "+q(b.dialect, opts.Table)+" SET "+set+" WHERE session_id = "+ph(b.dialect, 1), key)
					return err
				},
			})
		})
	}
}

// TestConformanceCompat runs the storetest suite on the incubator table, created
// with the incubator Database adapter's DDL: once bare, once with an owner column added. Data is
// base64 so that the suite's binary data fits the text column; keys are
// PHP-style 32-character IDs.
func TestConformanceCompat(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name+"/incubator-table", func(t *testing.T) {
			db := b.open(t, nil)
			table := uniqueTable(t, db, b.dialect)
			mustExec(t, db, incubatorDDL(b.dialect, table))
			s, err := sqlstore.NewCompat(ctxT(t), db, sqlstore.Options{
				Dialect: b.dialect, Table: table, MaxLifetime: time.Hour, Base64: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.HasOwner() {
				t.Fatal("owner column detected on the incubator table")
			}
			storetest.Run(t, s, storetest.Config{
				NewKey:      phpKey,
				Precision:   time.Second,
				MaxDataSize: s.MaxDataSize(),
			})
		})
		t.Run(b.name+"/with-owner", func(t *testing.T) {
			db := b.open(t, nil)
			table := uniqueTable(t, db, b.dialect)
			mustExec(t, db, incubatorDDL(b.dialect, table))
			q := `ALTER TABLE "` + table + `" ADD COLUMN "owner" VARCHAR(255) NOT NULL DEFAULT ''`
			if b.dialect == sqlstore.MySQL {
				q = "ALTER TABLE `" + table + "` ADD COLUMN `owner` VARCHAR(255) NOT NULL DEFAULT ''"
			}
			mustExec(t, db, q)
			s, err := sqlstore.NewCompat(ctxT(t), db, sqlstore.Options{
				Dialect: b.dialect, Table: table, MaxLifetime: time.Hour, Base64: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !s.HasOwner() {
				t.Fatal("owner column not detected")
			}
			if _, ok := any(s).(session.OwnerIndex); ok {
				t.Fatal("CompatStore implements session.OwnerIndex")
			}
			if s.MaxKeyLength() != 35 {
				t.Fatalf("MaxKeyLength = %d, want 35 from VARCHAR(35)", s.MaxKeyLength())
			}
			wantMax := 0
			if b.dialect == sqlstore.MySQL {
				wantMax = 65535 / 4 * 3 // base64 in TEXT
			}
			if s.MaxDataSize() != wantMax {
				t.Fatalf("MaxDataSize = %d, want %d", s.MaxDataSize(), wantMax)
			}
			storetest.Run(t, s, storetest.Config{
				NewKey:      phpKey,
				Precision:   time.Second,
				MaxDataSize: s.MaxDataSize(),
			})
		})
	}
}
