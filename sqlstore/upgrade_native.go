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

// UpgradeToNative turns a compatibility-layout table into the native layout
// and keeps every row: the ID column is widened to VARCHAR(255) (binary
// collation on MySQL), the text data becomes binary (its UTF-8 bytes, or the
// decoded bytes with Options.Base64), times become DATETIME(6) / TIMESTAMPTZ
// in UTC, expires_at is filled with COALESCE(modified_at, created_at) +
// MaxLifetime and indexed, version is 1 and owner is empty and indexed, and
// the version trigger is created. PostgreSQL and SQLite do it in one
// transaction (SQLite rebuilds the table); MySQL in guarded steps, so that
// an interrupted run can be run again. On a native table it adds only what
// is missing (an older native table gets the trigger). Stores opened on the
// table before the upgrade must be closed and opened again.
func UpgradeToNative(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	o.Layout = Native
	n := newNames(o)
	err = withConn(ctx, db, n, func(conn *sql.Conn, ti tableInfo) error {
		for _, col := range []string{o.Columns.ID, o.Columns.Data, o.Columns.Created, o.Columns.Modified} {
			if _, ok := ti.get(col); !ok {
				return fmt.Errorf("%w: table %s has no column %s", ErrSchema, o.Table, col)
			}
		}
		return n.d.upgradeToNative(ctx, conn, n, ti)
	})
	if err != nil {
		return fail(ctx, "upgrade to native", err)
	}
	return nil
}

// upgradeToNative converts in guarded steps, in a UTC session.
func (d mysqlDialect) upgradeToNative(ctx context.Context, conn *sql.Conn, n names, ti tableInfo) error {
	return d.inUTC(ctx, conn, func() error { return mysqlToNative(ctx, conn, n, ti) })
}

func mysqlToNative(ctx context.Context, conn *sql.Conn, n names, ti tableInfo) error {
	o, c := n.o, n.o.Columns
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
		tmp := n.d.quote(tmpName)
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
	oc, ok := ti.get(c.Owner)
	if !ok || isTextType(oc.dataType) && !mysqlExact(oc.collate) {
		exact, err := mysqlExactCollation(ctx, conn)
		if err != nil {
			return err
		}
		stmt := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s VARCHAR(255) CHARACTER SET utf8mb4 COLLATE %s NOT NULL DEFAULT ''", n.tbl, n.owner, exact)
		if ok {
			// An owner column that ignores trailing spaces (utf8mb4_bin,
			// as CreateSchema made it before), case or accents: the same
			// length, compared byte for byte.
			stmt = fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(%d) CHARACTER SET utf8mb4 COLLATE %s NOT NULL DEFAULT ''", n.tbl, n.owner, max(oc.maxChars, 255), exact)
		}
		if err := execAll(ctx, conn, stmt); err != nil {
			return err
		}
	}
	for _, col := range []struct{ name, q string }{{c.Expires, n.expires}, {c.Owner, n.owner}} {
		var one int
		err := conn.QueryRowContext(ctx, "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ? AND SEQ_IN_INDEX = 1 LIMIT 1",
			nullable(n.schema), n.table, col.name).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			err = execAll(ctx, conn, fmt.Sprintf("ALTER TABLE %s ADD INDEX %s (%s)", n.tbl, n.index(col.name), col.q))
		}
		if err != nil {
			return err
		}
	}
	return execAll(ctx, conn, mysqlTrigger(n))
}

// upgradeToNative converts in one transaction.
func (postgresDialect) upgradeToNative(ctx context.Context, conn *sql.Conn, n names, ti tableInfo) error {
	o, c := n.o, n.o.Columns
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
	if oc, ok := ti.get(c.Owner); ok && oc.collate != "" && oc.collate != "c" && oc.collate != "posix" {
		// An owner column under a collation of its own, which may be
		// nondeterministic (case- or accent-insensitive): compared byte
		// for byte, like the native table's.
		typ := "TEXT"
		if oc.maxChars > 0 {
			typ = fmt.Sprintf("VARCHAR(%d)", oc.maxChars)
		}
		stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s ALTER COLUMN %s TYPE %s COLLATE "C"`, n.tbl, n.owner, typ))
	}
	stmts = append(append(stmts, n.indexes()...), postgresTrigger(n)...)
	return inTx(ctx, conn, stmts...)
}

// upgradeToNative rebuilds the table in one transaction.
func (sqliteDialect) upgradeToNative(ctx context.Context, conn *sql.Conn, n names, ti tableInfo) error {
	o, c := n.o, n.o.Columns
	idc, _ := ti.get(c.ID)
	dc, _ := ti.get(c.Data)
	_, hasX := ti.get(c.Expires)
	_, hasV := ti.get(c.Version)
	_, hasO := ti.get(c.Owner)
	if hasX && hasV && hasO && dc.dataType == "blob" && (idc.maxChars == 0 || idc.maxChars >= 255) {
		return execAll(ctx, conn, append(n.indexes(), sqliteTrigger(n))...)
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
	create, err := tn.d.ddl(ctx, tx, tn, Native)
	if err != nil {
		return err
	}
	if err := execAll(ctx, tx, fmt.Sprintf("DROP TABLE IF EXISTS %s", tn.tbl), create[0]); err != nil {
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
	target := n.d.quote(n.table)
	if err := execAll(ctx, tx, fmt.Sprintf("DROP TABLE %s", n.tbl), fmt.Sprintf("ALTER TABLE %s RENAME TO %s", tn.tbl, target)); err != nil {
		return err
	}
	if err := execAll(ctx, tx, append(n.indexes(), sqliteTrigger(n))...); err != nil {
		return err
	}
	return tx.Commit()
}
