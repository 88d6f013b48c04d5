package memcachestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/sessionkit/session/internal/nanotime"

	"github.com/sessionkit/session"
)

// ErrCorrupt means an item under a session key was not written by this
// package (for example a PHP session under the same prefix), is truncated
// or is damaged. It wraps session.ErrCorrupt, so errors.Is holds for both.
var ErrCorrupt = fmt.Errorf("memcachestore: corrupt or foreign item: %w", session.ErrCorrupt)

// Overhead is the size of the header in front of the owner and the data in
// every item's value.
const Overhead = 46

// Value layout (format 2), integers big-endian:
//
//	offset size
//	0      3    magic "SKM"
//	3      1    format version (2)
//	4      8    record version
//	12     8    expiry, Unix nanoseconds (0 = zero time)
//	20     8    created, Unix nanoseconds
//	28     8    modified, Unix nanoseconds
//	36     2    owner length n
//	38     4    data length m
//	42     4    CRC-32C of bytes 0..41, the owner and the data
//	46     n    owner
//	46+n   m    data
//
// Format 1, written by earlier releases and still read, had neither data
// length nor checksum: its header ended at offset 38.
const (
	magic         = "SKM"
	formatVersion = 2
	overheadV1    = 38
	maxOwner      = math.MaxUint16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the item value for rec with the given version and
// modification time.
func encode(rec session.Record, version uint64, modified time.Time) ([]byte, error) {
	if len(rec.Owner) > maxOwner {
		return nil, fmt.Errorf("memcachestore: owner of %d bytes exceeds %d: %w", len(rec.Owner), maxOwner, session.ErrTooLarge)
	}
	if uint64(len(rec.Data)) > math.MaxUint32 {
		return nil, fmt.Errorf("memcachestore: data of %d bytes exceeds %d: %w", len(rec.Data), uint64(math.MaxUint32), session.ErrTooLarge)
	}
	b := make([]byte, Overhead, Overhead+len(rec.Owner)+len(rec.Data))
	copy(b, magic)
	b[3] = formatVersion
	binary.BigEndian.PutUint64(b[4:], version)
	binary.BigEndian.PutUint64(b[12:], nanotime.Encode(rec.Expiry))
	binary.BigEndian.PutUint64(b[20:], nanotime.Encode(rec.Created))
	binary.BigEndian.PutUint64(b[28:], nanotime.Encode(modified))
	binary.BigEndian.PutUint16(b[36:], uint16(len(rec.Owner)))
	binary.BigEndian.PutUint32(b[38:], uint32(len(rec.Data)))
	b = append(b, rec.Owner...)
	b = append(b, rec.Data...)
	binary.BigEndian.PutUint32(b[42:], checksum(b))
	return b, nil
}

// checksum is the CRC-32C of a format 2 value, skipping the checksum field.
func checksum(b []byte) uint32 {
	crc := crc32.Update(0, castagnoli, b[:42])
	return crc32.Update(crc, castagnoli, b[Overhead:])
}

// decode parses an item value. The returned record's Data aliases b. A value
// that is not this package's, is truncated or damaged is an error wrapping
// ErrCorrupt; one of a newer format version wraps session.ErrUnsupported
// as well (this release cannot read it).
func decode(b []byte) (session.Record, error) {
	if len(b) < 4 || string(b[:3]) != magic {
		if len(b) < overheadV1 {
			return session.Record{}, fmt.Errorf("%w: %d bytes, shorter than the header", ErrCorrupt, len(b))
		}
		return session.Record{}, fmt.Errorf("%w: bad magic %q (not written by memcachestore)", ErrCorrupt, b[:3])
	}
	header := Overhead
	switch b[3] {
	case 1:
		header = overheadV1
	case formatVersion:
	default:
		return session.Record{}, fmt.Errorf("%w: item format version %d, this library reads 1 and %d (written by a newer release?): %w", ErrCorrupt, b[3], formatVersion, session.ErrUnsupported)
	}
	if len(b) < header {
		return session.Record{}, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), header)
	}
	n := int(binary.BigEndian.Uint16(b[36:]))
	if header+n > len(b) {
		return session.Record{}, fmt.Errorf("%w: owner of %d bytes overruns a %d-byte value", ErrCorrupt, n, len(b))
	}
	if b[3] == formatVersion {
		if m := uint64(binary.BigEndian.Uint32(b[38:])); uint64(header+n)+m != uint64(len(b)) {
			return session.Record{}, fmt.Errorf("%w: header declares %d+%d+%d bytes, item has %d (truncated?)", ErrCorrupt, header, n, m, len(b))
		}
		if binary.BigEndian.Uint32(b[42:]) != checksum(b) {
			return session.Record{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
		}
	}
	return session.Record{
		Version:  binary.BigEndian.Uint64(b[4:]),
		Expiry:   nanotime.Decode(binary.BigEndian.Uint64(b[12:])),
		Created:  nanotime.Decode(binary.BigEndian.Uint64(b[20:])),
		Modified: nanotime.Decode(binary.BigEndian.Uint64(b[28:])),
		Owner:    string(b[header : header+n]),
		Data:     b[header+n:],
	}, nil
}

// withExpiry returns the value (a valid encoding, of either format) with a
// new expiry and modification time, all else kept, in the current format.
func withExpiry(value []byte, expiry, modified time.Time) ([]byte, error) {
	rec, err := decode(value)
	if err != nil {
		return nil, err
	}
	rec.Expiry = expiry
	return encode(rec, rec.Version, modified)
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
