package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// column describes one column as the database catalog reports it.
type column struct {
	name     string
	dataType string // lower case, without length: "varchar", "text", "timestamp" ...
	maxChars int64  // declared character length, 0 when none
	maxBytes int64  // byte capacity for MySQL string and blob types, 0 when unknown
	nullable bool
	collate  string // collation name, lower case; "" for the default (PostgreSQL) or when unknown (SQLite)
}

// tableInfo maps lower-cased column names to their description; nil when the
// table does not exist.
type tableInfo map[string]column

func (ti tableInfo) get(name string) (column, bool) {
	c, ok := ti[strings.ToLower(name)]
	return c, ok
}

// native reports whether the table has the native layout's own columns
// (expiry and version), which the compatibility layout never writes.
func (ti tableInfo) native(c Columns) bool {
	_, e := ti.get(c.Expires)
	_, v := ti.get(c.Version)
	return e && v
}

// errNativeTable is the error of an operation on the compatibility layout
// that finds a native table.
func errNativeTable(table, op string, c Columns) error {
	return fmt.Errorf("%w: table %s has the native layout (columns %s and %s): %s applies to the compatibility layout only", ErrSchema, table, c.Expires, c.Version, op)
}

var declLenRE = regexp.MustCompile(`^\s*([A-Za-z ]+)\s*(?:\(\s*(\d+)\s*(?:,\s*\d+\s*)?\))?.*$`)

// inspect reads the columns of the table of n from the catalog.
func inspect(ctx context.Context, q queryer, n names) (tableInfo, error) {
	o := n.o
	rows, err := n.d.catalog(ctx, q, n.schema, n.table)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: inspect table %s: %w", o.Table, err)
	}
	defer rows.Close()
	ti := tableInfo{}
	for rows.Next() {
		var (
			c        column
			null     string
			maxChars sql.NullInt64
			maxBytes sql.NullInt64
		)
		if err := rows.Scan(&c.name, &c.dataType, &maxChars, &maxBytes, &null, &c.collate); err != nil {
			return nil, fmt.Errorf("sqlstore: inspect table %s: %w", o.Table, err)
		}
		c.maxChars, c.maxBytes = maxChars.Int64, maxBytes.Int64
		c.nullable = strings.EqualFold(null, "YES")
		c.collate = strings.ToLower(c.collate)
		c.dataType = strings.ToLower(strings.TrimSpace(c.dataType))
		if strings.Contains(c.dataType, "(") {
			// A declared type such as SQLite's "VARCHAR(35)" or
			// "int(15) unsigned" (catalogs report the length apart).
			if m := declLenRE.FindStringSubmatch(c.dataType); m != nil {
				c.dataType = strings.TrimSpace(m[1])
				if m[2] != "" && c.maxChars == 0 {
					c.maxChars, _ = strconv.ParseInt(m[2], 10, 64)
				}
			}
		}
		ti[strings.ToLower(c.name)] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: inspect table %s: %w", o.Table, err)
	}
	if len(ti) == 0 {
		return nil, nil
	}
	return ti, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// queryer is what inspect needs: *sql.DB, *sql.Conn and *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func isTextType(t string) bool {
	switch t {
	case "text", "tinytext", "mediumtext", "longtext", "varchar", "char", "character varying", "character", "clob", "nvarchar", "nchar":
		return true
	}
	return strings.Contains(t, "char") || strings.Contains(t, "text") || strings.Contains(t, "clob")
}

func isIntegerType(t string) bool {
	return strings.Contains(t, "int")
}
