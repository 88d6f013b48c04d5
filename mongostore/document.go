package mongostore

import (
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
)

// doc is a stored document, decoded leniently: fields may be missing or
// null, data may be a string (PHP) or binary (native mode).
type doc struct {
	key                                          string
	data                                         []byte
	modified, expires, created, seen             time.Time
	hasModified, hasExpires, hasCreated, hasSeen bool
	version                                      uint64 // 0 when absent or not a valid counter
	owner                                        string
}

// Stored versions are below versionLimit; versions reported for documents
// without one (written by PHP) have foreignBit set. See version.go.
const versionLimit = 1 << 62

func (s *Store) projection() bson.D {
	f := s.opts.Fields
	p := bson.D{}
	for _, name := range []string{f.Data, f.Modified, f.Expires, f.Version, f.Owner, f.Created, f.Seen} {
		p = append(p, bson.E{Key: name, Value: 1})
	}
	return p
}

func dateOf(raw bson.Raw, field string) (time.Time, bool) {
	v, err := raw.LookupErr(field)
	if err != nil {
		return time.Time{}, false
	}
	ms, ok := v.DateTimeOK()
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// decode reads a document. The data is copied: raw may be reused.
func (s *Store) decode(raw bson.Raw) (doc, error) {
	f := s.opts.Fields
	var d doc
	idv, err := raw.LookupErr("_id")
	if err != nil {
		return d, fmt.Errorf("document without _id: %w", session.ErrDecode)
	}
	key, ok := idv.StringValueOK()
	if !ok {
		return d, fmt.Errorf("_id of type %s, not a string: %w", idv.Type, session.ErrDecode)
	}
	d.key = key
	if v, err := raw.LookupErr(f.Data); err == nil {
		switch v.Type {
		case bson.TypeString:
			d.data = []byte(v.StringValue())
		case bson.TypeBinary:
			_, b := v.Binary()
			d.data = append([]byte{}, b...)
		case bson.TypeNull:
			d.data = []byte{}
		default:
			return d, fmt.Errorf("field %q of type %s, want string or binary: %w", f.Data, v.Type, session.ErrDecode)
		}
	} else {
		d.data = []byte{} // PHP reads a missing data field as ''
	}
	d.modified, d.hasModified = dateOf(raw, f.Modified)
	d.expires, d.hasExpires = dateOf(raw, f.Expires)
	d.created, d.hasCreated = dateOf(raw, f.Created)
	d.seen, d.hasSeen = dateOf(raw, f.Seen)
	if v, err := raw.LookupErr(f.Version); err == nil {
		d.version = counterOf(v)
	}
	if v, err := raw.LookupErr(f.Owner); err == nil {
		d.owner, _ = v.StringValueOK()
	}
	return d, nil
}

// counterOf returns a stored version, or 0 when v is not an integer in
// (0, versionLimit).
func counterOf(v bson.RawValue) uint64 {
	var n float64
	switch v.Type {
	case bson.TypeInt32:
		n = float64(v.Int32())
	case bson.TypeInt64:
		i := v.Int64()
		if i <= 0 || i >= versionLimit {
			return 0
		}
		return uint64(i)
	case bson.TypeDouble:
		n = v.Double()
	default:
		return 0
	}
	if n <= 0 || n >= versionLimit || n != math.Trunc(n) {
		return 0
	}
	return uint64(n)
}

// record turns a live document into a session.Record.
func (s *Store) record(d doc, now time.Time) session.Record {
	rec := session.Record{
		Data:    d.data,
		Expiry:  s.expiryOf(d, now),
		Version: d.version,
		Owner:   d.owner,
	}
	if rec.Version == 0 {
		rec.Version = foreignVersion(d)
	}
	if d.hasCreated {
		rec.Created = d.created
	}
	if d.hasModified {
		rec.Modified = d.modified
	}
	return rec
}
