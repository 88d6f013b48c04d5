package mongostore

import (
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
)

// doc is a stored document. Fields may be missing or null; data may be a
// string (PHP, Compat mode) or binary (native mode). Anything else is
// refused by decode with session.ErrCorrupt.
type doc struct {
	key                                          string
	data                                         []byte
	dataType                                     bson.Type // string, binary, or null when missing or null
	dataSubtype                                  byte
	modified, expires, created, seen             time.Time
	hasModified, hasExpires, hasCreated, hasSeen bool
	version                                      uint64 // 0 when missing or null
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

// corrupt is the error for a field this package cannot read.
func corrupt(field string, v bson.RawValue, want string) error {
	return fmt.Errorf("field %q of type %s, want %s: %w", field, v.Type, want, session.ErrCorrupt)
}

// present returns the value of field, and false when it is missing or null.
func present(raw bson.Raw, field string) (bson.RawValue, bool) {
	v, err := raw.LookupErr(field)
	if err != nil || v.Type == bson.TypeNull {
		return v, false
	}
	return v, true
}

// dateOf reads an optional date field.
func dateOf(raw bson.Raw, field string) (time.Time, bool, error) {
	v, ok := present(raw, field)
	if !ok {
		return time.Time{}, false, nil
	}
	ms, ok := v.DateTimeOK()
	if !ok {
		return time.Time{}, false, corrupt(field, v, "a date or null")
	}
	return time.UnixMilli(ms), true, nil
}

// decode reads a document; a field of the wrong type is an error wrapping
// session.ErrCorrupt. The data is copied: raw may be reused.
func (s *Store) decode(raw bson.Raw) (doc, error) {
	f := s.opts.Fields
	var d doc
	idv, err := raw.LookupErr("_id")
	if err != nil {
		return d, fmt.Errorf("document without _id: %w", session.ErrCorrupt)
	}
	key, ok := idv.StringValueOK()
	if !ok {
		return d, corrupt("_id", idv, "a string")
	}
	d.key = key
	d.data, d.dataType = []byte{}, bson.TypeNull // PHP reads a missing or null data field as ''
	if v, ok := present(raw, f.Data); ok {
		switch v.Type {
		case bson.TypeString:
			d.data, d.dataType = []byte(v.StringValue()), bson.TypeString
		case bson.TypeBinary:
			sub, b := v.Binary()
			d.data, d.dataType, d.dataSubtype = append([]byte{}, b...), bson.TypeBinary, sub
		default:
			return d, corrupt(f.Data, v, "a string or binary")
		}
	}
	for _, t := range []struct {
		field string
		at    *time.Time
		has   *bool
	}{
		{f.Modified, &d.modified, &d.hasModified}, {f.Expires, &d.expires, &d.hasExpires},
		{f.Created, &d.created, &d.hasCreated}, {f.Seen, &d.seen, &d.hasSeen},
	} {
		if *t.at, *t.has, err = dateOf(raw, t.field); err != nil {
			return d, err
		}
	}
	if v, ok := present(raw, f.Version); ok {
		if d.version = counterOf(v); d.version == 0 {
			return d, corrupt(f.Version, v, fmt.Sprintf("an integer in [1, 2^62) or null (value %s)", v))
		}
		if !d.hasExpires {
			// This package always writes expires with version.
			return d, fmt.Errorf("field %q set but %q missing: %w", f.Version, f.Expires, session.ErrCorrupt)
		}
	}
	if v, ok := present(raw, f.Owner); ok {
		if d.owner, ok = v.StringValueOK(); !ok {
			return d, corrupt(f.Owner, v, "a string or null")
		}
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
		Version: s.versionOf(d),
		Owner:   d.owner,
	}
	if d.hasCreated {
		rec.Created = d.created
	}
	if d.hasModified {
		rec.Modified = d.modified
	}
	return rec
}

// dateOrNull is a date field's value for a filter that matches the
// document as decoded: the date, or null (which matches null and missing).
func dateOrNull(t time.Time, has bool) any {
	if !has {
		return nil
	}
	return bson.NewDateTimeFromTime(t)
}

// versionOrNull is the version field's value for such a filter.
func versionOrNull(d doc) any {
	if d.version == 0 {
		return nil
	}
	return int64(d.version)
}

// dataValue is the data field's value for such a filter.
func dataValue(d doc) any {
	switch d.dataType {
	case bson.TypeString:
		return string(d.data)
	case bson.TypeBinary:
		return bson.Binary{Subtype: d.dataSubtype, Data: d.data}
	}
	return nil
}
