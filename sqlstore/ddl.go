package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/sessionkit/session"
)

// names holds a table's options and quoted identifiers.
type names struct {
	d                                                         dialect
	o                                                         Options
	schema, table                                             string // unquoted
	tbl, id, data, created, modified, expires, version, owner string
}

func newNames(o Options) names {
	schema, table := o.schemaAndTable()
	d := dialectOf(o.Dialect)
	c := o.Columns
	return names{
		d: d, o: o, schema: schema, table: table, tbl: quoteTable(d, o.Table),
		id: d.quote(c.ID), data: d.quote(c.Data), created: d.quote(c.Created), modified: d.quote(c.Modified),
		expires: d.quote(c.Expires), version: d.quote(c.Version), owner: d.quote(c.Owner),
	}
}

// qualified quotes name in the table's schema.
func (n names) qualified(name string) string {
	if n.schema != "" {
		return n.d.quote(n.schema) + "." + n.d.quote(name)
	}
	return n.d.quote(name)
}

// index returns the quoted name of the index on column col.
func (n names) index(col string) string {
	if _, ok := n.d.(sqliteDialect); ok {
		return n.qualified(n.table + "_" + col + "_idx")
	}
	return n.d.quote(n.table + "_" + col + "_idx")
}

// triggerName is the unquoted name of the native table's version trigger.
func (n names) triggerName() string { return n.table + "_sk_version" }

// bumpVersion is the version a row gets when another program changes its
// data: the one after the old, as nextVersion computes it.
func (n names) bumpVersion() string {
	return fmt.Sprintf("OLD.%s %% %d + 1", n.version, int64(1)<<62)
}

// indexes are the CREATE INDEX IF NOT EXISTS statements of the native
// layout (PostgreSQL and SQLite).
func (n names) indexes() []string {
	on := n.tbl
	if _, ok := n.d.(sqliteDialect); ok {
		on = n.d.quote(n.table) // SQLite qualifies the index, not the table
	}
	var out []string
	for _, c := range []struct{ name, q string }{{n.o.Columns.Expires, n.expires}, {n.o.Columns.Owner, n.owner}} {
		out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", n.index(c.name), on, c.q))
	}
	return out
}

// compatTable is the incubator Database adapter's CREATE TABLE, with the
// configured names and the dialect's created_at default.
func (n names) compatTable(text, createdDefault string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s VARCHAR(35) NOT NULL,\n  %s %s NOT NULL,\n  %s TIMESTAMP NOT NULL DEFAULT %s,\n  %s TIMESTAMP NULL DEFAULT NULL,\n  PRIMARY KEY (%s)\n)",
		n.tbl, n.id, n.data, text, n.created, createdDefault, n.modified, n.id)
}

// nativeTable is the native CREATE TABLE with the dialect's types; extra
// ends the column list (MySQL's inline indexes).
func (n names) nativeTable(id, data, tm, version, owner, extra, suffix string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  %s %s NOT NULL,
  %s %s NOT NULL,
  %s %s NOT NULL,
  %s %s NULL DEFAULT NULL,
  %s %s NOT NULL,
  %s %s NOT NULL DEFAULT 1,
  %s %s NOT NULL DEFAULT '',
  PRIMARY KEY (%s)%s
)%s`, n.tbl, n.id, id, n.data, data, n.created, tm, n.modified, tm, n.expires, tm, n.version, version, n.owner, owner, n.id, extra, suffix)
}

// ddl: the incubator table verbatim; the native table with inline indexes
// and a BEFORE UPDATE trigger that gives a row whose data another program
// changed (without changing the version) the next version. The ID column is
// utf8mb4_bin, which ignores trailing spaces (keys never end with one); the
// owner column compares bytes, trailing spaces included (see
// mysqlExactCollation), so that the owner index never matches another owner.
func (mysqlDialect) ddl(ctx context.Context, q queryer, n names, l Layout) ([]string, error) {
	if l == Compatibility {
		return []string{n.compatTable("text", "CURRENT_TIMESTAMP")}, nil
	}
	exact, err := mysqlExactCollation(ctx, q)
	if err != nil {
		return nil, err
	}
	const id = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
	owner := "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + exact
	keys := fmt.Sprintf(",\n  KEY %s (%s),\n  KEY %s (%s)", n.index(n.o.Columns.Expires), n.expires, n.index(n.o.Columns.Owner), n.owner)
	return []string{n.nativeTable(id, "LONGBLOB", "DATETIME(6)", "BIGINT", owner, keys, " ENGINE=InnoDB"), mysqlTrigger(n)}, nil
}

// mysqlExactCollations are the utf8mb4 collations that compare bytes and do
// not pad with spaces: MariaDB's (10.2 and later) and MySQL 8's. utf8mb4_bin
// pads: under it 'bob' = 'bob '.
var mysqlExactCollations = []string{"utf8mb4_nopad_bin", "utf8mb4_0900_bin"}

// mysqlExactCollation returns the first of mysqlExactCollations that the
// server has.
func mysqlExactCollation(ctx context.Context, q queryer) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?)", mysqlExactCollations[0], mysqlExactCollations[1])
	if err != nil {
		return "", fmt.Errorf("read the server's collations: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("read the server's collations: %w", err)
		}
		have[strings.ToLower(name)] = true
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("read the server's collations: %w", err)
	}
	for _, c := range mysqlExactCollations {
		if have[c] {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: the server has neither %s nor %s, needed for exact owner lookups (MariaDB 10.5 or MySQL 8 and later)", session.ErrUnsupported, mysqlExactCollations[0], mysqlExactCollations[1])
}

// mysqlExact reports whether collation compares bytes without padding.
func mysqlExact(collation string) bool {
	return collation == "binary" || slices.Contains(mysqlExactCollations, collation)
}

func mysqlTrigger(n names) string {
	return fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s BEFORE UPDATE ON %s FOR EACH ROW SET NEW.%s = IF(NEW.%s = OLD.%s AND NOT (NEW.%s <=> OLD.%s), %s, NEW.%s)",
		n.qualified(n.triggerName()), n.tbl, n.version, n.version, n.version, n.data, n.data, n.bumpVersion(), n.version)
}

// ddl: the incubator table with a UTC wall-clock TIMESTAMP; the native table,
// its indexes, and the version trigger (one function per pair of version and
// data column names, shared by the tables that use them).
func (postgresDialect) ddl(_ context.Context, _ queryer, n names, l Layout) ([]string, error) {
	if l == Compatibility {
		return []string{n.compatTable("TEXT", "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')")}, nil
	}
	id := `VARCHAR(255) COLLATE "C"`
	return append(append([]string{n.nativeTable(id, "BYTEA", "TIMESTAMPTZ", "BIGINT", id, "", "")}, n.indexes()...), postgresTrigger(n)...), nil
}

func postgresTrigger(n names) []string {
	fn := n.qualified("sk_version_" + n.o.Columns.Version + "_" + n.o.Columns.Data)
	return []string{
		fmt.Sprintf("CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.%s := %s; RETURN NEW; END $$", fn, n.version, n.bumpVersion()),
		fmt.Sprintf("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname = '%s') THEN CREATE TRIGGER %s BEFORE UPDATE ON %s FOR EACH ROW WHEN (NEW.%s = OLD.%s AND NEW.%s IS DISTINCT FROM OLD.%s) EXECUTE FUNCTION %s(); END IF; END $$",
			n.tbl, n.triggerName(), n.d.quote(n.triggerName()), n.tbl, n.version, n.version, n.data, n.data, fn),
	}
}

// ddl: the incubator statement; the native table with text times, its
// indexes, and an AFTER UPDATE trigger for the version.
func (sqliteDialect) ddl(_ context.Context, _ queryer, n names, l Layout) ([]string, error) {
	if l == Compatibility {
		return []string{n.compatTable("TEXT", "CURRENT_TIMESTAMP")}, nil
	}
	return append(append([]string{n.nativeTable("VARCHAR(255)", "BLOB", "TEXT", "INTEGER", "VARCHAR(255)", "", "")}, n.indexes()...), sqliteTrigger(n)), nil
}

func sqliteTrigger(n names) string {
	t := n.d.quote(n.table) // a trigger's statements name tables of its own schema
	return fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s AFTER UPDATE OF %s ON %s FOR EACH ROW WHEN NEW.%s = OLD.%s AND NEW.%s IS NOT OLD.%s BEGIN UPDATE %s SET %s = %s WHERE %s = NEW.%s; END",
		n.qualified(n.triggerName()), n.data, t, n.version, n.version, n.data, n.data, t, n.version, n.bumpVersion(), n.id, n.id)
}

// CreateSchema creates the table of opts.Layout if it does not exist: the
// incubator Database adapter's DDL for Compatibility; for Native the native
// table, its indexes and the trigger that gives a row a new version when
// another program changes its data. It never alters an existing table.
func CreateSchema(ctx context.Context, db *sql.DB, opts Options) error {
	n, err := schemaNames(db, opts)
	if err != nil {
		return err
	}
	stmts, err := n.d.ddl(ctx, db, n, n.o.Layout)
	if err == nil {
		err = execAll(ctx, db, stmts...)
	}
	if err != nil {
		return fail(ctx, "create schema", err)
	}
	return nil
}

// Migrate brings the table to opts.Layout: it creates a missing table; for
// Native it upgrades a compatibility-layout table (or adds what an older
// native table lacks) with [UpgradeToNative]; for Compatibility it upgrades
// an incubator 3.4 table with [UpgradeIncubator34], and refuses a native
// table (ErrSchema): it never turns a native table back. It is idempotent.
func Migrate(ctx context.Context, db *sql.DB, opts Options) error {
	n, err := schemaNames(db, opts)
	if err != nil {
		return err
	}
	o := n.o
	ti, err := inspect(ctx, db, n)
	if err != nil {
		return err
	}
	if ti == nil {
		return CreateSchema(ctx, db, o)
	}
	if o.Layout == Native {
		return UpgradeToNative(ctx, db, o)
	}
	if ti.native(o.Columns) {
		return errNativeTable(o.Table, "Migrate to the compatibility layout", o.Columns)
	}
	if o.Dialect != SQLite {
		cc, _ := ti.get(o.Columns.Created)
		mc, _ := ti.get(o.Columns.Modified)
		if strings.HasPrefix(cc.dataType, "timestamp") && strings.HasPrefix(mc.dataType, "timestamp") {
			return nil
		}
	}
	return UpgradeIncubator34(ctx, db, o)
}

// withConn runs fn on one connection of db after reading the table's
// columns on it; a missing table is an ErrSchema error.
func withConn(ctx context.Context, db *sql.DB, n names, fn func(*sql.Conn, tableInfo) error) error {
	if db == nil {
		return fmt.Errorf("%w: nil *sql.DB", errOptions)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ti, err := inspect(ctx, conn, n)
	if err != nil {
		return err
	}
	if ti == nil {
		return fmt.Errorf("%w: table %s does not exist", ErrSchema, n.o.Table)
	}
	return fn(conn, ti)
}

// schemaNames validates the arguments of a schema function.
func schemaNames(db *sql.DB, opts Options) (names, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return names{}, err
	}
	if db == nil {
		return names{}, fmt.Errorf("%w: nil *sql.DB", errOptions)
	}
	return newNames(o), nil
}

func execAll(ctx context.Context, q queryer, stmts ...string) error {
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w (in %s)", err, s)
		}
	}
	return nil
}
