package mongostore

import (
	"crypto/rand"
	"encoding/binary"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Versions.
//
// A document written by this package has an integer version field. A new
// record starts at a random version in [1, 2^53) — so a record that expired
// and was created again under the same key never reuses the version of its
// previous life — and every save stores the expected version + 1.
//
// A document without a version (inserted or updated only by PHP) is given a
// version derived from its modified date: foreignBit | nullBit when modified
// is null, foreignBit | milliseconds otherwise. PHP sets modified to a new
// date on every write, so a save with that version is a compare-and-set
// against PHP's writes too: its filter asks for "no version and the same
// modified". After the save the document carries a version of its own.

const (
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

// startVersion returns a random first version in [1, 2^53).
func startVersion() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])%(startLimit-1) + 1
}

// versionFilter returns the conditions (besides _id and liveness) that a
// document must meet to be at version v > 0.
func (s *Store) versionFilter(v uint64) bson.D {
	f := s.opts.Fields
	if v&foreignBit == 0 {
		return bson.D{{Key: f.Version, Value: int64(v)}}
	}
	var modified any // null: matches null or missing
	if v&nullBit == 0 {
		modified = bson.DateTime(int64(v & msMask))
	}
	stored := bson.D{{Key: f.Version, Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lt", Value: int64(versionLimit)}}}}
	return bson.D{
		{Key: f.Modified, Value: modified},
		{Key: "$nor", Value: bson.A{stored}},
	}
}

// nextVersion is the version a save expecting v stores.
func nextVersion(v uint64) uint64 {
	if v == 0 || v&foreignBit != 0 || v+1 >= versionLimit {
		return startVersion()
	}
	return v + 1
}
