// Package nanotime encodes record times as unsigned 64-bit Unix
// nanoseconds, the way the binary record formats of filestore and
// memcachestore store them: 0 is the zero time, and instants outside what
// UnixNano can represent are clamped to its range.
package nanotime

import (
	"math"
	"time"
)

// The range of instants time.Time.UnixNano can represent.
var (
	minNano = time.Unix(0, math.MinInt64+1)
	maxNano = time.Unix(0, math.MaxInt64)
)

// Encode returns t as Unix nanoseconds, 0 for the zero time. The epoch
// itself is 1 ns off, so that 0 keeps meaning the zero time.
func Encode(t time.Time) uint64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNano):
		t = minNano
	case t.After(maxNano):
		t = maxNano
	}
	n := t.UnixNano()
	if n == 0 {
		n = 1
	}
	return uint64(n)
}

// Decode reverses Encode.
func Decode(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}
