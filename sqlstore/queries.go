package sqlstore

import (
	"fmt"
	"strings"
	"time"
)

// expiryExpr returns the comparable expression of a row's expiry instant,
// for the row named by prefix ("" or "cur."). Native: expires_at. Seed:
// COALESCE(modified_at, created_at), compared with now - MaxLifetime.
func (e *engine) expiryExpr(prefix string) string {
	if !e.compat {
		return prefix + e.expires
	}
	return timeCmp(e.d, seedTime, "COALESCE("+prefix+e.modified+", "+prefix+e.created+")")
}

// cutoff returns the parameter compared with [engine.expiryExpr]: the row is
// live when expiryExpr > cutoff(now) and expired when expiryExpr <= cutoff(now).
func (e *engine) cutoff(now time.Time) any {
	if !e.compat {
		return timeCmpParam(e.d, nativeTime, now)
	}
	return timeCmpParam(e.d, seedTime, now.Add(-e.o.MaxLifetime))
}

// recordCols are the columns Load and Iterate read, in the order of
// [engine.scanRecord].
func (e *engine) recordCols() string {
	out := func(c string) string { return timeOut(e.d, e.tk, c) }
	if !e.compat {
		return strings.Join([]string{e.data, e.version, e.owner, out(e.created), out(e.modified), timeOut(e.d, nativeTime, e.expires)}, ", ")
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
	in := timeIn(e.d, e.tk)
	cols = []string{e.data, e.created, e.modified}
	vals = []string{"?", in, in}
	if !e.compat {
		cols = append(cols, e.expires, e.version)
		vals = append(vals, timeIn(e.d, nativeTime), "?")
	}
	if e.hasOwner {
		cols = append(cols, e.owner)
		vals = append(vals, "?")
	}
	return cols, vals
}

func (e *engine) buildQueries() {
	q := map[string]string{}
	t, id := e.tbl, e.id
	live := e.expiryExpr("")
	cols, vals := e.writeCols()

	q["load"] = fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", e.recordCols(), t, id)
	q["delete"] = fmt.Sprintf("DELETE FROM %s WHERE %s = ?", t, id)
	q["exists"] = fmt.Sprintf("SELECT 1 FROM %s WHERE %s = ? AND %s > ?", t, id, live)

	insert := fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?, %s)", t, id, strings.Join(cols, ", "), strings.Join(vals, ", "))
	q["insert"] = insert
	if e.d == MySQL {
		// MySQL's upsert cannot be made conditional without relying on
		// affected-row counts that change with the client's FOUND_ROWS
		// flag: insert, and on a duplicate key delete the row if it is
		// expired and insert again (a rare path).
		cond := ""
		if !e.compat {
			cond = fmt.Sprintf(" AND %s <> ?", e.version)
		}
		q["deleteExpired"] = fmt.Sprintf("DELETE FROM %s WHERE %s = ? AND %s <= ?%s", t, id, live, cond)
	} else {
		sets := make([]string, len(cols))
		for i, c := range cols {
			sets[i] = fmt.Sprintf("%s = excluded.%s", c, c)
		}
		cond := ""
		if !e.compat {
			cond = fmt.Sprintf(" AND cur.%s <> excluded.%s", e.version, e.version)
		}
		q["insert"] = fmt.Sprintf("INSERT INTO %s AS cur (%s, %s) VALUES (?, %s) ON CONFLICT (%s) DO UPDATE SET %s WHERE %s <= ?%s",
			t, id, strings.Join(cols, ", "), strings.Join(vals, ", "), id, strings.Join(sets, ", "), e.expiryExpr("cur."), cond)
	}

	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = c + " = " + vals[i]
	}
	if !e.compat {
		q["update"] = fmt.Sprintf("UPDATE %s SET %s WHERE %s = ? AND %s = ? AND %s > ?", t, strings.Join(sets, ", "), id, e.version, live)
		q["touch"] = fmt.Sprintf("UPDATE %s SET %s = %s, %s = %s WHERE %s = ? AND %s > ?",
			t, e.expires, timeIn(e.d, nativeTime), e.modified, timeIn(e.d, e.tk), id, live)
		q["ownerKeys"] = fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? AND %s > ?", id, t, e.owner, live)
	} else {
		lock := ""
		if e.d != SQLite {
			lock = " FOR UPDATE"
		}
		q["lock"] = fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = ?%s", e.data,
			timeOut(e.d, e.tk, e.created), timeOut(e.d, e.tk, e.modified), t, id, lock)
		q["update"] = fmt.Sprintf("UPDATE %s SET %s WHERE %s = ?", t, strings.Join(sets, ", "), id)
		q["updateIfData"] = fmt.Sprintf("UPDATE %s SET %s WHERE %s = ? AND %s = ? AND %s > ?", t, strings.Join(sets, ", "), id, e.data, live)
		q["touch"] = fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = ? AND %s > ?", t, e.modified, timeIn(e.d, e.tk), id, live)
	}

	n := e.o.GCBatch
	switch e.d {
	case MySQL:
		q["gc"] = fmt.Sprintf("DELETE FROM %s WHERE %s <= ? LIMIT %d", t, live, n)
	case Postgres:
		q["gc"] = fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s <= ? LIMIT %d FOR UPDATE SKIP LOCKED) AND %s <= ?", t, id, id, t, live, n, live)
	case SQLite:
		q["gc"] = fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s <= ? LIMIT %d) AND %s <= ?", t, id, id, t, live, n, live)
	}
	q["iterate"] = fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s > ? AND %s > ? ORDER BY %s LIMIT %d", id, e.recordCols(), t, id, live, id, e.o.IterateBatch)

	for k, v := range q {
		q[k] = rebind(e.d, v)
	}
	e.q = q
}
