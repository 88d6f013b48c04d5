package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
)

// Store is a session store on one MongoDB collection. It is safe for
// concurrent use, also by several processes sharing the collection.
type Store struct {
	coll *mongo.Collection
	opts Options
}

// Interfaces the store implements.
var (
	_ session.Store      = (*Store)(nil)
	_ session.Toucher    = (*Store)(nil)
	_ session.Collector  = (*Store)(nil)
	_ session.Iterator   = (*Store)(nil)
	_ session.OwnerIndex = (*Store)(nil)
)

// New returns a store on coll. It does not talk to the server; call
// [Store.EnsureIndexes] once at start-up to create the indexes. New panics
// when opts names a field twice or gives an invalid field name, a
// programming error.
func New(coll *mongo.Collection, opts Options) *Store {
	o, err := opts.withDefaults()
	if err != nil {
		panic(err)
	}
	return &Store{coll: coll, opts: o}
}

// Collection returns the collection the store uses.
func (s *Store) Collection() *mongo.Collection { return s.coll }

// fail wraps err for op, making sure that errors.Is(err, ctx.Err()) holds
// when the context is done.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("mongostore: %s: %w (%w)", op, cerr, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

func checkKey(op, key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("mongostore: %s: key of %d bytes (want 1 to %d bytes of UTF-8): %w", op, len(key), MaxKeyLen, session.ErrInvalidKey)
	}
	return nil
}

// Load implements session.Store with one find command.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	if err := checkKey("load", key); err != nil {
		return session.Record{}, err
	}
	now := s.opts.Now()
	raw, err := s.coll.FindOne(ctx, s.liveFilter(key, now), options.FindOne().SetProjection(s.projection())).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return session.Record{}, fmt.Errorf("mongostore: load: %w", session.ErrNotFound)
	}
	if err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	d, err := s.decode(raw)
	if err != nil {
		return session.Record{}, fmt.Errorf("mongostore: load %q: %w", key, err)
	}
	return s.record(d, now), nil
}

// Save implements session.Store with one update command: for rec.Version 0
// an upsert whose filter matches only an expired document (a live one makes
// the insert fail on the unique _id, reported as session.ErrConflict), and
// otherwise an update whose filter asks for the live document at
// rec.Version.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
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
	f := s.opts.Fields
	var data any
	if s.opts.Compat {
		if !utf8.Valid(rec.Data) {
			return 0, fmt.Errorf("mongostore: save: data is not valid UTF-8 and Compat mode stores a BSON string: %w", session.ErrUnsupported)
		}
		data = string(rec.Data)
	} else {
		data = bson.Binary{Subtype: bson.TypeBinaryGeneric, Data: rec.Data}
	}
	now := s.opts.Now()
	next := nextVersion(rec.Version)
	set := bson.D{
		{Key: f.Data, Value: data},
		{Key: f.Modified, Value: s.modifiedFor(rec.Expiry, now)},
		{Key: f.Expires, Value: bson.NewDateTimeFromTime(rec.Expiry)},
		{Key: f.Version, Value: int64(next)},
	}
	unset := bson.D{{Key: f.Seen, Value: ""}}
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
	update := bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: unset}}

	if rec.Version == 0 {
		filter := append(bson.D{{Key: "_id", Value: key}}, s.expiredFilter(now)...)
		_, err := s.coll.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) {
			return 0, fmt.Errorf("mongostore: save: a live record exists: %w", session.ErrConflict)
		}
		if err != nil {
			return 0, s.writeError(ctx, err)
		}
		return next, nil
	}
	filter := append(s.liveFilter(key, now), s.versionFilter(rec.Version)...)
	res, err := s.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return 0, s.writeError(ctx, err)
	}
	if res.MatchedCount == 0 {
		return 0, fmt.Errorf("mongostore: save: no live record at version %d: %w", rec.Version, session.ErrConflict)
	}
	return next, nil
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

// Delete implements session.Store with one delete command.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "delete", err)
	}
	if err := checkKey("delete", key); err != nil {
		return err
	}
	if _, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return fail(ctx, "delete", err)
	}
	return nil
}

// Touch implements session.Toucher with one update command that sets the
// expiry and the modified date and leaves data and version alone. (On a
// document written only by PHP, whose version is derived from its modified
// date, a save with the version loaded before the touch then conflicts
// once; the manager reloads and retries.)
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "touch", err)
	}
	if err := checkKey("touch", key); err != nil {
		return err
	}
	f := s.opts.Fields
	now := s.opts.Now()
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: f.Expires, Value: bson.NewDateTimeFromTime(expiry)},
		{Key: f.Modified, Value: s.modifiedFor(expiry, now)},
	}}}
	res, err := s.coll.UpdateOne(ctx, s.liveFilter(key, now), update)
	if err != nil {
		return fail(ctx, "touch", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongostore: touch: %w", session.ErrNotFound)
	}
	return nil
}
