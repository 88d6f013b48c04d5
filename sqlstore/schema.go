package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// names holds the quoted identifiers of a table for DDL.
type names struct {
	d                                                         Dialect
	schema, table                                             string // unquoted
	tbl, id, data, created, modified, expires, version, owner string
}

func newNames(o Options) names {
	schema, table := o.schemaAndTable()
	c := o.Columns
	q := func(s string) string { return quote(o.Dialect, s) }
	return names{
		d: o.Dialect, schema: schema, table: table, tbl: quoteTable(o.Dialect, o.Table),
		id: q(c.ID), data: q(c.Data), created: q(c.Created), modified: q(c.Modified),
		expires: q(c.Expires), version: q(c.Version), owner: q(c.Owner),
	}
}

// index returns the quoted name of the index on column col, and the table
// name to use in CREATE INDEX ... ON.
func (n names) index(col string) (idx, on string) {
	name := quote(n.d, n.table+"_"+col+"_idx")
	if n.d == SQLite && n.schema != "" {
		return quote(n.d, n.schema) + "." + name, quote(n.d, n.table)
	}
	return name, n.tbl
}

// compatDDL is the seed's table: the MySQL statement verbatim (with the
// configured names), its PostgreSQL equivalent (UTC wall-clock TIMESTAMP)
// and its SQLite form.
func compatDDL(n names) []string {
	switch n.d {
	case MySQL:
		return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s VARCHAR(35) NOT NULL,\n  %s text NOT NULL,\n  %s TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  %s TIMESTAMP NULL DEFAULT NULL,\n  PRIMARY KEY (%s)\n)",
			n.tbl, n.id, n.data, n.created, n.modified, n.id)}
	case Postgres:
		return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s VARCHAR(35) NOT NULL,\n  %s TEXT NOT NULL,\n  %s TIMESTAMP NOT NULL DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC'),\n  %s TIMESTAMP NULL DEFAULT NULL,\n  PRIMARY KEY (%s)\n)",
			n.tbl, n.id, n.data, n.created, n.modified, n.id)}
	}
	return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s VARCHAR(35) NOT NULL,\n  %s TEXT NOT NULL,\n  %s TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  %s TIMESTAMP NULL DEFAULT NULL,\n  PRIMARY KEY (%s)\n)",
		n.tbl, n.id, n.data, n.created, n.modified, n.id)}
}

// nativeDDL creates the native table and its indexes under the table name
// of n.
func nativeDDL(n names, o Options) []string {
	exp, _ := n.index(o.Columns.Expires)
	own, _ := n.index(o.Columns.Owner)
	switch n.d {
	case MySQL:
		return []string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  %s VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  %s LONGBLOB NOT NULL,
  %s DATETIME(6) NOT NULL,
  %s DATETIME(6) NULL DEFAULT NULL,
  %s DATETIME(6) NOT NULL,
  %s BIGINT NOT NULL DEFAULT 1,
  %s VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  PRIMARY KEY (%s),
  KEY %s (%s),
  KEY %s (%s)
) ENGINE=InnoDB`, n.tbl, n.id, n.data, n.created, n.modified, n.expires, n.version, n.owner, n.id, exp, n.expires, own, n.owner)}
	case Postgres:
		return append([]string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  %s VARCHAR(255) COLLATE "C" NOT NULL,
  %s BYTEA NOT NULL,
  %s TIMESTAMPTZ NOT NULL,
  %s TIMESTAMPTZ NULL DEFAULT NULL,
  %s TIMESTAMPTZ NOT NULL,
  %s BIGINT NOT NULL DEFAULT 1,
  %s VARCHAR(255) COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (%s)
)`, n.tbl, n.id, n.data, n.created, n.modified, n.expires, n.version, n.owner, n.id)}, nativeIndexes(n, o)...)
	}
	return append([]string{fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  %s VARCHAR(255) NOT NULL,
  %s BLOB NOT NULL,
  %s TEXT NOT NULL,
  %s TEXT NULL DEFAULT NULL,
  %s TEXT NOT NULL,
  %s INTEGER NOT NULL DEFAULT 1,
  %s VARCHAR(255) NOT NULL DEFAULT '',
  PRIMARY KEY (%s)
)`, n.tbl, n.id, n.data, n.created, n.modified, n.expires, n.version, n.owner, n.id)}, nativeIndexes(n, o)...)
}

// nativeIndexes are the CREATE INDEX IF NOT EXISTS statements of PostgreSQL
// and SQLite.
func nativeIndexes(n names, o Options) []string {
	var out []string
	for _, c := range []struct{ name, q string }{{o.Columns.Expires, n.expires}, {o.Columns.Owner, n.owner}} {
		idx, on := n.index(c.name)
		out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", idx, on, c.q))
	}
	return out
}

// CreateSchema creates the table of opts.Layout if it does not exist: the
// seed's DDL for Compatibility, the native table and its indexes for Native.
// It never alters an existing table.
func CreateSchema(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	n := newNames(o)
	stmts := compatDDL(n)
	if o.Layout == Native {
		stmts = nativeDDL(n, o)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fail(ctx, "create schema", err)
		}
	}
	return nil
}

// Migrate brings the table to opts.Layout: it creates a missing table; for
// Native it upgrades a compatibility-layout table with [UpgradeToNative];
// for Compatibility it upgrades an incubator 3.4 table with
// [UpgradeIncubator34]. It is idempotent.
func Migrate(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	ti, err := inspect(ctx, db, o)
	if err != nil {
		return err
	}
	if ti == nil {
		return CreateSchema(ctx, db, o)
	}
	if o.Layout == Native {
		return UpgradeToNative(ctx, db, o)
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

// withConn runs fn on one connection. On MySQL the connection's time_zone is
// '+00:00' while fn runs (and restored after), so that conversions between
// TIMESTAMP, DATETIME and Unix seconds are in UTC.
func withConn(ctx context.Context, db *sql.DB, d Dialect, fn func(*sql.Conn) error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d == MySQL {
		var tz string
		if err := conn.QueryRowContext(ctx, "SELECT @@session.time_zone").Scan(&tz); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "SET time_zone = '+00:00'"); err != nil {
			return err
		}
		defer func() {
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "SET time_zone = ?", tz); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	return fn(conn)
}

func execAll(ctx context.Context, q queryer, stmts ...string) error {
	for _, s := range stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%w (in %s)", err, s)
		}
	}
	return nil
}

// UpgradeIncubator34 applies the seed's upgrade of a phalcon/incubator 3.4
// table, whose created_at and modified_at hold Unix seconds in integer
// columns, to created_at TIMESTAMP DEFAULT current_timestamp() NOT NULL and
// modified_at TIMESTAMP DEFAULT NULL NULL, keeping every row's times (the
// seed's bare ALTERs would read the integers as dates). On MySQL it finishes
// with the seed's two ALTER statements; PostgreSQL converts in one
// transaction; SQLite, whose columns take any type, converts the values.
// Running it again changes nothing.
func UpgradeIncubator34(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	o.Layout = Compatibility
	n := newNames(o)
	c := o.Columns
	err = withConn(ctx, db, o.Dialect, func(conn *sql.Conn) error {
		ti, err := inspect(ctx, conn, o)
		if err != nil {
			return err
		}
		if ti == nil {
			return fmt.Errorf("%w: table %s does not exist", ErrSchema, o.Table)
		}
		cc, ok1 := ti.get(c.Created)
		mc, ok2 := ti.get(c.Modified)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: table %s has no %s or %s column", ErrSchema, o.Table, c.Created, c.Modified)
		}
		switch o.Dialect {
		case MySQL:
			// Integers become digit strings, digit strings become
			// 'YYYY-MM-DD hh:mm:ss' in UTC, and the seed's ALTERs turn
			// those into TIMESTAMP. Each step is guarded, so an
			// interrupted run can be run again.
			if isIntegerType(cc.dataType) {
				if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(32) NULL", n.tbl, n.created)); err != nil {
					return err
				}
				cc.dataType = "varchar"
			}
			if isIntegerType(mc.dataType) {
				if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(32) NULL", n.tbl, n.modified)); err != nil {
					return err
				}
				mc.dataType = "varchar"
			}
			if isTextType(cc.dataType) {
				if err := execAll(ctx, conn, fmt.Sprintf("UPDATE %s SET %s = FROM_UNIXTIME(GREATEST(CAST(%s AS UNSIGNED), 1)) WHERE %s REGEXP '^[0-9]+$'", n.tbl, n.created, n.created, n.created)); err != nil {
					return err
				}
			}
			if isTextType(mc.dataType) {
				if err := execAll(ctx, conn, fmt.Sprintf("UPDATE %s SET %s = IF(CAST(%s AS UNSIGNED) < 1, NULL, FROM_UNIXTIME(CAST(%s AS UNSIGNED))) WHERE %s REGEXP '^[0-9]+$'", n.tbl, n.modified, n.modified, n.modified, n.modified)); err != nil {
					return err
				}
			}
			return execAll(ctx, conn,
				fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s TIMESTAMP DEFAULT current_timestamp() NOT NULL", n.tbl, n.created),
				fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s TIMESTAMP DEFAULT NULL NULL", n.tbl, n.modified))
		case Postgres:
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			var stmts []string
			if isIntegerType(cc.dataType) {
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE TIMESTAMP USING (to_timestamp(GREATEST(%s, 1)) AT TIME ZONE 'UTC')", n.tbl, n.created, n.created))
			}
			if isIntegerType(mc.dataType) {
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE TIMESTAMP USING (CASE WHEN %s IS NULL OR %s < 1 THEN NULL ELSE to_timestamp(%s) AT TIME ZONE 'UTC' END)", n.tbl, n.modified, n.modified, n.modified, n.modified))
			}
			stmts = append(stmts,
				fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC'), ALTER COLUMN %s SET NOT NULL", n.tbl, n.created, n.created),
				fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT NULL, ALTER COLUMN %s DROP NOT NULL", n.tbl, n.modified, n.modified))
			if err := execAll(ctx, tx, stmts...); err != nil {
				return err
			}
			return tx.Commit()
		default:
			return execAll(ctx, conn,
				fmt.Sprintf("UPDATE %s SET %s = datetime(MAX(%s, 1), 'unixepoch') WHERE typeof(%s) IN ('integer', 'real')", n.tbl, n.created, n.created, n.created),
				fmt.Sprintf("UPDATE %s SET %s = CASE WHEN %s < 1 THEN NULL ELSE datetime(%s, 'unixepoch') END WHERE typeof(%s) IN ('integer', 'real')", n.tbl, n.modified, n.modified, n.modified, n.modified))
		}
	})
	if err != nil {
		return fail(ctx, "upgrade incubator 3.4", err)
	}
	return nil
}

// UpgradeToNative turns a compatibility-layout table into the native layout
// and keeps every row: the ID column is widened to VARCHAR(255) (binary
// collation on MySQL), the text data becomes binary (its UTF-8 bytes, or the
// decoded bytes with Options.Base64), times become DATETIME(6) / TIMESTAMPTZ
// in UTC, expires_at is filled with COALESCE(modified_at, created_at) +
// MaxLifetime and indexed, version is 1 and owner is empty and indexed.
// PostgreSQL and SQLite do it in one transaction (SQLite rebuilds the
// table); MySQL in guarded steps, so that an interrupted run can be run
// again. Running it on a native table changes nothing. Stores opened on the
// table before the upgrade must be closed and opened again.
func UpgradeToNative(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	o.Layout = Native
	err = withConn(ctx, db, o.Dialect, func(conn *sql.Conn) error {
		ti, err := inspect(ctx, conn, o)
		if err != nil {
			return err
		}
		if ti == nil {
			return fmt.Errorf("%w: table %s does not exist", ErrSchema, o.Table)
		}
		for _, col := range []string{o.Columns.ID, o.Columns.Data, o.Columns.Created, o.Columns.Modified} {
			if _, ok := ti.get(col); !ok {
				return fmt.Errorf("%w: table %s has no column %s", ErrSchema, o.Table, col)
			}
		}
		switch o.Dialect {
		case MySQL:
			return upgradeMySQL(ctx, conn, o, ti)
		case Postgres:
			return upgradePostgres(ctx, conn, o, ti)
		}
		return upgradeSQLite(ctx, conn, o, ti)
	})
	if err != nil {
		return fail(ctx, "upgrade to native", err)
	}
	return nil
}

func upgradeMySQL(ctx context.Context, conn *sql.Conn, o Options, ti tableInfo) error {
	n := newNames(o)
	c := o.Columns
	idc, _ := ti.get(c.ID)
	if idc.maxChars < 255 || idc.collate != "utf8mb4_bin" {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL", n.tbl, n.id)); err != nil {
			return err
		}
	}
	dc, _ := ti.get(c.Data)
	if isTextType(dc.dataType) {
		tmpName := c.Data + "_sk_native"
		if len(tmpName) > 64 {
			tmpName = "sk_native_data"
		}
		tmp := quote(MySQL, tmpName)
		if _, ok := ti.get(tmpName); !ok {
			if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s LONGBLOB NULL", n.tbl, tmp)); err != nil {
				return err
			}
		}
		// The text's UTF-8 bytes, whatever the column's character set.
		conv := fmt.Sprintf("CAST(CONVERT(%s USING utf8mb4) AS BINARY)", n.data)
		if o.Base64 {
			conv = fmt.Sprintf("COALESCE(FROM_BASE64(%s), %s)", n.data, conv)
		}
		if err := execAll(ctx, conn,
			fmt.Sprintf("UPDATE %s SET %s = %s", n.tbl, tmp, conv),
			fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s, CHANGE COLUMN %s %s LONGBLOB NOT NULL", n.tbl, n.data, tmp, n.data)); err != nil {
			return err
		}
	}
	if cc, _ := ti.get(c.Created); cc.dataType == "timestamp" {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s DATETIME(6) NOT NULL", n.tbl, n.created)); err != nil {
			return err
		}
	}
	if mc, _ := ti.get(c.Modified); mc.dataType == "timestamp" {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s DATETIME(6) NULL DEFAULT NULL", n.tbl, n.modified)); err != nil {
			return err
		}
	}
	xc, ok := ti.get(c.Expires)
	if !ok {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s DATETIME(6) NULL", n.tbl, n.expires)); err != nil {
			return err
		}
		xc.nullable = true
	}
	if xc.nullable {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = COALESCE(%s, %s) + INTERVAL ? SECOND WHERE %s IS NULL", n.tbl, n.expires, n.modified, n.created, n.expires), int64(o.MaxLifetime/time.Second)); err != nil {
			return err
		}
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s DATETIME(6) NOT NULL", n.tbl, n.expires)); err != nil {
			return err
		}
	}
	if _, ok := ti.get(c.Version); !ok {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s BIGINT NOT NULL DEFAULT 1", n.tbl, n.version)); err != nil {
			return err
		}
	}
	if _, ok := ti.get(c.Owner); !ok {
		if err := execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT ''", n.tbl, n.owner)); err != nil {
			return err
		}
	}
	for _, col := range []struct{ name, q string }{{c.Expires, n.expires}, {c.Owner, n.owner}} {
		var one int
		err := conn.QueryRowContext(ctx, "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1 LIMIT 1",
			nullable(n.schema), n.table, col.name).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			idx, _ := n.index(col.name)
			err = execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD INDEX %s (%s)", n.tbl, idx, col.q))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func upgradePostgres(ctx context.Context, conn *sql.Conn, o Options, ti tableInfo) error {
	n := newNames(o)
	c := o.Columns
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var stmts []string
	if idc, _ := ti.get(c.ID); idc.maxChars > 0 && idc.maxChars < 255 {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE VARCHAR(255)", n.tbl, n.id))
	}
	if dc, _ := ti.get(c.Data); isTextType(dc.dataType) {
		conv := fmt.Sprintf("convert_to(%s, 'UTF8')", n.data)
		if o.Base64 {
			conv = fmt.Sprintf("decode(%s, 'base64')", n.data)
		}
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE BYTEA USING %s", n.tbl, n.data, conv))
	}
	if cc, _ := ti.get(c.Created); cc.dataType == "timestamp without time zone" {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT, ALTER COLUMN %s TYPE TIMESTAMPTZ USING (%s AT TIME ZONE 'UTC')", n.tbl, n.created, n.created, n.created))
	}
	if mc, _ := ti.get(c.Modified); mc.dataType == "timestamp without time zone" {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE TIMESTAMPTZ USING (%s AT TIME ZONE 'UTC')", n.tbl, n.modified, n.modified))
	}
	stmts = append(stmts,
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s TIMESTAMPTZ NULL", n.tbl, n.expires),
		fmt.Sprintf("UPDATE %s SET %s = COALESCE(%s, %s) + make_interval(secs => %d) WHERE %s IS NULL", n.tbl, n.expires, n.modified, n.created, int64(o.MaxLifetime/time.Second), n.expires),
		fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", n.tbl, n.expires),
		fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s BIGINT NOT NULL DEFAULT 1", n.tbl, n.version),
		fmt.Sprintf(`ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s VARCHAR(255) COLLATE "C" NOT NULL DEFAULT ''`, n.tbl, n.owner),
	)
	stmts = append(stmts, nativeIndexes(n, o)...)
	if err := execAll(ctx, tx, stmts...); err != nil {
		return err
	}
	return tx.Commit()
}

func upgradeSQLite(ctx context.Context, conn *sql.Conn, o Options, ti tableInfo) error {
	n := newNames(o)
	c := o.Columns
	idc, _ := ti.get(c.ID)
	dc, _ := ti.get(c.Data)
	_, hasX := ti.get(c.Expires)
	_, hasV := ti.get(c.Version)
	_, hasO := ti.get(c.Owner)
	if hasX && hasV && hasO && dc.dataType == "blob" && (idc.maxChars == 0 || idc.maxChars >= 255) {
		return execAll(ctx, conn, nativeIndexes(n, o)...)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	tmpOpts := o
	tmpOpts.Table = o.Table + "_sk_native"
	if n.schema == "" {
		tmpOpts.Table = n.table + "_sk_native"
	}
	tn := newNames(tmpOpts)
	if err := execAll(ctx, tx, fmt.Sprintf("DROP TABLE IF EXISTS %s", tn.tbl), nativeDDL(tn, tmpOpts)[0]); err != nil {
		return err
	}
	cols := []string{n.id, n.data, "CAST(" + n.created + " AS TEXT)", "CAST(" + n.modified + " AS TEXT)"}
	if hasX {
		cols = append(cols, "CAST("+n.expires+" AS TEXT)")
	} else {
		cols = append(cols, "NULL")
	}
	if hasV {
		cols = append(cols, n.version)
	} else {
		cols = append(cols, "1")
	}
	if hasO {
		cols = append(cols, n.owner)
	} else {
		cols = append(cols, "''")
	}
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), n.tbl))
	if err != nil {
		return err
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s, %s, %s, %s) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tn.tbl, tn.id, tn.data, tn.created, tn.modified, tn.expires, tn.version, tn.owner))
	if err != nil {
		return err
	}
	defer ins.Close()
	for rows.Next() {
		var (
			id         string
			data       []byte
			cr, mo, ex scanTime
			ver        sql.NullInt64
			owner      sql.NullString
		)
		if err := rows.Scan(&id, &data, &cr, &mo, &ex, &ver, &owner); err != nil {
			return err
		}
		if o.Base64 && !hasX {
			if b, err := base64.StdEncoding.DecodeString(string(data)); err == nil {
				data = b
			}
		}
		if data == nil {
			data = []byte{}
		}
		base := cr.t
		if mo.valid {
			base = mo.t
		}
		exp := base.Add(o.MaxLifetime)
		if ex.valid {
			exp = ex.t
		}
		v := ver.Int64
		if !ver.Valid || v == 0 {
			v = 1
		}
		var mod any
		if mo.valid {
			mod = mo.t.Format(sqliteNativeLayout)
		}
		if _, err := ins.ExecContext(ctx, id, data, cr.t.Format(sqliteNativeLayout), mod, exp.Format(sqliteNativeLayout), v, owner.String); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	_ = rows.Close()
	target := quote(SQLite, n.table)
	if err := execAll(ctx, tx, fmt.Sprintf("DROP TABLE %s", n.tbl), fmt.Sprintf("ALTER TABLE %s RENAME TO %s", tn.tbl, target)); err != nil {
		return err
	}
	if err := execAll(ctx, tx, nativeIndexes(n, o)...); err != nil {
		return err
	}
	return tx.Commit()
}
