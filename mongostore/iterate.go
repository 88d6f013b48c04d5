package mongostore

import (
	"context"
	"fmt"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
)

// Iterate implements session.Iterator: it walks the live documents with one
// cursor and calls fn for each until fn returns false. Documents whose _id
// is not a string, or whose data is neither a string nor binary, are not
// session records of this store and are skipped.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "iterate", err)
	}
	now := s.opts.Now()
	filter := bson.D{{Key: "$or", Value: s.liveBranches(now)}}
	cur, err := s.coll.Find(ctx, filter, options.Find().SetProjection(s.projection()))
	if err != nil {
		return fail(ctx, "iterate", err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		d, err := s.decode(cur.Current)
		if err != nil {
			continue
		}
		if !fn(d.key, s.record(d, now)) {
			return nil
		}
	}
	if err := cur.Err(); err != nil {
		return fail(ctx, "iterate", err)
	}
	return nil
}

// OwnerKeys implements session.OwnerIndex: the keys of the live documents
// of owner, found through the owner index that [Store.EnsureIndexes]
// creates. The owner of every document found is compared with owner byte
// for byte, so that a collection or index with a collation that ignores
// case or accents never returns another owner's records. An owner that
// Save refuses (over MaxKeyLen bytes, or not UTF-8, which a BSON string
// cannot hold) is refused with session.ErrUnsupported.
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	if len(owner) > MaxKeyLen || !utf8.ValidString(owner) {
		return nil, fmt.Errorf("mongostore: owner keys: owner of %d bytes (want at most %d bytes of UTF-8): %w", len(owner), MaxKeyLen, session.ErrUnsupported)
	}
	now := s.opts.Now()
	field := s.opts.Fields.Owner
	filter := bson.D{
		{Key: field, Value: owner},
		{Key: "$or", Value: s.liveBranches(now)},
	}
	projection := bson.D{{Key: "_id", Value: 1}, {Key: field, Value: 1}}
	cur, err := s.coll.Find(ctx, filter, options.Find().SetProjection(projection))
	if err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	var keys []string
	for cur.Next(ctx) {
		k, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			continue
		}
		if o, ok := cur.Current.Lookup(field).StringValueOK(); ok && o == owner {
			keys = append(keys, k)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	return keys, nil
}
