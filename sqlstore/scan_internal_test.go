package sqlstore

import (
	"hash/fnv"
	"strings"
	"testing"
	"time"
)

// slowTime is parseTimeText's general path: the layouts, without the fast
// path of dateTime.
func slowTime(x string) (time.Time, bool) {
	x = strings.TrimSpace(x)
	for _, l := range textLayouts {
		if t, err := time.ParseInLocation(l, x, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// TestDateTimeMatchesLayouts checks that the allocation-free parser gives
// the instant the layouts give, and declines what they refuse.
func TestDateTimeMatchesLayouts(t *testing.T) {
	for _, x := range []string{
		"2026-01-02 15:04:05", "2026-01-02T15:04:05", "2026-01-02 15:04:05.1",
		"2026-01-02 15:04:05.123456", "2026-01-02 15:04:05.123456789", "0001-01-01 00:00:00.000000",
		"9999-12-31 23:59:59.999999", "2024-02-29 12:00:00", "2023-02-29 12:00:00",
		"2026-04-31 00:00:00", "0000-00-00 00:00:00", "2026-13-01 00:00:00", "2026-01-02 24:00:00",
		"2026-01-02 15:60:05", "2026-01-02 15:04:60", "2026-01-02 15:04:05.", "2026-01-02 15:04:05.1234567890",
		"2026-01-02 15:04:05x123", "2026-01-02 15:04:05 +0000", "2026/01/02 15:04:05", "-026-01-02 15:04:05",
		"2026-01-02 15:04:0a", "2026-01-02",
	} {
		got, ok := dateTime(x)
		gotB, okB := dateTime([]byte(x))
		want, wantOK := slowTime(x)
		if ok != okB || !got.Equal(gotB) {
			t.Errorf("%q: string and []byte disagree", x)
		}
		if ok && (!wantOK || !got.Equal(want) || got.Location() != time.UTC) {
			t.Errorf("%q: dateTime = %v, layouts = %v, %v", x, got, want, wantOK)
		}
		if pt, err := parseTimeText(x); (err == nil) != wantOK || (err == nil && !pt.Equal(want)) {
			t.Errorf("%q: parseTimeText = %v, %v; layouts %v, %v", x, pt, err, want, wantOK)
		}
	}
}

// TestScanFastPaths checks the []byte paths of the scanners against their
// string paths.
func TestScanFastPaths(t *testing.T) {
	for _, x := range []string{"0", "1", "42", "123456789012345678", "1234567890123456789", " 7", "-1", "1.5", "x", ""} {
		var a, b scanVersion
		errA, errB := a.Scan([]byte(x)), b.Scan(x)
		if (errA == nil) != (errB == nil) || a.v != b.v {
			t.Errorf("version %q: []byte %v, %v; string %v, %v", x, a.v, errA, b.v, errB)
		}
	}
	for _, x := range []string{"2026-01-02 15:04:05.123456", "1700000000", "1700000000.5", "0", " 2026-01-02 15:04:05 ", "garbage"} {
		var a, b scanTime
		errA, errB := a.Scan([]byte(x)), b.Scan(x)
		if (errA == nil) != (errB == nil) || a.valid != b.valid || !a.t.Equal(b.t) {
			t.Errorf("time %q: []byte %v, %v; string %v, %v", x, a.t, errA, b.t, errB)
		}
	}
}

// TestTextVersionIsFNV checks textVersion against hash/fnv.
func TestTextVersionIsFNV(t *testing.T) {
	for _, s := range []string{"", "a", "user|s:5:\"alice\";", strings.Repeat("xyz", 1000)} {
		h := fnv.New64a()
		_, _ = h.Write([]byte(s))
		want := h.Sum64()
		if want == 0 {
			want = 1
		}
		if got := textVersion([]byte(s)); got != want {
			t.Errorf("textVersion(%q) = %d, want %d", s, got, want)
		}
	}
}

// BenchmarkScanTime scans a MySQL DATE_FORMAT text column.
func BenchmarkScanTime(b *testing.B) {
	var src any = []byte("2026-01-02 15:04:05.123456") // a driver.Value
	b.ReportAllocs()
	for range b.N {
		var s scanTime
		if err := s.Scan(src); err != nil {
			b.Fatal(err)
		}
	}
}
