package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sessionkit/session"
)

// Save implements session.Store.
//
//   - rec.Version 0 (a new record): one insert. Only when the key is taken
//     (duplicate key) does it read the document: a live one is
//     session.ErrConflict, an expired one is replaced on the condition that
//     it is still the expired document that was read.
//   - Native mode: one update whose filter is _id and the stored counter
//     (or, for a document without one, "no counter and the same
//     modified").
//   - Compat mode: a find on _id, the comparison of the document's digest
//     with rec.Version, and one update whose filter is _id, the counter and
//     the data as read, so that a PHP write ($set modified and data, counter
//     untouched) since the load is a conflict, never overwritten.
//
// Zero matched documents is session.ErrConflict.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	v, err := s.save(ctx, key, rec)
	return v, hideKey(key, err)
}

// save is Save, with errors that may name the key.
func (s *Store) save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "save", err)
	}
	if err := checkKey("save", key); err != nil {
		return 0, err
	}
	if len(rec.Data) > MaxDataSize {
		return 0, fmt.Errorf("mongostore: save: %d bytes of data, at most %d: %w", len(rec.Data), MaxDataSize, session.ErrTooLarge)
	}
	if len(rec.Owner) > MaxKeyLen || !utf8.ValidString(rec.Owner) {
		return 0, fmt.Errorf("mongostore: save: owner of %d bytes (want at most %d bytes of UTF-8): %w", len(rec.Owner), MaxKeyLen, session.ErrUnsupported)
	}
	if s.opts.Compat && !utf8.Valid(rec.Data) {
		return 0, fmt.Errorf("mongostore: save: data is not valid UTF-8 and Compat mode stores a BSON string: %w", session.ErrUnsupported)
	}
	switch {
	case rec.Version == 0:
		return s.create(ctx, key, rec)
	case s.opts.Compat:
		return s.saveCompat(ctx, key, rec)
	}
	next := nextVersion(rec.Version)
	filter := append(bson.D{{Key: "_id", Value: key}}, s.versionFilter(rec.Version)...)
	return s.update(ctx, filter, s.updateFor(rec, next), next, rec.Version)
}

// saveCompat is the compare-and-set of Compat mode: read, compare the
// digest, update on the counter and the data as read.
func (s *Store) saveCompat(ctx context.Context, key string, rec session.Record) (uint64, error) {
	d, found, err := s.find(ctx, "save", key)
	if err != nil {
		return 0, err
	}
	if !found || !s.live(d, s.opts.Now()) || s.versionOf(d) != rec.Version {
		return 0, fmt.Errorf("mongostore: save: no live record at version %d: %w", rec.Version, session.ErrConflict)
	}
	f := s.opts.Fields
	filter := bson.D{
		{Key: "_id", Value: key},
		{Key: f.Version, Value: versionOrNull(d)},
		{Key: f.Data, Value: dataValue(d)},
	}
	next := nextVersion(d.version)
	return s.update(ctx, filter, s.updateFor(rec, next), s.stored(next, rec.Data), rec.Version)
}

// update runs the conditional update of a save expecting version v and
// returns reported on success.
func (s *Store) update(ctx context.Context, filter, update bson.D, reported, v uint64) (uint64, error) {
	res, err := s.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return 0, s.writeError(ctx, err)
	}
	if res.MatchedCount == 0 {
		return 0, fmt.Errorf("mongostore: save: no live record at version %d: %w", v, session.ErrConflict)
	}
	return reported, nil
}

// create stores a new record: an insert, and on a duplicate key the
// replacement of the document if it is expired.
func (s *Store) create(ctx context.Context, key string, rec session.Record) (uint64, error) {
	next := nextVersion(0)
	set, _ := s.fieldsFor(rec, next)
	newDoc := append(bson.D{{Key: "_id", Value: key}}, set...)
	_, err := s.coll.InsertOne(ctx, newDoc)
	if err == nil {
		return s.stored(next, rec.Data), nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return 0, s.writeError(ctx, err)
	}
	d, found, err := s.find(ctx, "save", key)
	switch {
	case errors.Is(err, session.ErrCorrupt):
		return 0, fmt.Errorf("mongostore: save: the key holds a document this package cannot read: %w (%w)", session.ErrConflict, err)
	case err != nil:
		return 0, err
	case !found:
		// Deleted since the insert failed: the caller may try again.
		return 0, fmt.Errorf("mongostore: save: the key was taken and freed during the save: %w", session.ErrConflict)
	case s.live(d, s.opts.Now()):
		return 0, fmt.Errorf("mongostore: save: a live record exists: %w", session.ErrConflict)
	}
	// Expired: replace it, if it is still the document just read. Every
	// write of this package changes the counter and every PHP write the
	// modified date; Touch refuses expired documents.
	f := s.opts.Fields
	filter := bson.D{
		{Key: "_id", Value: key},
		{Key: f.Version, Value: versionOrNull(d)},
		{Key: f.Modified, Value: dateOrNull(d.modified, d.hasModified)},
		{Key: f.Expires, Value: dateOrNull(d.expires, d.hasExpires)},
	}
	res, err := s.coll.ReplaceOne(ctx, filter, newDoc)
	if err != nil {
		return 0, s.writeError(ctx, err)
	}
	if res.MatchedCount == 0 {
		return 0, fmt.Errorf("mongostore: save: the expired record was written during the save: %w", session.ErrConflict)
	}
	return s.stored(next, rec.Data), nil
}

// stored is the Record.Version of a record saved with counter and data.
func (s *Store) stored(counter uint64, data []byte) uint64 {
	if s.opts.Compat {
		return compatVersion(counter, bson.TypeString, 0, data)
	}
	return counter
}

// fieldsFor returns the fields a save of rec with counter sets, and those
// it removes.
func (s *Store) fieldsFor(rec session.Record, counter uint64) (set, unset bson.D) {
	f := s.opts.Fields
	var data any
	if s.opts.Compat {
		data = string(rec.Data)
	} else {
		data = bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: rec.Data}
	}
	set = bson.D{
		{Key: f.Data, Value: data},
		{Key: f.Modified, Value: s.modifiedFor(rec.Expiry, s.opts.Now())},
		{Key: f.Expires, Value: bson.NewDateTimeFromTime(rec.Expiry)},
		{Key: f.Version, Value: int64(counter)},
	}
	unset = bson.D{{Key: f.Seen, Value: ""}}
	if rec.Owner != "" {
		set = append(set, bson.E{Key: f.Owner, Value: rec.Owner})
	} else {
		unset = append(unset, bson.E{Key: f.Owner, Value: ""})
	}
	if !rec.Created.IsZero() {
		set = append(set, bson.E{Key: f.Created, Value: bson.NewDateTimeFromTime(rec.Created)})
	} else {
		unset = append(unset, bson.E{Key: f.Created, Value: ""})
	}
	return set, unset
}

// updateFor is the update document of a save of rec with counter.
func (s *Store) updateFor(rec session.Record, counter uint64) bson.D {
	set, unset := s.fieldsFor(rec, counter)
	return bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: unset}}
}

// modifiedFor is the modified date written with expiry: the current time,
// but never later than expiry - MaxLifetime, so that the MaxLifetime rule
// for PHP's writes never keeps a record alive past its expiry.
func (s *Store) modifiedFor(expiry, now time.Time) bson.DateTime {
	m := now
	if limit := expiry.Add(-s.opts.MaxLifetime); limit.Before(m) {
		m = limit
	}
	return bson.NewDateTimeFromTime(m)
}

// writeError maps a failed write: a document over the server's size limit
// is session.ErrTooLarge.
func (s *Store) writeError(ctx context.Context, err error) error {
	var se mongo.ServerError
	if errors.As(err, &se) {
		// 10334 BSONObjectTooLarge, 17419/17420 update result too large.
		for _, code := range []int{10334, 17419, 17420} {
			if se.HasErrorCode(code) {
				return fmt.Errorf("mongostore: save: %w: %w", session.ErrTooLarge, err)
			}
		}
	}
	return fail(ctx, "save", err)
}
