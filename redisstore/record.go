package redisstore

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sessionkit/session"
)

// recordFields are the hash fields every record has. fieldIndexed is
// optional.
var recordFields = []string{fieldData, fieldVersion, fieldOwner, fieldCreated, fieldModified, fieldExpiry}

// maxTimeDigits bounds the digits of a stored time (Unix milliseconds), so
// that Lua's floating-point numbers and Go's int64 agree on every value
// accepted: 10^18 ms is some 30 million years.
const maxTimeDigits = 18

// decodeRecord turns an HGETALL reply into a record. ok is false when there
// is no live record: no such key (an empty reply), or a record expired by
// now. A hash that is not a well-formed record (a field missing, not a
// number, out of range) is an error wrapping session.ErrCorrupt.
func decodeRecord(key string, h map[string]string, now time.Time) (rec session.Record, ok bool, err error) {
	if len(h) == 0 {
		return rec, false, nil
	}
	for _, f := range recordFields {
		if _, present := h[f]; !present {
			return rec, false, corrupt(key, "field %q missing", f)
		}
	}
	version, err := parseVersion(h[fieldVersion])
	if err != nil {
		return rec, false, corrupt(key, "field %q: %v", fieldVersion, err)
	}
	var times [3]int64
	for i, f := range []string{fieldCreated, fieldModified, fieldExpiry} {
		if times[i], err = parseMillis(h[f]); err != nil {
			return rec, false, corrupt(key, "field %q: %v", f, err)
		}
	}
	if i, present := h[fieldIndexed]; present {
		if _, err := parseMillis(i); err != nil {
			return rec, false, corrupt(key, "field %q: %v", fieldIndexed, err)
		}
	}
	expiry := time.UnixMilli(times[2])
	if !expiry.After(now) {
		return rec, false, nil
	}
	return session.Record{
		Data:     []byte(h[fieldData]),
		Expiry:   expiry,
		Version:  version,
		Owner:    h[fieldOwner],
		Created:  time.UnixMilli(times[0]),
		Modified: time.UnixMilli(times[1]),
	}, true, nil
}

// parseVersion accepts what the save script writes: a decimal number in
// [1, 2^64-1] without sign or leading zeros (the script compares versions
// as strings, so "007" could never match a Record.Version).
func parseVersion(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version %q is not a decimal uint64", clipValue(s))
	}
	// ParseUint in base 10 took only digits: the canonical form is the one
	// without a leading zero (and 0 itself is refused).
	if v == 0 || s[0] == '0' {
		return 0, fmt.Errorf("version %q is not in canonical form or is zero", clipValue(s))
	}
	return v, nil
}

// parseMillis accepts a decimal integer of at most maxTimeDigits digits,
// with an optional minus sign.
func parseMillis(s string) (int64, error) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > maxTimeDigits {
		return 0, fmt.Errorf("time %q is not an integer of 1 to %d digits", clipValue(s), maxTimeDigits)
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("time %q is not an integer", clipValue(s))
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// clipValue shortens a stored value quoted in an error message.
func clipValue(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
