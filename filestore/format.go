package filestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"

	"github.com/sessionkit/session/internal/nanotime"

	"github.com/sessionkit/session"
)

// ErrCorrupt means a session file is damaged: not a sessionkit file,
// truncated, or its checksum does not match. Errors wrapping it name the
// file. It wraps session.ErrCorrupt, so errors.Is holds for both.
var ErrCorrupt = fmt.Errorf("filestore: corrupt session file: %w", session.ErrCorrupt)

// File layout, all integers big-endian:
//
//	offset size
//	0      4    magic "SKFS"
//	4      1    format version (1)
//	5      8    record version
//	13     8    expiry, Unix nanoseconds (0 = zero time)
//	21     8    created, Unix nanoseconds
//	29     8    modified, Unix nanoseconds
//	37     4    owner length n
//	41     8    data length m
//	49     4    CRC-32C of bytes 0..48, the owner and the data
//	53     n    owner
//	53+n   m    data
const (
	magic         = "SKFS"
	formatVersion = 1
	headerSize    = 53
	// maxOwner bounds the owner so a damaged length cannot make us
	// allocate gigabytes.
	maxOwner = 1 << 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// meta is a file's header.
type meta struct {
	version  uint64
	expiry   time.Time
	created  time.Time
	modified time.Time
	owner    string
	dataLen  uint64
	crc      uint32
}

// encodeHeader returns the header and owner bytes for rec; the data follows
// them in the file.
func encodeHeader(rec session.Record, version uint64, modified time.Time) ([]byte, error) {
	if len(rec.Owner) > maxOwner {
		return nil, fmt.Errorf("filestore: owner of %d bytes exceeds %d: %w", len(rec.Owner), maxOwner, session.ErrTooLarge)
	}
	b := make([]byte, headerSize, headerSize+len(rec.Owner))
	copy(b, magic)
	b[4] = formatVersion
	binary.BigEndian.PutUint64(b[5:], version)
	binary.BigEndian.PutUint64(b[13:], nanotime.Encode(rec.Expiry))
	binary.BigEndian.PutUint64(b[21:], nanotime.Encode(rec.Created))
	binary.BigEndian.PutUint64(b[29:], nanotime.Encode(modified))
	binary.BigEndian.PutUint32(b[37:], uint32(len(rec.Owner)))
	binary.BigEndian.PutUint64(b[41:], uint64(len(rec.Data)))
	b = append(b, rec.Owner...)
	crc := crc32.Update(0, castagnoli, b[:49])
	crc = crc32.Update(crc, castagnoli, b[headerSize:])
	crc = crc32.Update(crc, castagnoli, rec.Data)
	binary.BigEndian.PutUint32(b[49:], crc)
	return b, nil
}

// parseFixed checks and parses the fixed part of a header. size is the
// file's size, checked against the lengths it declares.
func parseFixed(b []byte, size int64) (meta, uint32, error) {
	if len(b) < headerSize {
		return meta{}, 0, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), headerSize)
	}
	if string(b[:4]) != magic {
		return meta{}, 0, fmt.Errorf("%w: bad magic %q (not written by filestore)", ErrCorrupt, b[:4])
	}
	if b[4] != formatVersion {
		return meta{}, 0, fmt.Errorf("%w: file format version %d, this library reads %d (written by a newer release?): %w", ErrCorrupt, b[4], formatVersion, session.ErrUnsupported)
	}
	m := meta{
		version:  binary.BigEndian.Uint64(b[5:]),
		expiry:   nanotime.Decode(binary.BigEndian.Uint64(b[13:])),
		created:  nanotime.Decode(binary.BigEndian.Uint64(b[21:])),
		modified: nanotime.Decode(binary.BigEndian.Uint64(b[29:])),
		dataLen:  binary.BigEndian.Uint64(b[41:]),
		crc:      binary.BigEndian.Uint32(b[49:]),
	}
	ownerLen := binary.BigEndian.Uint32(b[37:])
	if ownerLen > maxOwner {
		return meta{}, 0, fmt.Errorf("%w: owner length %d exceeds %d", ErrCorrupt, ownerLen, maxOwner)
	}
	if want := uint64(headerSize) + uint64(ownerLen) + m.dataLen; m.dataLen > math.MaxInt64/2 || want != uint64(size) {
		return meta{}, 0, fmt.Errorf("%w: header declares %d+%d+%d bytes, file has %d", ErrCorrupt, headerSize, ownerLen, m.dataLen, size)
	}
	return m, ownerLen, nil
}

// decodeFile parses a whole file and verifies its checksum.
func decodeFile(b []byte) (meta, []byte, error) {
	m, ownerLen, err := parseFixed(b, int64(len(b)))
	if err != nil {
		return meta{}, nil, err
	}
	owner := b[headerSize : headerSize+int(ownerLen)]
	data := b[headerSize+int(ownerLen):]
	crc := crc32.Update(0, castagnoli, b[:49])
	crc = crc32.Update(crc, castagnoli, owner)
	crc = crc32.Update(crc, castagnoli, data)
	if crc != m.crc {
		return meta{}, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	m.owner = string(owner)
	return m, data, nil
}

// readMeta reads only the header and owner of a file of the given size. It
// checks the declared lengths but not the checksum (which covers the data).
func readMeta(r io.Reader, size int64) (meta, error) {
	var b [headerSize]byte
	n, err := io.ReadFull(r, b[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return meta{}, err
	}
	m, ownerLen, err := parseFixed(b[:n], size)
	if err != nil {
		return meta{}, err
	}
	owner := make([]byte, ownerLen)
	if _, err := io.ReadFull(r, owner); err != nil {
		return meta{}, fmt.Errorf("%w: reading owner: %v", ErrCorrupt, err)
	}
	m.owner = string(owner)
	return m, nil
}

func (m meta) live(now time.Time) bool { return m.expiry.After(now) }

func (m meta) record(data []byte) session.Record {
	return session.Record{
		Data:     data,
		Expiry:   m.expiry,
		Version:  m.version,
		Owner:    m.owner,
		Created:  m.created,
		Modified: m.modified,
	}
}
