package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names used by [Store.EnsureIndexes].
const (
	OwnerIndexName   = "sessionkit_owner"
	ExpiresIndexName = "sessionkit_expires"
)

// Server error codes that EnsureIndexes tolerates.
const (
	codeIndexOptionsConflict  = 85
	codeIndexKeySpecsConflict = 86
	codeNotImplemented        = 238
)

// EnsureIndexes creates, if missing, an index on the owner field (for
// OwnerKeys) and a TTL index on the expires field with expireAfterSeconds 0,
// so that the server itself removes expired records of this package. A
// server that does not implement TTL indexes (FerretDB answers
// NotImplemented) gets a plain index on expires instead; GC does not depend
// on the TTL index either way. An existing index on the same field with other
// options is kept. The TTL index does not remove documents written only by
// PHP (they have no expires field): GC does.
//
// It is safe to call on every start and from several processes at once.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	f := s.opts.Fields
	iv := s.coll.Indexes()
	owner := mongo.IndexModel{
		Keys:    bson.D{{Key: f.Owner, Value: 1}},
		Options: options.Index().SetName(OwnerIndexName),
	}
	if _, err := iv.CreateOne(ctx, owner); err != nil && !conflict(err) {
		return fail(ctx, "ensure indexes: owner", err)
	}
	ttl := mongo.IndexModel{
		Keys:    bson.D{{Key: f.Expires, Value: 1}},
		Options: options.Index().SetName(ExpiresIndexName).SetExpireAfterSeconds(0),
	}
	_, err := iv.CreateOne(ctx, ttl)
	if err == nil || conflict(err) {
		return nil
	}
	if !hasCode(err, codeNotImplemented) {
		return fail(ctx, "ensure indexes: expires (TTL)", err)
	}
	plain := mongo.IndexModel{
		Keys:    bson.D{{Key: f.Expires, Value: 1}},
		Options: options.Index().SetName(ExpiresIndexName),
	}
	if _, err := iv.CreateOne(ctx, plain); err != nil && !conflict(err) {
		return fail(ctx, "ensure indexes: expires", err)
	}
	return nil
}

func conflict(err error) bool {
	return hasCode(err, codeIndexOptionsConflict) || hasCode(err, codeIndexKeySpecsConflict)
}

func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}
