package sqlstore

import (
	"fmt"
	"strings"
	"time"
)

// expiryExpr returns the comparable expression of a row's expiry instant,
// for the row named by prefix ("" or "cur."). Native: expires_at. Compatibility:
// COALESCE(modified_at, created_at), compared with now - MaxLifetime.
func (e *engine) expiryExpr(prefix string) string {
	if !e.compat {
		return prefix + e.expires
	}
	return e.d.timeCmp(compatTime, "COALESCE("+prefix+e.modified+", "+prefix+e.created+")")
}

// cutoff returns the parameter compared with [engine.expiryExpr]: the row is
// live when expiryExpr > cutoff(now) and expired when expiryExpr <= cutoff(now).
func (e *engine) cutoff(now time.Time) any {
	if !e.compat {
		return e.d.timeParam(nativeTime, now)
	}
	return e.d.timeParam(compatTime, now.Add(-e.o.MaxLifetime))
}

// recordCols are the columns Load and Iterate read, in the order of
// [engine.scanRecord].
func (e *engine) recordCols() string {
	out := func(c string) string { return e.d.timeOut(e.tk, c) }
	if !e.compat {
		return strings.Join([]string{e.data, e.version, e.owner, out(e.created), out(e.modified), e.d.timeOut(nativeTime, e.expires)}, ", ")
	}
	cols := []string{e.data, out(e.created), out(e.modified)}
	if e.hasOwner {
		cols = append(cols, e.owner)
	}
	return strings.Join(cols, ", ")
}

// writeCols lists the columns a save writes after the ID, with their value
// expressions, in the order of [engine.writeArgs].
func (e *engine) writeCols() (cols, vals []string) {
	in := e.d.timeIn(e.tk)
	cols = []string{e.data, e.created, e.modified}
	vals = []string{"?", in, in}
	if !e.compat {
		cols = append(cols, e.expires, e.version)
		vals = append(vals, e.d.timeIn(nativeTime), "?")
	}
	if e.hasOwner {
		cols = append(cols, e.owner)
		vals = append(vals, "?")
	}
	return cols, vals
}

// queryID names one statement of the engine.
type queryID int

// The engine's statements. A layout leaves the ones it does not use empty.
const (
	qLoad queryID = iota
	qDelete
	qExists
	qInsert
	qDeleteExpired
	qUpdate
	qUpdateIfData
	qLock
	qTouch
	qOwnerKeys
	qGC
	qIterate
	numQueries
)

var queryNames = [numQueries]string{"load", "delete", "exists", "insert", "delete expired", "update", "update if data", "lock", "touch", "owner keys", "gc", "iterate"}

// String returns the statement's name.
func (id queryID) String() string {
	if id >= 0 && id < numQueries {
		return queryNames[id]
	}
	return fmt.Sprintf("queryID(%d)", int(id))
}

// queries holds the SQL text of every statement, with the dialect's
// placeholders.
type queries struct {
	text [numQueries]string
	// gcParams is how many cutoff parameters the GC statement takes.
	gcParams int
	// touchExists: a touch that reports 0 rows asks with qExists whether
	// the row is there (MySQL counts changed rows, not matched ones).
	touchExists bool
}

// set stores the text of statement id.
func (q *queries) set(id queryID, format string, args ...any) {
	q.text[id] = fmt.Sprintf(format, args...)
}

// sets returns "c = v" for each column and value expression.
func sets(cols, vals []string, prefix string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		v := prefix + c
		if vals != nil {
			v = vals[i]
		}
		out[i] = c + " = " + v
	}
	return strings.Join(out, ", ")
}

func (e *engine) buildQueries() queries {
	var q queries
	t, id := e.tbl, e.id
	live := e.expiryExpr("")
	cols, vals := e.writeCols()

	q.set(qLoad, "SELECT %s FROM %s WHERE %s = ?", e.recordCols(), t, id)
	q.set(qDelete, "DELETE FROM %s WHERE %s = ?", t, id)
	q.set(qExists, "SELECT 1 FROM %s WHERE %s = ? AND %s > ?", t, id, live)
	q.set(qInsert, "INSERT INTO %s (%s, %s) VALUES (?, %s)", t, id, strings.Join(cols, ", "), strings.Join(vals, ", "))
	if !e.compat {
		q.set(qUpdate, "UPDATE %s SET %s WHERE %s = ? AND %s = ? AND %s > ?", t, sets(cols, vals, ""), id, e.version, live)
		q.set(qTouch, "UPDATE %s SET %s = %s, %s = %s WHERE %s = ? AND %s > ?",
			t, e.expires, e.d.timeIn(nativeTime), e.modified, e.d.timeIn(e.tk), id, live)
		q.set(qOwnerKeys, "SELECT %s, %s FROM %s WHERE %s = ? AND %s > ?", id, e.owner, t, e.owner, live)
	} else {
		q.set(qUpdate, "UPDATE %s SET %s WHERE %s = ?", t, sets(cols, vals, ""), id)
		q.set(qUpdateIfData, "UPDATE %s SET %s WHERE %s = ? AND %s = ? AND %s > ?", t, sets(cols, vals, ""), id, e.data, live)
		q.set(qTouch, "UPDATE %s SET %s = %s WHERE %s = ? AND %s > ?", t, e.modified, e.d.timeIn(e.tk), id, live)
	}
	q.set(qIterate, "SELECT %s, %s FROM %s WHERE %s > ? AND %s > ? ORDER BY %s LIMIT %d", id, e.recordCols(), t, id, live, id, e.o.IterateBatch)
	e.d.queries(e, &q)
	for i, s := range q.text {
		q.text[i] = e.d.bind(s)
	}
	return q
}

// lockQuery is the compatibility layout's read of the row to compare, with
// suffix (" FOR UPDATE" where the dialect locks it).
func (e *engine) lockQuery(suffix string) string {
	return fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = ?%s", e.data,
		e.d.timeOut(e.tk, e.created), e.d.timeOut(e.tk, e.modified), e.tbl, e.id, suffix)
}

// upsertQuery is the single-statement insert of PostgreSQL and SQLite: a
// row in the way is replaced only if it has expired (and, native, if it does
// not hold the new version already).
func (e *engine) upsertQuery() string {
	cols, vals := e.writeCols()
	cond := ""
	if !e.compat {
		cond = fmt.Sprintf(" AND cur.%s <> excluded.%s", e.version, e.version)
	}
	return fmt.Sprintf("INSERT INTO %s AS cur (%s, %s) VALUES (?, %s) ON CONFLICT (%s) DO UPDATE SET %s WHERE %s <= ?%s",
		e.tbl, e.id, strings.Join(cols, ", "), strings.Join(vals, ", "), e.id, sets(cols, nil, "excluded."), e.expiryExpr("cur."), cond)
}

// upsertQueries are the dialect statements of PostgreSQL and SQLite: the
// single-statement insert, the compatibility layout's read (ending with
// lock) and the GC, whose subquery ends with gcLock.
func (e *engine) upsertQueries(q *queries, lock, gcLock string) {
	live := e.expiryExpr("")
	q.text[qInsert] = e.upsertQuery()
	q.text[qLock] = e.lockQuery(lock)
	q.set(qGC, "DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s <= ? LIMIT %d%s) AND %s <= ?",
		e.tbl, e.id, e.id, e.tbl, live, e.o.GCBatch, gcLock, live)
	q.gcParams = 2
}
