package storeurl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/sessionkit/session/sqlstore"
)

// tableKind is what a session table looks like, judged from its columns.
type tableKind int

const (
	tableMissing     tableKind = iota // no such table
	tableIncubator34                  // created_at / modified_at hold Unix seconds (phalcon/incubator 3.4)
	tableCompat                       // Phalcon's incubator Database adapter's session_data table
	tableNative                       // sqlstore's native layout (expires_at, version)
	tableOther                        // none of these
)

// The columns the programs know the tables by (store URLs cannot rename
// them).
const (
	colID       = "session_id"
	colData     = "data"
	colCreated  = "created_at"
	colModified = "modified_at"
	colExpires  = "expires_at"
	colVersion  = "version"
)

// tableState is the result of inspecting a table.
type tableState struct {
	kind tableKind
	// why says, for tableOther, what does not fit.
	why string
}

// schemaError is an error about a table's schema whose message is written
// for the programs' users; it wraps sqlstore.ErrSchema, or the error of the
// store that it replaces.
type schemaError struct {
	msg string
	err error
}

func (e *schemaError) Error() string { return e.msg }
func (e *schemaError) Unwrap() error { return e.err }

// newSchemaError returns a schemaError with a formatted message, wrapping
// sqlstore.ErrSchema.
func newSchemaError(format string, a ...any) error {
	return &schemaError{msg: fmt.Sprintf(format, a...), err: sqlstore.ErrSchema}
}

// inspectTable reads the columns of table ([schema.]name) from the
// database's catalog and tells which schema it has.
func inspectTable(ctx context.Context, db *sql.DB, d sqlstore.Dialect, table string) (tableState, error) {
	schema, name := "", table
	if i := strings.LastIndex(table, "."); i >= 0 {
		schema, name = table[:i], table[i+1:]
	}
	var nullSchema any
	if schema != "" {
		nullSchema = schema
	}
	var (
		rows *sql.Rows
		err  error
	)
	switch d {
	case sqlstore.MySQL:
		rows, err = db.QueryContext(ctx, "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?", nullSchema, name)
	case sqlstore.Postgres:
		rows, err = db.QueryContext(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = $2", nullSchema, name)
	default:
		if schema == "" {
			schema = "main"
		}
		rows, err = db.QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?, ?)", name, schema)
	}
	if err != nil {
		return tableState{}, fmt.Errorf("inspect table %s: %w", table, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return tableState{}, fmt.Errorf("inspect table %s: %w", table, err)
		}
		cols[strings.ToLower(c)] = strings.ToLower(strings.TrimSpace(t))
	}
	if err := rows.Err(); err != nil {
		return tableState{}, fmt.Errorf("inspect table %s: %w", table, err)
	}
	if len(cols) == 0 {
		return tableState{kind: tableMissing}, nil
	}
	for _, c := range []string{colID, colData, colCreated, colModified} {
		if _, ok := cols[c]; !ok {
			return tableState{kind: tableOther, why: "it has no " + c + " column"}, nil
		}
	}
	_, hasExpires := cols[colExpires]
	_, hasVersion := cols[colVersion]
	if hasExpires || hasVersion {
		return tableState{kind: tableNative}, nil
	}
	ct, mt := cols[colCreated], cols[colModified]
	isInt := func(t string) bool { return strings.Contains(t, "int") }
	isText := func(t string) bool { return strings.Contains(t, "char") || strings.Contains(t, "text") }
	other := tableState{kind: tableOther, why: fmt.Sprintf("%s is %s and %s is %s", colCreated, ct, colModified, mt)}
	switch d {
	case sqlstore.MySQL:
		// Integers, or the text an interrupted upgrade leaves behind.
		seconds := func(t string) bool { return isInt(t) || isText(t) }
		switch {
		case (seconds(ct) || ct == "timestamp") && (seconds(mt) || mt == "timestamp") && (seconds(ct) || seconds(mt)):
			return tableState{kind: tableIncubator34}, nil
		case ct == "timestamp" && mt == "timestamp":
			return tableState{kind: tableCompat}, nil
		}
		return other, nil
	case sqlstore.Postgres:
		const ts = "timestamp without time zone"
		switch {
		case (isInt(ct) || ct == ts) && (isInt(mt) || mt == ts) && (isInt(ct) || isInt(mt)):
			return tableState{kind: tableIncubator34}, nil
		case ct == ts && mt == ts:
			return tableState{kind: tableCompat}, nil
		}
		return other, nil
	}
	// SQLite keeps the declared type (INTEGER on an incubator 3.4 table,
	// upgraded or not): the values tell.
	var one int
	err = db.QueryRowContext(ctx, fmt.Sprintf("SELECT 1 FROM %s WHERE typeof(%s) IN ('integer', 'real') OR typeof(%s) IN ('integer', 'real') LIMIT 1",
		quoteTable(d, table), quoteTable(d, colCreated), quoteTable(d, colModified))).Scan(&one)
	switch {
	case err == nil:
		return tableState{kind: tableIncubator34}, nil
	case errors.Is(err, sql.ErrNoRows):
		return tableState{kind: tableCompat}, nil
	}
	return tableState{}, fmt.Errorf("inspect table %s: %w", table, err)
}

// sqlSchema creates and upgrades one SQL table for Target.Migrate, after
// inspecting it, so that an upgrade never runs on a table it was not
// written for (the incubator 3.4 upgrade would turn a native table's
// DATETIME(6) columns into TIMESTAMP).
type sqlSchema struct {
	db     *sql.DB
	opts   sqlstore.Options // the URL's options
	server string           // where the database is, for messages
	table  string
	layout string // the URL's layout: "native" or "compat"
}

// where names the table and layout for messages.
func (s sqlSchema) where(layout string) string {
	return fmt.Sprintf("%s, table %s (%s layout)", s.server, s.table, layout)
}

// migrate does what m asks and returns a sentence saying where and what it
// did.
func (s sqlSchema) migrate(ctx context.Context, m MigrateOptions) (string, error) {
	layout := s.layout
	switch m.Layout {
	case "":
	case "native":
		layout = "native"
	case "compat", "compatibility":
		layout = "compat"
	default:
		return "", fmt.Errorf("%w: layout %q (want native or compat)", ErrUsage, m.Layout)
	}
	switch m.Upgrade {
	case "":
	case "incubator34":
		layout = "compat"
	case "native":
		layout = "native"
	default:
		return "", fmt.Errorf("%w: --upgrade %q (want incubator34 or native)", ErrUsage, m.Upgrade)
	}
	where := s.where(layout)
	st, err := inspectTable(ctx, s.db, s.opts.Dialect, s.table)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	done := func(what string) (string, error) { return where + ": " + what, nil }
	refuse := func(format string, a ...any) (string, error) {
		return "", newSchemaError("%s: %s", where, fmt.Sprintf(format, a...))
	}
	if st.kind == tableOther {
		return refuse("not a session table of either layout (%s); refusing to change it", st.why)
	}
	switch m.Upgrade {
	case "incubator34":
		switch st.kind {
		case tableMissing:
			return refuse("no such table")
		case tableNative:
			return refuse("the table is in the native layout, not the incubator 3.4 schema; refusing to change it")
		case tableCompat:
			return done("already up to date (created_at and modified_at hold times, not Unix seconds)")
		}
		if err := s.upgradeIncubator34(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		return done("upgraded from the incubator 3.4 schema (Unix seconds) to the compatibility layout (TIMESTAMP), every row's times kept")
	case "native":
		switch st.kind {
		case tableMissing:
			return refuse("no such table")
		case tableIncubator34:
			return refuse("the table has the incubator 3.4 schema; upgrade it first with: sessionctl migrate --upgrade incubator34")
		case tableNative:
			return done("already up to date")
		}
		if err := s.upgradeToNative(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		return done("upgraded from the compatibility layout to the native layout, every row kept")
	}
	if st.kind == tableMissing {
		o := s.opts
		o.Layout = sqlstore.Native
		if layout == "compat" {
			o.Layout = sqlstore.Compatibility
		}
		if err := sqlstore.CreateSchema(ctx, s.db, o); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		return done("created")
	}
	if layout == "compat" {
		switch st.kind {
		case tableNative:
			return refuse("the table is in the native layout, which cannot go back to the compatibility layout (open it without layout=compat)")
		case tableCompat:
			return done("already up to date")
		}
		if err := s.upgradeIncubator34(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		return done("upgraded from the incubator 3.4 schema (Unix seconds), every row's times kept")
	}
	switch st.kind {
	case tableNative:
		return done("already up to date")
	case tableIncubator34:
		if err := s.upgradeIncubator34(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		if err := s.upgradeToNative(ctx); err != nil {
			return "", fmt.Errorf("%s: %w", where, err)
		}
		return done("upgraded from the incubator 3.4 schema to the native layout, every row kept")
	}
	if err := s.upgradeToNative(ctx); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return done("upgraded from the compatibility layout to the native layout, every row kept")
}

func (s sqlSchema) upgradeIncubator34(ctx context.Context) error {
	o := s.opts
	o.Layout = sqlstore.Compatibility
	return sqlstore.UpgradeIncubator34(ctx, s.db, o)
}

func (s sqlSchema) upgradeToNative(ctx context.Context) error {
	o := s.opts
	o.Layout = sqlstore.Native
	return sqlstore.UpgradeToNative(ctx, s.db, o)
}

// fits checks, before the store is opened, that the table exists and has
// the URL's layout, and says what to do when it does not. Stores are not
// opened on a table of the other layout: a compat store would write rows
// without the native columns' values.
func (s sqlSchema) fits(ctx context.Context) error {
	st, err := inspectTable(ctx, s.db, s.opts.Dialect, s.table)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.where(s.layout), err)
	}
	var msg string
	switch {
	case st.kind == tableMissing && s.layout == "compat":
		msg = "no such table (create it with: sessionctl migrate --layout compat)"
	case st.kind == tableMissing:
		msg = "no such table (create it with: sessionctl migrate)"
	case st.kind == tableIncubator34 && s.layout == "compat":
		msg = "the table has the incubator 3.4 schema (upgrade it with: sessionctl migrate --upgrade incubator34)"
	case st.kind == tableIncubator34:
		msg = "the table has the incubator 3.4 schema (add layout=compat to the URL, then upgrade it with: sessionctl migrate --upgrade incubator34)"
	case st.kind == tableCompat && s.layout == "native":
		msg = "the table is in the compatibility layout (add layout=compat to the URL, or upgrade it with: sessionctl migrate --upgrade native)"
	case st.kind == tableNative && s.layout == "compat":
		msg = "the table is in the native layout (remove layout=compat from the URL)"
	case st.kind == tableOther:
		msg = "not a session table of either layout (" + st.why + ")"
	default:
		return nil
	}
	return newSchemaError("open %s: %s", s.where(s.layout), msg)
}
