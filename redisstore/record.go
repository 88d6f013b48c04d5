package redisstore

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sessionkit/session"
)

// recordFields are the hash fields read by Load and Iterate, in the order
// decodeRecord expects.
var recordFields = []string{fieldData, fieldVersion, fieldOwner, fieldCreated, fieldModified, fieldExpiry}

// errCorrupt marks a hash that is not a well-formed record.
var errCorrupt = errors.New("corrupt record")

// decodeRecord turns an HMGET reply of recordFields into a record. ok is
// false when there is no live record (no such key, or expired by now).
func decodeRecord(vals []any, now time.Time) (rec session.Record, ok bool, err error) {
	if len(vals) != len(recordFields) {
		return rec, false, fmt.Errorf("%w: %d fields", errCorrupt, len(vals))
	}
	if vals[1] == nil {
		return rec, false, nil
	}
	var str [6]string
	for i, v := range vals {
		s, isStr := v.(string)
		if !isStr {
			return rec, false, fmt.Errorf("%w: field %q missing", errCorrupt, recordFields[i])
		}
		str[i] = s
	}
	version, err := strconv.ParseUint(str[1], 10, 64)
	if err != nil {
		return rec, false, fmt.Errorf("%w: version: %w", errCorrupt, err)
	}
	var times [3]int64
	for i, f := range str[3:] {
		if times[i], err = strconv.ParseInt(f, 10, 64); err != nil {
			return rec, false, fmt.Errorf("%w: field %q: %w", errCorrupt, recordFields[3+i], err)
		}
	}
	expiry := time.UnixMilli(times[2])
	if !expiry.After(now) {
		return rec, false, nil
	}
	return session.Record{
		Data:     []byte(str[0]),
		Expiry:   expiry,
		Version:  version,
		Owner:    str[2],
		Created:  time.UnixMilli(times[0]),
		Modified: time.UnixMilli(times[1]),
	}, true, nil
}
