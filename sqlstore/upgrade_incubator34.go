package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// UpgradeIncubator34 applies the incubator Database adapter's upgrade of a
// phalcon/incubator 3.4 table, whose created_at and modified_at hold Unix
// seconds in integer columns, to created_at TIMESTAMP DEFAULT
// current_timestamp() NOT NULL and modified_at TIMESTAMP DEFAULT NULL NULL,
// keeping every row's times (the adapter's two bare ALTER statements would
// read the integers as dates). On MySQL it finishes with those two ALTER
// statements; PostgreSQL converts in one transaction; SQLite, whose columns
// take any type, converts the values. Running it again changes nothing. A
// table of the native layout is refused with ErrSchema and left as it is.
func UpgradeIncubator34(ctx context.Context, db *sql.DB, opts Options) error {
	o, err := opts.withDefaults()
	if err != nil {
		return err
	}
	o.Layout = Compatibility
	n := newNames(o)
	c := o.Columns
	err = withConn(ctx, db, n, func(conn *sql.Conn, ti tableInfo) error {
		if ti.native(c) {
			return errNativeTable(o.Table, "UpgradeIncubator34", c)
		}
		cc, ok1 := ti.get(c.Created)
		mc, ok2 := ti.get(c.Modified)
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: table %s has no %s or %s column", ErrSchema, o.Table, c.Created, c.Modified)
		}
		return n.d.upgradeIncubator34(ctx, conn, n, cc, mc)
	})
	if err != nil {
		return fail(ctx, "upgrade incubator 3.4", err)
	}
	return nil
}

// upgradeIncubator34: integers become digit strings, digit strings become
// 'YYYY-MM-DD hh:mm:ss' in UTC, and the adapter's ALTERs turn those into
// TIMESTAMP. Each step is guarded, so an interrupted run can be run again.
func (d mysqlDialect) upgradeIncubator34(ctx context.Context, conn *sql.Conn, n names, cc, mc column) error {
	return d.inUTC(ctx, conn, func() error {
		var stmts []string
		for _, col := range []struct {
			c *column
			q string
		}{{&cc, n.created}, {&mc, n.modified}} {
			if isIntegerType(col.c.dataType) {
				stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s VARCHAR(32) NULL", n.tbl, col.q))
				col.c.dataType = "varchar"
			}
		}
		if isTextType(cc.dataType) {
			stmts = append(stmts, fmt.Sprintf("UPDATE %s SET %s = FROM_UNIXTIME(GREATEST(CAST(%s AS UNSIGNED), 1)) WHERE %s REGEXP '^[0-9]+$'", n.tbl, n.created, n.created, n.created))
		}
		if isTextType(mc.dataType) {
			stmts = append(stmts, fmt.Sprintf("UPDATE %s SET %s = IF(CAST(%s AS UNSIGNED) < 1, NULL, FROM_UNIXTIME(CAST(%s AS UNSIGNED))) WHERE %s REGEXP '^[0-9]+$'", n.tbl, n.modified, n.modified, n.modified, n.modified))
		}
		stmts = append(stmts,
			fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s TIMESTAMP DEFAULT current_timestamp() NOT NULL", n.tbl, n.created),
			fmt.Sprintf("ALTER TABLE %s MODIFY COLUMN %s TIMESTAMP DEFAULT NULL NULL", n.tbl, n.modified))
		return execAll(ctx, conn, stmts...)
	})
}

// upgradeIncubator34 converts both columns in one transaction.
func (postgresDialect) upgradeIncubator34(ctx context.Context, conn *sql.Conn, n names, cc, mc column) error {
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
	return inTx(ctx, conn, stmts...)
}

// upgradeIncubator34 converts the values: SQLite's columns take any type.
func (sqliteDialect) upgradeIncubator34(ctx context.Context, conn *sql.Conn, n names, _, _ column) error {
	return execAll(ctx, conn,
		fmt.Sprintf("UPDATE %s SET %s = datetime(MAX(%s, 1), 'unixepoch') WHERE typeof(%s) IN ('integer', 'real')", n.tbl, n.created, n.created, n.created),
		fmt.Sprintf("UPDATE %s SET %s = CASE WHEN %s < 1 THEN NULL ELSE datetime(%s, 'unixepoch') END WHERE typeof(%s) IN ('integer', 'real')", n.tbl, n.modified, n.modified, n.modified, n.modified))
}

// inTx runs stmts in one transaction on conn.
func inTx(ctx context.Context, conn *sql.Conn, stmts ...string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := execAll(ctx, tx, stmts...); err != nil {
		return err
	}
	return tx.Commit()
}
