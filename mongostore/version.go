package mongostore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Versions.
//
// A document written by this package has an integer version field, the
// stored counter. A new record starts at a random counter in [1, 2^53) — so
// a record that expired and was created again under the same key never
// reuses the version of its previous life — and every save stores the
// counter it replaced + 1.
//
// Native mode reports the stored counter as Record.Version. A document
// without a counter (inserted or updated only by PHP) is given a version
// derived from its modified date: foreignBit | nullBit when modified is
// null, foreignBit | milliseconds otherwise; a save with it asks for "no
// counter and the same modified".
//
// Compat mode reports compatVersion: a digest of the counter (or its
// absence) and the data, with compatBit set. PHP's write ($set modified
// and data) leaves the counter alone but changes the data, so the digest
// changes with every write of either side; Touch changes neither, so the
// version survives a Touch. A Compat save reads the document, compares its
// digest with Record.Version, and updates with a filter on the counter and
// the data exactly as read: a write of either side in between makes the
// update match nothing.

const (
	compatBit  = 1 << 63
	foreignBit = 1 << 62
	nullBit    = 1 << 61
	msMask     = nullBit - 1
	startLimit = 1 << 53
)

func foreignVersion(d doc) uint64 {
	if !d.hasModified {
		return foreignBit | nullBit
	}
	return foreignBit | uint64(d.modified.UnixMilli())&msMask
}

// versionOf is the Record.Version reported for d.
func (s *Store) versionOf(d doc) uint64 {
	switch {
	case s.opts.Compat:
		return compatVersion(d.version, d.dataType, d.dataSubtype, d.data)
	case d.version != 0:
		return d.version
	}
	return foreignVersion(d)
}

// compatVersion digests a counter (0: none) and the data as stored.
func compatVersion(counter uint64, typ bson.Type, subtype byte, data []byte) uint64 {
	h := sha256.New()
	var head [10]byte
	binary.BigEndian.PutUint64(head[:8], counter)
	head[8], head[9] = byte(typ), subtype
	h.Write(head[:])
	h.Write(data)
	return binary.BigEndian.Uint64(h.Sum(nil)) | compatBit
}

// startVersion returns a random first version in [1, 2^53).
func startVersion() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])%(startLimit-1) + 1
}

// versionFilter returns the conditions (besides _id) that a document must
// meet to be at native version v > 0.
func (s *Store) versionFilter(v uint64) bson.D {
	f := s.opts.Fields
	if v&foreignBit == 0 {
		return bson.D{{Key: f.Version, Value: int64(v)}}
	}
	var modified any // null: matches null or missing
	if v&nullBit == 0 {
		modified = bson.DateTime(int64(v & msMask))
	}
	return bson.D{{Key: f.Modified, Value: modified}, {Key: f.Version, Value: nil}}
}

// nextVersion is the counter a save stores over counter v (0: none, or a
// derived native version).
func nextVersion(v uint64) uint64 {
	if v == 0 || v&(foreignBit|compatBit) != 0 || v+1 >= versionLimit {
		return startVersion()
	}
	return v + 1
}
