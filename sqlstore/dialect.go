package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// quote quotes one validated identifier for d.
func quote(d Dialect, name string) string {
	if d == MySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// quoteTable quotes a validated, optionally schema-qualified table name.
func quoteTable(d Dialect, table string) string {
	parts := strings.Split(table, ".")
	for i, p := range parts {
		parts[i] = quote(d, p)
	}
	return strings.Join(parts, ".")
}

// rebind turns the ? placeholders of query into $1, $2 ... for PostgreSQL.
// Queries built by this package contain no other question marks.
func rebind(d Dialect, query string) string {
	if d != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeKind is how a time column is stored.
type timeKind int

const (
	// nativeTime: DATETIME(6) (MySQL), TIMESTAMPTZ (PostgreSQL), text
	// "2006-01-02 15:04:05.000000" in UTC (SQLite).
	nativeTime timeKind = iota
	// seedTime: the seed's TIMESTAMP (MySQL, seconds, converted from the
	// session time zone), TIMESTAMP without time zone holding UTC
	// (PostgreSQL), text "2006-01-02 15:04:05" in UTC like SQLite's
	// CURRENT_TIMESTAMP (SQLite).
	seedTime
)

const (
	sqliteNativeLayout = "2006-01-02 15:04:05.000000"
	sqliteSeedLayout   = "2006-01-02 15:04:05"
	mysqlNativeLayout  = "2006-01-02 15:04:05.000000"
)

// MySQL TIMESTAMP range.
var (
	mysqlTSMin = time.Unix(1, 0).UTC()
	mysqlTSMax = time.Unix(1<<31-1, 0).UTC()
	nativeMin  = time.Unix(0, 0).UTC()
	nativeMax  = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// timeIn returns the SQL expression that turns the parameter ? into a value
// of a column of kind k.
func timeIn(d Dialect, k timeKind) string {
	switch {
	case d == MySQL && k == seedTime:
		return "FROM_UNIXTIME(?)"
	case d == Postgres && k == seedTime:
		return "(?::timestamptz AT TIME ZONE 'UTC')"
	case d == Postgres:
		return "?::timestamptz"
	}
	return "?"
}

// timeOut returns the SQL expression that reads column expression x of kind
// k as something [scanTime] understands, independent of the connection's
// time zone and of driver options such as parseTime.
func timeOut(d Dialect, k timeKind, x string) string {
	switch {
	case d == MySQL && k == seedTime:
		return "UNIX_TIMESTAMP(" + x + ")"
	case d == MySQL:
		return "DATE_FORMAT(" + x + ", '%Y-%m-%d %H:%i:%s.%f')"
	case d == Postgres && k == seedTime:
		return "(" + x + " AT TIME ZONE 'UTC')"
	case d == Postgres:
		return x
	}
	return "CAST(" + x + " AS TEXT)"
}

// timeCmp returns the expression to compare column expression x of kind k
// with a parameter made by [timeCmpParam].
func timeCmp(d Dialect, k timeKind, x string) string {
	switch {
	case d == MySQL && k == seedTime:
		return "UNIX_TIMESTAMP(" + x + ")"
	case d == Postgres && k == seedTime:
		return "(" + x + " AT TIME ZONE 'UTC')"
	}
	return x
}

// timeCmpParam returns the parameter to compare with [timeCmp]. Seed times
// hold whole seconds on MySQL and SQLite: comparing an integer number of
// seconds s with floor(t) gives s > floor(t) exactly when s > t.
func timeCmpParam(d Dialect, k timeKind, t time.Time) any {
	t = t.UTC()
	switch {
	case d == MySQL && k == seedTime:
		return t.Unix()
	case d == MySQL:
		return t.Format(mysqlNativeLayout)
	case d == Postgres:
		return t
	case k == seedTime:
		return t.Format(sqliteSeedLayout)
	}
	return t.Format(sqliteNativeLayout)
}

// timeParam returns the parameter for [timeIn]: t in UTC, truncated to the
// column's precision and clamped below to the column's minimum (every time
// the store writes that early means "already expired"). Times past the
// column's maximum are an error.
func timeParam(d Dialect, k timeKind, t time.Time) (any, error) {
	t = t.UTC()
	lo, hi := nativeMin, nativeMax
	if d == MySQL && k == seedTime {
		lo, hi = mysqlTSMin, mysqlTSMax
	}
	if t.Before(lo) {
		t = lo
	}
	if t.After(hi) {
		return nil, fmt.Errorf("time %v is after %v, the latest the %v column holds", t, hi, d)
	}
	switch {
	case d == MySQL && k == seedTime:
		return t.Unix(), nil
	case d == MySQL:
		return t.Truncate(time.Microsecond).Format(mysqlNativeLayout), nil
	case d == Postgres:
		return t.Truncate(time.Microsecond), nil
	case k == seedTime:
		return t.Format(sqliteSeedLayout), nil
	}
	return t.Format(sqliteNativeLayout), nil
}

// precision returns the resolution of a time column of kind k.
func precision(d Dialect, k timeKind) time.Duration {
	if k == seedTime && d != Postgres {
		return time.Second
	}
	return time.Microsecond
}

// scanTime scans any representation produced by [timeOut]: time.Time, Unix
// seconds (integer, float or decimal text) or date-time text in UTC.
type scanTime struct {
	t     time.Time
	valid bool
}

var textLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02",
}

// Scan implements sql.Scanner.
func (s *scanTime) Scan(v any) error {
	s.valid = false
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		s.t = x.UTC()
	case int64:
		s.t = time.Unix(x, 0).UTC()
	case float64:
		sec := int64(x)
		s.t = time.Unix(sec, int64((x-float64(sec))*1e9+0.5)).UTC().Round(time.Microsecond)
	case []byte:
		return s.Scan(string(x))
	case string:
		t, err := parseTimeText(x)
		if err != nil {
			return err
		}
		s.t = t
	default:
		return fmt.Errorf("sqlstore: cannot read a time from %T", v)
	}
	s.valid = true
	return nil
}

func parseTimeText(x string) (time.Time, error) {
	x = strings.TrimSpace(x)
	if sec, frac, ok := decimal(x); ok {
		return time.Unix(sec, frac).UTC(), nil
	}
	for _, l := range textLayouts {
		if t, err := time.ParseInLocation(l, x, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("sqlstore: cannot read a time from %q", x)
}

// decimal parses "123" or "123.456" as seconds and nanoseconds.
func decimal(x string) (sec, nsec int64, ok bool) {
	ip, fp, hasFrac := strings.Cut(x, ".")
	if ip == "" {
		return 0, 0, false
	}
	sec, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !hasFrac {
		return sec, 0, true
	}
	if fp == "" || len(fp) > 9 {
		return 0, 0, false
	}
	for _, r := range fp {
		if r < '0' || r > '9' {
			return 0, 0, false
		}
	}
	fp += strings.Repeat("0", 9-len(fp))
	nsec, _ = strconv.ParseInt(fp, 10, 64)
	return sec, nsec, true
}
