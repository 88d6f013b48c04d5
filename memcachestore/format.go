package memcachestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sessionkit/session"
)

// ErrCorrupt means an item under a session key was not written by this
// package (for example a PHP session under the same prefix) or is damaged.
var ErrCorrupt = errors.New("memcachestore: corrupt or foreign item")

// Overhead is the size of the header in front of the owner and the data in
// every item's value.
const Overhead = 38

// Value layout, integers big-endian:
//
//	offset size
//	0      3    magic "SKM"
//	3      1    format version (1)
//	4      8    record version
//	12     8    expiry, Unix nanoseconds (0 = zero time)
//	20     8    created, Unix nanoseconds
//	28     8    modified, Unix nanoseconds
//	36     2    owner length n
//	38     n    owner
//	38+n        data
const (
	magic         = "SKM"
	formatVersion = 1
	maxOwner      = math.MaxUint16
)

var (
	minNano = time.Unix(0, math.MinInt64+1)
	maxNano = time.Unix(0, math.MaxInt64)
)

func encodeTime(t time.Time) uint64 {
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
		n = 1 // keep 0 for the zero time
	}
	return uint64(n)
}

func decodeTime(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}

// encode returns the item value for rec with the given version and
// modification time.
func encode(rec session.Record, version uint64, modified time.Time) ([]byte, error) {
	if len(rec.Owner) > maxOwner {
		return nil, fmt.Errorf("memcachestore: owner of %d bytes exceeds %d: %w", len(rec.Owner), maxOwner, session.ErrTooLarge)
	}
	b := make([]byte, Overhead, Overhead+len(rec.Owner)+len(rec.Data))
	copy(b, magic)
	b[3] = formatVersion
	binary.BigEndian.PutUint64(b[4:], version)
	binary.BigEndian.PutUint64(b[12:], encodeTime(rec.Expiry))
	binary.BigEndian.PutUint64(b[20:], encodeTime(rec.Created))
	binary.BigEndian.PutUint64(b[28:], encodeTime(modified))
	binary.BigEndian.PutUint16(b[36:], uint16(len(rec.Owner)))
	b = append(b, rec.Owner...)
	return append(b, rec.Data...), nil
}

// decode parses an item value. The returned record's Data aliases b.
func decode(b []byte) (session.Record, error) {
	if len(b) < Overhead {
		return session.Record{}, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), Overhead)
	}
	if string(b[:3]) != magic {
		return session.Record{}, fmt.Errorf("%w: bad magic %q (not written by memcachestore)", ErrCorrupt, b[:3])
	}
	if b[3] != formatVersion {
		return session.Record{}, fmt.Errorf("memcachestore: item format version %d, this library reads %d (written by a newer release?): %w", b[3], formatVersion, session.ErrUnsupported)
	}
	n := int(binary.BigEndian.Uint16(b[36:]))
	if Overhead+n > len(b) {
		return session.Record{}, fmt.Errorf("%w: owner of %d bytes overruns a %d-byte value", ErrCorrupt, n, len(b))
	}
	return session.Record{
		Version:  binary.BigEndian.Uint64(b[4:]),
		Expiry:   decodeTime(binary.BigEndian.Uint64(b[12:])),
		Created:  decodeTime(binary.BigEndian.Uint64(b[20:])),
		Modified: decodeTime(binary.BigEndian.Uint64(b[28:])),
		Owner:    string(b[Overhead : Overhead+n]),
		Data:     b[Overhead+n:],
	}, nil
}

// withExpiry returns a copy of value (a valid encoding) with a new expiry
// and modification time, all else kept.
func withExpiry(value []byte, expiry, modified time.Time) []byte {
	b := append([]byte(nil), value...)
	binary.BigEndian.PutUint64(b[12:], encodeTime(expiry))
	binary.BigEndian.PutUint64(b[28:], encodeTime(modified))
	return b
}

// thirtyDays is memcached's boundary between relative expiration times (in
// seconds from now) and absolute ones (Unix times).
const thirtyDays = 30 * 24 * 60 * 60

// expiration converts an exact expiry to memcached's expiration field.
// memcached counts whole seconds on a clock that ticks once a second, so the
// item is kept two seconds beyond the rounded-up expiry; the header's exact
// expiry decides liveness. A past expiry is -1: stored and immediately
// expired. Beyond memcached's int32 range (2038) the time is clamped.
func expiration(expiry, now time.Time) int32 {
	d := expiry.Sub(now)
	if d <= 0 {
		return -1
	}
	if d <= (thirtyDays-3)*time.Second {
		return int32((d+time.Second-1)/time.Second) + 2
	}
	abs := expiry.Unix() + 3
	if abs > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(abs)
}
