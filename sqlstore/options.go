package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Dialect selects the SQL flavour of the database behind the *sql.DB.
type Dialect int

// The supported dialects.
const (
	// MySQL is MySQL 8 or MariaDB 10.5 and later.
	MySQL Dialect = iota + 1
	// Postgres is PostgreSQL 12 and later.
	Postgres
	// SQLite is SQLite 3.35 and later.
	SQLite
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case MySQL:
		return "mysql"
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Layout selects the table layout that [CreateSchema] and [Migrate] create.
type Layout int

// The table layouts.
const (
	// Native is the default layout: binary data, an indexed expiry, a
	// version and an indexed owner column. Used by [New].
	Native Layout = iota
	// Compatibility is the incubator Database adapter's session_data table, shared with PHP
	// applications. Used by [NewCompat].
	Compatibility
)

// String returns the layout's name.
func (l Layout) String() string {
	switch l {
	case Native:
		return "native"
	case Compatibility:
		return "compatibility"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// Columns names the table's columns, like the incubator Database adapter's column_* options. Empty
// fields take the default names.
type Columns struct {
	// ID is the session ID column (default "session_id").
	ID string
	// Data is the session data column (default "data").
	Data string
	// Created is the creation time column (default "created_at").
	Created string
	// Modified is the modification time column (default "modified_at").
	Modified string
	// Expires is the expiry column of the native layout (default
	// "expires_at").
	Expires string
	// Version is the version column of the native layout (default
	// "version").
	Version string
	// Owner is the owner column (default "owner"). The native layout
	// requires it; the compatibility layout uses it when the table has it.
	Owner string
}

// Options configure a store and the schema functions.
type Options struct {
	// Dialect of the database. Required.
	Dialect Dialect
	// Layout created by CreateSchema and Migrate. New requires Native;
	// NewCompat sets Compatibility.
	Layout Layout
	// Table is the table name (default "session_data"), optionally
	// qualified by a schema (database on MySQL) as "schema.table".
	Table string
	// Columns names the columns.
	Columns Columns
	// MaxLifetime is PHP's session.gc_maxlifetime for the compatibility
	// layout: a record expires at COALESCE(modified_at, created_at) +
	// MaxLifetime (default 1440s, PHP's default). UpgradeToNative uses it to
	// fill expires_at.
	MaxLifetime time.Duration
	// Base64 stores data base64-encoded in the compatibility layout's text
	// column, so that any bytes fit. PHP cannot read such rows. Without it,
	// data that is not valid UTF-8 is refused with session.ErrUnsupported.
	Base64 bool
	// MaxKeyLength is the longest key accepted, in characters. 0 reads it
	// from the ID column's declared length (VARCHAR(35) gives 35); keys
	// longer than that are refused with session.ErrInvalidKey, never
	// truncated.
	MaxKeyLength int
	// GCBatch is how many rows one GC statement deletes at most (default
	// 1000).
	GCBatch int
	// IterateBatch is how many rows one Iterate query reads (default 200).
	IterateBatch int
	// Now is the clock (default time.Now). Its value is converted to UTC.
	// The database's clock is never used.
	Now func() time.Time
	// ReadDB, on SQLite, is a pool that serves the store's reads (Load,
	// Iterate, OwnerKeys, CountExpired), while the *sql.DB given to New or
	// NewCompat serves its writes: see [OpenSQLite], which opens both. Nil
	// (the default): that *sql.DB serves both. New and NewCompat refuse it
	// on the other dialects, where a replica's lag would let a request
	// miss its own writes. The schema functions ignore it.
	ReadDB *sql.DB
}

const (
	defaultTable       = "session_data"
	defaultMaxLifetime = 1440 * time.Second
	defaultGCBatch     = 1000
	defaultIterBatch   = 200
)

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// errOptions is wrapped by every error about invalid Options.
var errOptions = errors.New("sqlstore: invalid options")

func (o Options) withDefaults() (Options, error) {
	switch o.Dialect {
	case MySQL, Postgres, SQLite:
	case 0:
		return o, fmt.Errorf("%w: Dialect is required (sqlstore.MySQL, sqlstore.Postgres or sqlstore.SQLite)", errOptions)
	default:
		return o, fmt.Errorf("%w: unknown %v", errOptions, o.Dialect)
	}
	if o.Layout != Native && o.Layout != Compatibility {
		return o, fmt.Errorf("%w: unknown %v", errOptions, o.Layout)
	}
	if o.Table == "" {
		o.Table = defaultTable
	}
	parts := strings.Split(o.Table, ".")
	if len(parts) > 2 {
		return o, fmt.Errorf("%w: table %q: at most one schema qualifier", errOptions, o.Table)
	}
	for _, p := range parts {
		if !identRE.MatchString(p) {
			return o, fmt.Errorf("%w: table %q: names must match %s", errOptions, o.Table, identRE)
		}
	}
	c := &o.Columns
	for _, f := range []struct {
		p   *string
		def string
	}{
		{&c.ID, "session_id"}, {&c.Data, "data"}, {&c.Created, "created_at"}, {&c.Modified, "modified_at"},
		{&c.Expires, "expires_at"}, {&c.Version, "version"}, {&c.Owner, "owner"},
	} {
		if *f.p == "" {
			*f.p = f.def
		}
		if !identRE.MatchString(*f.p) {
			return o, fmt.Errorf("%w: column %q: names must match %s", errOptions, *f.p, identRE)
		}
	}
	seen := map[string]bool{}
	for _, n := range []string{c.ID, c.Data, c.Created, c.Modified, c.Expires, c.Version, c.Owner} {
		if seen[strings.ToLower(n)] {
			return o, fmt.Errorf("%w: column %q named twice", errOptions, n)
		}
		seen[strings.ToLower(n)] = true
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = defaultMaxLifetime
	}
	if o.MaxLifetime < time.Second {
		return o, fmt.Errorf("%w: MaxLifetime %v is less than a second", errOptions, o.MaxLifetime)
	}
	if o.MaxKeyLength < 0 {
		return o, fmt.Errorf("%w: negative MaxKeyLength", errOptions)
	}
	if o.GCBatch <= 0 {
		o.GCBatch = defaultGCBatch
	}
	if o.IterateBatch <= 0 {
		o.IterateBatch = defaultIterBatch
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// schemaAndTable splits o.Table into its schema ("" when unqualified) and
// table name.
func (o Options) schemaAndTable() (schema, table string) {
	if i := strings.IndexByte(o.Table, '.'); i >= 0 {
		return o.Table[:i], o.Table[i+1:]
	}
	return "", o.Table
}
