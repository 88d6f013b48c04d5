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

// exactOwners are owners that collations, LIKE patterns or padding rules
// tend to confuse with one another. Each is saved on a record of its own;
// OwnerKeys of each must return that record only.
var exactOwners = []string{
	"a", "a ", " a", "A", "á", "a\u0301", "ä", "a%", "a_", "a*", "a?", "{a}", "%", "_",
	"ss", "ß", "SS", "i", "İ", "ı", "a\t", "a\u00a0", "a\x00", "a\x00b",
	strings.Repeat("o", 255), strings.Repeat("o", 254) + " ",
	strings.Repeat("o", 10<<10),
}

// mustHold are the owners every store must hold (and so never refuse).
var mustHold = []string{"a", "a ", " a", "A", "á", "a%", "a_", "a*", "a?", "{a}"}

// refusal reports whether err is a refusal of what the store cannot hold.
func refusal(err error) bool {
	return errors.Is(err, session.ErrUnsupported) || errors.Is(err, session.ErrTooLarge)
}

// TestOwnerKeysExact: OwnerKeys returns the keys of the records whose owner
// is byte for byte the one asked for: never those of an owner equal to it
// under a collation that ignores trailing spaces, case or accents. An owner
// the table cannot hold is refused (ErrUnsupported or ErrTooLarge) by Save
// and by OwnerKeys alike.
func TestOwnerKeysExact(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			_, _, s := nativeFixture(t, b)
			checkOwnersExact(t, s)
		})
	}
}

func checkOwnersExact(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := ctxT(t)
	keys := map[string]string{}
	for i, o := range exactOwners {
		key := fmt.Sprintf("%s-%02d", phpKey(), i)
		_, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Owner: o})
		switch {
		case err == nil:
			keys[o] = key
		case refusal(err):
			if slices.Contains(mustHold, o) {
				t.Errorf("Save with owner %q: %v; every store must hold it", o, err)
			}
		default:
			t.Errorf("Save with owner %q (%d bytes): %v, want success or ErrUnsupported/ErrTooLarge", short(o), len(o), err)
		}
	}
	for _, o := range exactOwners {
		got, err := s.OwnerKeys(ctx, o)
		key, held := keys[o]
		if !held {
			if !refusal(err) {
				t.Errorf("OwnerKeys(%q), an owner Save refused: %v, %v; want ErrUnsupported or ErrTooLarge", short(o), got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("OwnerKeys(%q): %v", short(o), err)
			continue
		}
		if len(got) != 1 || got[0] != key {
			var owners []string
			for other, k := range keys {
				if slices.Contains(got, k) {
					owners = append(owners, fmt.Sprintf("%q", short(other)))
				}
			}
			slices.Sort(owners)
			t.Errorf("OwnerKeys(%q) returned the records of owners %s; want only its own", short(o), strings.Join(owners, ", "))
		}
	}
}

// short abbreviates long owners in messages.
func short(s string) string {
	if len(s) > 20 {
		return fmt.Sprintf("%s...(%d bytes)", s[:10], len(s))
	}
	return s
}

// TestOwnerColumnUpgrade: a native table whose owner column compares
// inexactly (MySQL/MariaDB: utf8mb4_bin, which pads with spaces, as
// CreateSchema made it before; or a case- and accent-insensitive default
// collation) still gives exact OwnerKeys, and Migrate turns the column into
// one that compares bytes (utf8mb4_nopad_bin or utf8mb4_0900_bin; PostgreSQL:
// "C"), keeping its rows; a second Migrate changes nothing.
func TestOwnerColumnUpgrade(t *testing.T) {
	for _, b := range backends() {
		if b.dialect == sqlstore.SQLite {
			continue // SQLite's columns compare bytes unless declared otherwise
		}
		for _, coll := range ownerCollations(b.dialect) {
			t.Run(b.name+"/"+coll, func(t *testing.T) {
				ctx := ctxT(t)
				db := b.open(t, nil)
				table := uniqueTable(t, db, b.dialect)
				opts := sqlstore.Options{Dialect: b.dialect, Table: table}
				if err := sqlstore.CreateSchema(ctx, db, opts); err != nil {
					t.Fatal(err)
				}
				if b.dialect == sqlstore.MySQL {
					mustExec(t, db, "ALTER TABLE `"+table+"` MODIFY COLUMN owner VARCHAR(255) CHARACTER SET utf8mb4 COLLATE "+coll+" NOT NULL DEFAULT ''")
				} else {
					mustExec(t, db, `CREATE COLLATION IF NOT EXISTS sk_test_ci (provider = icu, locale = 'und-u-ks-level1', deterministic = false)`)
					mustExec(t, db, `ALTER TABLE "`+table+`" ALTER COLUMN owner TYPE VARCHAR(255) COLLATE `+coll)
				}
				if got := ownerCollation(t, db, b.dialect, table); got != coll {
					t.Fatalf("set up: owner collation %q, want %q", got, coll)
				}
				s, err := sqlstore.New(ctx, db, opts)
				if err != nil {
					t.Fatal(err)
				}
				// Go filters what the column matches too broadly.
				checkOwnersExact(t, s)
				_ = s.Close()
				if t.Failed() {
					return
				}
				before := dump(t, db, b.dialect, table)
				for range 2 {
					if err := sqlstore.Migrate(ctx, db, opts); err != nil {
						t.Fatal(err)
					}
				}
				// A new pool: pgx's cached plans of the old column type
				// would fail the same query.
				db = b.open(t, nil)
				if after := dump(t, db, b.dialect, table); !slices.Equal(before, after) {
					t.Fatalf("Migrate changed the rows:\n%v\n%v", before, after)
				}
				got := ownerCollation(t, db, b.dialect, table)
				if b.dialect == sqlstore.MySQL && got != "utf8mb4_nopad_bin" && got != "utf8mb4_0900_bin" ||
					b.dialect == sqlstore.Postgres && got != "C" {
					t.Fatalf("owner collation after Migrate: %q, want one that compares bytes", got)
				}
				// The column itself is exact now.
				var n int
				if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+q(b.dialect, table)+" WHERE owner = "+ph(b.dialect, 1), "a").Scan(&n); err != nil || n != 1 {
					t.Fatalf("rows with owner = 'a' in SQL: %d, %v; want 1", n, err)
				}
				s, err = sqlstore.New(ctx, db, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				for _, o := range mustHold {
					if ks, err := s.OwnerKeys(ctx, o); err != nil || len(ks) != 1 {
						t.Fatalf("OwnerKeys(%q) after Migrate: %v, %v; want its one record", o, ks, err)
					}
				}
			})
		}
	}
}

// ownerCollations are the inexact owner collations TestOwnerColumnUpgrade
// starts from.
func ownerCollations(d sqlstore.Dialect) []string {
	if d == sqlstore.MySQL {
		return []string{"utf8mb4_bin", "utf8mb4_general_ci", "utf8mb4_unicode_ci"}
	}
	return []string{"sk_test_ci"}
}

// ownerCollation reads the owner column's collation from the catalog.
func ownerCollation(t *testing.T, db *sql.DB, d sqlstore.Dialect, table string) string {
	t.Helper()
	var c sql.NullString
	var err error
	if d == sqlstore.MySQL {
		err = db.QueryRowContext(ctxT(t), "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'owner'", table).Scan(&c)
	} else {
		err = db.QueryRowContext(ctxT(t), "SELECT collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'owner'", table).Scan(&c)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.String
}
