package cachestore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/sessionkit/session"
)

// Entry layout, big-endian:
//
//	0   magic "skct"
//	4   format version (1)
//	5   durable version        uint64
//	13  expiry                 time (int64 seconds, uint32 nanoseconds)
//	25  created                time
//	37  modified               time
//	49  cached at              int64 Unix nanoseconds
//	57  owner length           uint32
//	61  owner, then data
//	end CRC-32C of everything before it
const (
	entryMagic   = "skct"
	entryFormat  = 1
	entryHeader  = 61
	entryTrailer = 4
	// Overhead is how many bytes an entry adds to a record's data and
	// owner: the size the fast store must hold on top of them.
	Overhead = entryHeader + entryTrailer
)

// zeroTime marks a zero time.Time in the seconds field (the bit pattern
// of math.MinInt64).
const zeroTime uint64 = 1 << 63

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errEntry is what a fast-store record that is not a well-formed entry
// wraps.
var errEntry = fmt.Errorf("cachestore: not a cache entry: %w", session.ErrCorrupt)

// entry is a decoded cache entry.
type entry struct {
	rec      session.Record // as the durable store holds it
	cachedAt int64          // Unix nanoseconds when the entry was written
}

func putTime(b []byte, t time.Time) {
	if t.IsZero() {
		binary.BigEndian.PutUint64(b, zeroTime)
		binary.BigEndian.PutUint32(b[8:], 0)
		return
	}
	binary.BigEndian.PutUint64(b, uint64(t.Unix())) //nolint:gosec // two's complement round trip
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

func getTime(b []byte) (time.Time, bool) {
	bits := binary.BigEndian.Uint64(b)
	nsec := binary.BigEndian.Uint32(b[8:])
	if bits == zeroTime {
		return time.Time{}, nsec == 0
	}
	sec := int64(bits) //nolint:gosec // two's complement round trip
	if nsec >= 1e9 {
		return time.Time{}, false
	}
	return time.Unix(sec, int64(nsec)), true
}

// encodeEntry returns the entry for rec, mirroring durable version
// rec.Version, written at cachedAt.
func encodeEntry(rec session.Record, cachedAt time.Time) []byte {
	b := make([]byte, entryHeader+len(rec.Owner)+len(rec.Data)+entryTrailer)
	copy(b, entryMagic)
	b[4] = entryFormat
	binary.BigEndian.PutUint64(b[5:], rec.Version)
	putTime(b[13:], rec.Expiry)
	putTime(b[25:], rec.Created)
	putTime(b[37:], rec.Modified)
	binary.BigEndian.PutUint64(b[49:], uint64(cachedAt.UnixNano())) //nolint:gosec // two's complement round trip
	binary.BigEndian.PutUint32(b[57:], uint32(len(rec.Owner)))      //nolint:gosec // owners are far below 4 GiB
	n := copy(b[entryHeader:], rec.Owner)
	copy(b[entryHeader+n:], rec.Data)
	end := len(b) - entryTrailer
	binary.BigEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
	return b
}

// decodeEntry parses an entry. The record's Data is a copy: the caller may
// change it.
func decodeEntry(b []byte) (entry, error) {
	if len(b) < entryHeader+entryTrailer {
		return entry{}, fmt.Errorf("%w: %d bytes, shorter than an entry's header", errEntry, len(b))
	}
	if string(b[:4]) != entryMagic {
		return entry{}, fmt.Errorf("%w: bad magic", errEntry)
	}
	if b[4] != entryFormat {
		return entry{}, fmt.Errorf("%w: format %d, this library reads %d", errEntry, b[4], entryFormat)
	}
	end := len(b) - entryTrailer
	if crc32.Checksum(b[:end], castagnoli) != binary.BigEndian.Uint32(b[end:]) {
		return entry{}, fmt.Errorf("%w: checksum mismatch", errEntry)
	}
	ownerLen := binary.BigEndian.Uint32(b[57:])
	if uint64(ownerLen) > uint64(end-entryHeader) {
		return entry{}, fmt.Errorf("%w: owner of %d bytes overruns the entry", errEntry, ownerLen)
	}
	var e entry
	var ok [3]bool
	e.rec.Version = binary.BigEndian.Uint64(b[5:])
	e.rec.Expiry, ok[0] = getTime(b[13:])
	e.rec.Created, ok[1] = getTime(b[25:])
	e.rec.Modified, ok[2] = getTime(b[37:])
	if !ok[0] || !ok[1] || !ok[2] {
		return entry{}, fmt.Errorf("%w: time out of range", errEntry)
	}
	if e.rec.Version == 0 {
		return entry{}, fmt.Errorf("%w: durable version 0", errEntry)
	}
	e.cachedAt = int64(binary.BigEndian.Uint64(b[49:])) //nolint:gosec // two's complement round trip
	o := entryHeader + int(ownerLen)
	e.rec.Owner = string(b[entryHeader:o])
	e.rec.Data = append(make([]byte, 0, end-o), b[o:end]...)
	return e, nil
}
