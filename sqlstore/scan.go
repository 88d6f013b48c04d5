package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// corrupt returns an error wrapping session.ErrCorrupt.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("sqlstore: %w: "+format, append([]any{session.ErrCorrupt}, args...)...)
}

// scanVersion scans a version column: an integer. NULL, text that is not an
// integer, a fraction or a negative number is a corrupt record.
type scanVersion struct{ v uint64 }

// Scan implements sql.Scanner.
func (s *scanVersion) Scan(v any) error {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case []byte:
		if v, ok := digits(x); ok {
			n = v
			break
		}
		return s.Scan(string(x))
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
			return corrupt("version %q is not an integer", x)
		}
	case nil:
		return corrupt("version is NULL")
	default:
		return corrupt("version of type %T is not an integer", v)
	}
	if n < 0 {
		return corrupt("negative version %d", n)
	}
	s.v = uint64(n)
	if n == 0 {
		s.v = zeroVersion
	}
	return nil
}

// scanTime scans any representation produced by dialect.timeOut: time.Time,
// Unix seconds (integer, float or decimal text) or date-time text in UTC.
// NULL leaves it invalid. What it cannot read is a corrupt record, and so is
// Unix time 0, which is how MySQL reads a zero date (0000-00-00 00:00:00,
// which MariaDB without strict mode stores): no time this package writes
// reads as 0.
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
		if x == 0 {
			return corrupt("zero date")
		}
		s.t = time.Unix(x, 0).UTC()
	case float64:
		if x == 0 {
			return corrupt("zero date")
		}
		sec := int64(x)
		s.t = time.Unix(sec, int64((x-float64(sec))*1e9+0.5)).UTC().Round(time.Microsecond)
	case []byte:
		if t, ok := dateTime(x); ok {
			s.t = t
			break
		}
		return s.Scan(string(x))
	case string:
		t, err := parseTimeText(x)
		if err != nil {
			return err
		}
		s.t = t
	default:
		return corrupt("cannot read a time from %T", v)
	}
	s.valid = true
	return nil
}

func parseTimeText(x string) (time.Time, error) {
	if t, ok := dateTime(x); ok {
		return t, nil
	}
	x = strings.TrimSpace(x)
	if sec, frac, ok := decimal(x); ok {
		if sec == 0 && frac == 0 {
			return time.Time{}, corrupt("zero date")
		}
		return time.Unix(sec, frac).UTC(), nil
	}
	for _, l := range textLayouts {
		if t, err := time.ParseInLocation(l, x, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, corrupt("cannot read a time from %q", x)
}

// decimal parses "123" or "123.456" as seconds and nanoseconds.
func decimal(x string) (sec, nsec int64, ok bool) {
	ip, fp, hasFrac := strings.Cut(x, ".")
	if ip == "" || strings.TrimLeft(ip[1:], "0123456789") != "" {
		return 0, 0, false // not a number: spare ParseInt's error
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

// digits parses b when it is 1 to 18 decimal digits, the form a version
// column has as text; anything else is left to the general path. It spares
// the string that path converts b to.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// dateTime parses the text that MySQL's DATE_FORMAT and SQLite give for a
// time this package wrote, "2006-01-02 15:04:05" with an optional fraction
// of 1 to 9 digits ('T' also accepted as the separator), in UTC, without
// allocating. It reports false for anything else, valid or not, which
// parseTimeText's layouts then judge: it gives the same instant as they do
// or nothing.
func dateTime[T string | []byte](x T) (time.Time, bool) {
	n := len(x)
	if n < 19 || n == 20 || n > 29 || x[4] != '-' || x[7] != '-' || (x[10] != ' ' && x[10] != 'T') || x[13] != ':' || x[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, j int) (int, bool) {
		v := 0
		for ; i < j; i++ {
			c := x[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if n > 19 {
		if x[19] != '.' {
			return time.Time{}, false
		}
		frac, ok := num(20, n)
		if !ok {
			return time.Time{}, false
		}
		nsec = frac
		for range 29 - n {
			nsec *= 10
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, and the like
		return time.Time{}, false
	}
	return t, true
}
