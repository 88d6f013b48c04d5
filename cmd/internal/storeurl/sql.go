package storeurl

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

func init() {
	register(openSQL, []string{"table", "layout", "max_lifetime", "base64"}, "sqlite", "sqlite3", "mysql", "mariadb", "postgres", "postgresql")
}

// sqlDB is a database/sql handle on one of the three dialects.
type sqlDB struct {
	driver, dsn, where string
	dialect            sqlstore.Dialect
	file               string // SQLite's database file

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
		if !q.Has("_pragma") {
			// Wait for a lock rather than fail at once, and let readers and
			// one writer work side by side.
			q["_pragma"] = []string{"busy_timeout(10000)", "journal_mode(WAL)"}
		}
		return sqlDB{driver: "sqlite", dsn: "file:" + path + "?" + q.Encode(), where: "SQLite file " + path, dialect: sqlstore.SQLite, file: path}, nil
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
// base64=true (compat: data base64-encoded in the text column).
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
	where := fmt.Sprintf("%s, table %s (%s layout)", st.where, table, p.layout)
	if st.file != "" {
		if err := os.MkdirAll(filepath.Dir(st.file), 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	db, err := sql.Open(st.driver, st.dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	t := &Target{Where: where}
	t.closers = append(t.closers, db.Close)
	if err := db.PingContext(ctx); err != nil {
		t.Close()
		return nil, fmt.Errorf("connect to %s: %w", st.where, err)
	}
	t.migrate = func(ctx context.Context, m MigrateOptions) (string, error) {
		mo := opts
		switch m.Layout {
		case "":
		case "native":
			mo.Layout = sqlstore.Native
		case "compat", "compatibility":
			mo.Layout = sqlstore.Compatibility
		default:
			return "", fmt.Errorf("%w: layout %q (want native or compat)", ErrUsage, m.Layout)
		}
		switch m.Upgrade {
		case "":
			if err := sqlstore.Migrate(ctx, db, mo); err != nil {
				return "", err
			}
			return fmt.Sprintf("table %s is in the %s layout (created or upgraded when needed)", table, mo.Layout), nil
		case "incubator34":
			if err := sqlstore.UpgradeIncubator34(ctx, db, mo); err != nil {
				return "", err
			}
			return fmt.Sprintf("table %s upgraded from the incubator 3.4 schema to the seed's session_data schema", table), nil
		case "native":
			if err := sqlstore.UpgradeToNative(ctx, db, mo); err != nil {
				return "", err
			}
			return fmt.Sprintf("table %s upgraded to the native layout", table), nil
		}
		return "", fmt.Errorf("%w: --upgrade %q (want incubator34 or native)", ErrUsage, m.Upgrade)
	}
	if o.SchemaOnly {
		return p.finish(t)
	}
	if o.Setup {
		if _, err := t.migrate(ctx, MigrateOptions{}); err != nil {
			t.Close()
			return nil, fmt.Errorf("create the session table in %s: %w", st.where, err)
		}
	}
	var closeStore func() error
	if opts.Layout == sqlstore.Compatibility {
		s, err := sqlstore.NewCompat(ctx, db, opts)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("open %s: %w (create it with: sessionctl migrate --layout compat)", where, err)
		}
		t.Store, closeStore = s, s.Close
		t.NoOwners = !s.HasOwner()
	} else {
		s, err := sqlstore.New(ctx, db, opts)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("open %s: %w (create it with: sessionctl migrate)", where, err)
		}
		t.Store, closeStore = s, s.Close
	}
	t.closers = append(t.closers, closeStore)
	count := fmt.Sprintf("SELECT COUNT(*) FROM %s", quoteTable(st.dialect, table))
	t.countExpired = func(ctx context.Context) (int, error) {
		return storedMinusLive(ctx, t.Store, func(ctx context.Context) (int, error) {
			var n int
			err := db.QueryRowContext(ctx, count).Scan(&n)
			return n, err
		})
	}
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

// storedMinusLive counts expired records still stored: every stored record
// (by total) less the live ones (by the store's iterator). Records saved or
// deleted meanwhile make it approximate.
func storedMinusLive(ctx context.Context, s session.Store, total func(context.Context) (int, error)) (int, error) {
	it, ok := s.(session.Iterator)
	if !ok {
		return 0, fmt.Errorf("cannot count live records: %w", session.ErrUnsupported)
	}
	all, err := total(ctx)
	if err != nil {
		return 0, err
	}
	live := 0
	if err := it.Iterate(ctx, func(string, session.Record) bool { live++; return true }); err != nil {
		return 0, err
	}
	return max(all-live, 0), nil
}
