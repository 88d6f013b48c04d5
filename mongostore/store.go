package mongostore

import (
	"context"
	"errors"
	"fmt"
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
// [Store.EnsureIndexes] once at start-up to create the indexes. It returns
// an error for a nil collection and for options it cannot use: a field
// named twice or invalid (empty after defaults, starting with "$",
// containing "." or NUL, or "_id"), a negative MaxLifetime or GCBatchSize.
func New(coll *mongo.Collection, opts Options) (*Store, error) {
	if coll == nil {
		return nil, errors.New("mongostore: nil collection")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Store{coll: coll, opts: o}, nil
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

// Load implements session.Store with one find command on _id alone; the
// document's liveness is judged here, from its fields, with Options.Now.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	rec, err := s.load(ctx, key)
	return rec, hideKey(key, err)
}

// load is Load, with errors that may name the key.
func (s *Store) load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	if err := checkKey("load", key); err != nil {
		return session.Record{}, err
	}
	d, found, err := s.find(ctx, "load", key)
	if err != nil {
		return session.Record{}, err
	}
	now := s.opts.Now()
	if !found || !s.live(d, now) {
		return session.Record{}, fmt.Errorf("mongostore: load: %w", session.ErrNotFound)
	}
	return s.record(d, now), nil
}

// find reads and decodes the document with _id key, for op: one find
// command whose filter is _id alone.
func (s *Store) find(ctx context.Context, op, key string) (doc, bool, error) {
	raw, err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: key}}, options.FindOne().SetProjection(s.projection())).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return doc{}, false, nil
	}
	if err != nil {
		return doc{}, false, fail(ctx, op, err)
	}
	d, err := s.decode(raw)
	if err != nil {
		return doc{}, false, fmt.Errorf("mongostore: %s %s: %w", op, keyRef(key), err)
	}
	return d, true, nil
}

// Delete implements session.Store with one delete command.
func (s *Store) Delete(ctx context.Context, key string) error {
	return hideKey(key, s.delete(ctx, key))
}

// delete is Delete, with errors that may name the key.
func (s *Store) delete(ctx context.Context, key string) error {
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
