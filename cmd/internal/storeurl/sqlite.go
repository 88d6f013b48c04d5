package storeurl

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/sessionkit/session/sqlstore"
)

// ErrNoDatabase means a SQLite file that a command only reads or changes
// does not exist: it is not created behind the user's back.
var ErrNoDatabase = errors.New("no such database")

// sqliteMode is how a SQLite file is opened.
type sqliteMode string

// The modes of SQLite's file: URIs that the programs use.
const (
	sqliteReadOnly  sqliteMode = "ro"  // ls, show, stats, gc --dry-run
	sqliteReadWrite sqliteMode = "rw"  // gc, rm: the file must exist
	sqliteCreate    sqliteMode = "rwc" // migrate, the demo: created when missing
)

// sqliteDSN returns the modernc.org/sqlite DSN of the database file path
// (absolute), opened in mode: sqlstore.SQLiteDSN's (busy_timeout of 5 s,
// WAL, immediate transactions) with the URL's driver parameters q (_pragma,
// _txlock, _time_format) in place of the defaults they set. A read-only
// connection leaves the journal mode alone: it cannot switch a database to
// WAL, and one already in WAL stays so.
func sqliteDSN(path string, q url.Values, mode sqliteMode) string {
	base, rawQuery, _ := strings.Cut(sqlstore.SQLiteDSN(path), "?")
	defaults, err := url.ParseQuery(rawQuery)
	if err != nil {
		defaults = url.Values{}
	}
	pragmaName := func(p string) string {
		name, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(p)), "(")
		return strings.TrimSpace(name)
	}
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	set := map[string]bool{}
	for _, p := range out["_pragma"] {
		set[pragmaName(p)] = true
	}
	for k, v := range defaults {
		if k != "_pragma" {
			if !out.Has(k) {
				out[k] = v
			}
			continue
		}
		for _, p := range v {
			name := pragmaName(p)
			if set[name] || (mode == sqliteReadOnly && name == "journal_mode") {
				continue
			}
			out.Add("_pragma", p)
		}
	}
	out.Set("mode", string(mode))
	return base + "?" + out.Encode()
}

// prepareSQLiteFile checks that path exists, or creates its directory when
// mode creates the database.
func prepareSQLiteFile(path string, mode sqliteMode) error {
	if mode == sqliteCreate {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: SQLite file %s does not exist (create it with: sessionctl migrate)", ErrNoDatabase, path)
	case err != nil:
		return fmt.Errorf("sqlite: %w", err)
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a directory, not a SQLite file", ErrNoDatabase, path)
	}
	return nil
}
