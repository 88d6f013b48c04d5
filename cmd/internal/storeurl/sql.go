package storeurl

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/sessionkit/session/sqlstore"
)

func init() {
	register(openSQL, []string{"table", "layout", "max_lifetime", "base64"}, "sqlite", "sqlite3", "mysql", "mariadb", "postgres", "postgresql")
}

// sqlDB is how to reach one database of the three dialects.
type sqlDB struct {
	driver, dsn, where string
	dialect            sqlstore.Dialect
	file               string     // SQLite's database file (absolute)
	query              url.Values // SQLite's driver parameters
}

// dsnFor returns the DSN, for SQLite opened in mode.
func (st sqlDB) dsnFor(mode sqliteMode) string {
	if st.file == "" {
		return st.dsn
	}
	return sqliteDSN(st.file, st.query, mode)
}

// sqlTarget turns a URL into a driver name, DSN and dialect.
func sqlTarget(u *url.URL) (sqlDB, error) {
	switch strings.ToLower(u.Scheme) {
	case "sqlite", "sqlite3":
		path, err := pathOf(u)
		if err != nil {
			return sqlDB{}, err
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		q := u.Query()
		for k := range q {
			if !strings.HasPrefix(k, "_") { // the driver's own parameters: _pragma, _txlock, _time_format
				return sqlDB{}, fmt.Errorf("%w: sqlite: unknown parameter %q", ErrUsage, k)
			}
		}
		return sqlDB{driver: "sqlite", where: "SQLite file " + path, dialect: sqlstore.SQLite, file: path, query: q}, nil
	case "mysql", "mariadb":
		cfg := mysql.NewConfig()
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.Net = "tcp"
		cfg.Addr = u.Host
		if u.Port() == "" && u.Host != "" {
			cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
		if u.Host == "" {
			return sqlDB{}, fmt.Errorf("%w: mysql: no host (mysql://user:pass@host:3306/db)", ErrUsage)
		}
		cfg.DBName = strings.Trim(u.Path, "/")
		if cfg.DBName == "" {
			return sqlDB{}, fmt.Errorf("%w: mysql: no database name (mysql://user:pass@host:3306/db)", ErrUsage)
		}
		cfg.ParseTime = true
		dsn := cfg.FormatDSN()
		if extra := u.Query(); len(extra) > 0 {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + extra.Encode()
			if _, err := mysql.ParseDSN(dsn); err != nil {
				return sqlDB{}, fmt.Errorf("%w: mysql: %v", ErrUsage, err)
			}
		}
		return sqlDB{driver: "mysql", dsn: dsn, where: fmt.Sprintf("MySQL %s database %s", cfg.Addr, cfg.DBName), dialect: sqlstore.MySQL}, nil
	default: // postgres, postgresql: pgx reads the URL itself
		if u.Host == "" {
			return sqlDB{}, fmt.Errorf("%w: postgres: no host (postgres://user:pass@host:5432/db)", ErrUsage)
		}
		db := strings.Trim(u.Path, "/")
		return sqlDB{driver: "pgx", dsn: u.String(), where: fmt.Sprintf("PostgreSQL %s database %s", u.Host, db), dialect: sqlstore.Postgres}, nil
	}
}

// openSQL opens a SQL store. Parameters: layout=native|compat,
// table=[schema.]NAME (default session_data), max_lifetime (compat), and
// base64=true (compat: data base64-encoded in the text column). A SQLite
// file is created only for Setup and SchemaOnly, and opened read-only for
// ReadOnly.
func openSQL(ctx context.Context, u *url.URL, p *params, o Options) (*Target, error) {
	st, err := sqlTarget(u)
	if err != nil {
		return nil, err
	}
	b64, err := p.bool("base64")
	if err != nil {
		return nil, err
	}
	opts := sqlstore.Options{Dialect: st.dialect, Table: p.get("table"), MaxLifetime: p.maxLifetime, Base64: b64}
	if p.layout == "compat" {
		opts.Layout = sqlstore.Compatibility
	}
	table := opts.Table
	if table == "" {
		table = "session_data"
	}
	schema := sqlSchema{opts: opts, server: st.where, table: table, layout: p.layout}
	where := schema.where(p.layout)
	mode := sqliteReadWrite
	switch {
	case o.Setup || o.SchemaOnly:
		mode = sqliteCreate
	case o.ReadOnly:
		mode = sqliteReadOnly
	}
	if st.file != "" {
		if err := prepareSQLiteFile(st.file, mode); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open(st.driver, st.dsnFor(mode))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	schema.db = db
	t := &Target{Where: where, MaxLifetime: p.maxLifetime}
	if t.MaxLifetime == 0 && p.layout == "compat" {
		t.MaxLifetime = defaultMaxLifetime
	}
	t.closers = append(t.closers, db.Close)
	if err := db.PingContext(ctx); err != nil {
		t.Close()
		return nil, fmt.Errorf("connect to %s: %w", st.where, err)
	}
	t.migrate = schema.migrate
	if o.SchemaOnly {
		return p.finish(t)
	}
	if o.Setup {
		if _, err := t.migrate(ctx, MigrateOptions{}); err != nil {
			t.Close()
			return nil, fmt.Errorf("create the session table: %w", err)
		}
	}
	if err := schema.fits(ctx); err != nil {
		t.Close()
		return nil, err
	}
	if st.file != "" && mode != sqliteReadOnly {
		// SQLite has one writer: give it one connection, kept open, and
		// serve reads from a read-only pool, as sqlstore.OpenSQLite does.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		ro, err := sql.Open(st.driver, st.dsnFor(sqliteReadOnly))
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		n := max(4, runtime.GOMAXPROCS(0))
		ro.SetMaxOpenConns(n)
		ro.SetMaxIdleConns(n)
		t.closers = append(t.closers, ro.Close)
		opts.ReadDB = ro
	}
	var closeStore func() error
	if opts.Layout == sqlstore.Compatibility {
		s, err := sqlstore.NewCompat(ctx, db, opts)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("open %s: %w", where, err)
		}
		t.Store, closeStore = s, s.Close
		t.NoOwners = !s.HasOwner()
	} else {
		s, err := sqlstore.New(ctx, db, opts)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("open %s: %w", where, err)
		}
		t.Store, closeStore = s, s.Close
	}
	t.closers = append(t.closers, closeStore)
	return p.finish(t)
}

// quoteTable quotes a [schema.]table name (validated by sqlstore's
// identifier rules before any statement runs).
func quoteTable(d sqlstore.Dialect, table string) string {
	q := `"`
	if d == sqlstore.MySQL {
		q = "`"
	}
	parts := strings.Split(table, ".")
	for i, p := range parts {
		parts[i] = q + strings.ReplaceAll(p, q, q+q) + q
	}
	return strings.Join(parts, ".")
}
