package sqlstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sessionkit/session"
)

// TestClassify: the drivers' own error types for a deadlock, a lock wait
// timeout, a serialization failure or (Galera) a lost certification are
// conflicts, also when wrapped; other errors are left as they are.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		d        dialect
		err      error
		conflict bool
	}{
		{mysqlDialect{}, &mysql.MySQLError{Number: 1213, SQLState: [5]byte{'4', '0', '0', '0', '1'}, Message: "Deadlock found when trying to get lock; try restarting transaction"}, true},
		{mysqlDialect{}, fmt.Errorf("commit: %w", &mysql.MySQLError{Number: 1213}), true},
		{mysqlDialect{}, &mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}, true},
		{mysqlDialect{}, &mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, false},
		{mysqlDialect{}, errors.New("Error 1213: a message is not an error number"), false},
		{postgresDialect{}, &pgconn.PgError{Code: "40001", Message: "could not serialize access due to concurrent update"}, true},
		{postgresDialect{}, fmt.Errorf("update: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}), true},
		{postgresDialect{}, &pgconn.PgError{Code: "23505"}, false},
		{sqliteDialect{}, errors.New("database is locked (5) (SQLITE_BUSY)"), false},
	} {
		got := c.d.classify(c.err)
		if errors.Is(got, session.ErrConflict) != c.conflict {
			t.Errorf("%T.classify(%v) = %v; conflict %v, want %v", c.d, c.err, got, !c.conflict, c.conflict)
		}
		if !errors.Is(got, c.err) {
			t.Errorf("classify(%v) = %v lost the driver's error", c.err, got)
		}
	}
	if n := mysqlErrno(errors.Join(errors.New("x"), &mysql.MySQLError{Number: 1062})); n != 1062 {
		t.Errorf("mysqlErrno in a joined error = %d, want 1062", n)
	}
}

// TestQueriesComplete: every statement a layout uses has its text, on every
// dialect, so that engine.stmt never finds one missing.
func TestQueriesComplete(t *testing.T) {
	for _, d := range []Dialect{MySQL, Postgres, SQLite} {
		for _, compat := range []bool{false, true} {
			o, err := Options{Dialect: d}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			e := &engine{names: newNames(o), o: o, d: dialectOf(d), compat: compat, hasOwner: !compat, tk: nativeTime}
			if compat {
				e.tk = compatTime
			}
			q := e.buildQueries()
			need := []queryID{qLoad, qDelete, qInsert, qUpdate, qTouch, qGC, qIterate}
			if compat {
				need = append(need, qLock)
				if d == SQLite {
					need = append(need, qUpdateIfData)
				}
			} else {
				need = append(need, qOwnerKeys)
			}
			if d == MySQL {
				need = append(need, qDeleteExpired, qExists)
			}
			for _, id := range need {
				if q.text[id] == "" {
					t.Errorf("%v compat=%v: no %v statement", d, compat, id)
				}
			}
			if q.gcParams < 1 {
				t.Errorf("%v: gcParams = %d", d, q.gcParams)
			}
		}
	}
	var e engine
	if _, err := e.stmt(t.Context(), qLock); err == nil {
		t.Fatal("stmt of a statement without text: no error")
	}
}
