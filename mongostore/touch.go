package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
)

// Touch implements session.Toucher with one update command that sets the
// expiry and the modified date and leaves data and counter alone. Touch has
// no version to pin, so its filter is _id and the liveness rule: an expired
// document is not revived (session.ErrNotFound). In Compat mode the version
// survives a Touch; in native mode a document written only by PHP, whose
// version is derived from its modified date, gets a new version, so a save
// with the version loaded before the touch conflicts once (the manager
// reloads and retries).
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	return hideKey(key, s.touch(ctx, key, expiry))
}

// touch is Touch, with errors that may name the key.
func (s *Store) touch(ctx context.Context, key string, expiry time.Time) error {
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
	filter := bson.D{{Key: "_id", Value: key}, {Key: "$or", Value: s.liveBranches(now)}}
	res, err := s.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return fail(ctx, "touch", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongostore: touch: %w", session.ErrNotFound)
	}
	return nil
}
