package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// GC implements session.Collector. It deletes expired documents in batches
// of Options.GCBatchSize (a find of their ids, then a delete of those ids
// that are still expired) and returns how many it deleted.
//
// Documents with neither modified, expires nor created date (inserted by
// PHP and never updated) have no age of their own: GC stamps them with the
// current time in the Seen field the first time it meets them, and deletes
// them once MaxLifetime has passed since. GC does not rely on the TTL index,
// which some servers (FerretDB) do not implement.
func (s *Store) GC(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "gc", err)
	}
	now := s.opts.Now()
	stamp := bson.D{{Key: "$set", Value: bson.D{{Key: s.opts.Fields.Seen, Value: bson.NewDateTimeFromTime(now)}}}}
	if _, err := s.coll.UpdateMany(ctx, s.unseenFilter(), stamp); err != nil {
		return 0, fail(ctx, "gc: stamp first sight", err)
	}
	expired := s.expiredFilter(now)
	find := options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}}).
		SetLimit(int64(s.opts.GCBatchSize)).
		SetBatchSize(int32(s.opts.GCBatchSize))
	deleted := 0
	for {
		cur, err := s.coll.Find(ctx, expired, find)
		if err != nil {
			return deleted, fail(ctx, "gc: find", err)
		}
		var ids bson.A
		for cur.Next(ctx) {
			id := cur.Current.Lookup("_id")
			id.Value = append([]byte(nil), id.Value...) // Current is reused
			ids = append(ids, id)
		}
		err = cur.Err()
		_ = cur.Close(context.WithoutCancel(ctx))
		if err != nil {
			return deleted, fail(ctx, "gc: find", err)
		}
		if len(ids) == 0 {
			return deleted, nil
		}
		// Deleting by id and expiry: a document created again since the
		// find (a new session under the same key) is kept.
		filter := append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, expired...)
		res, err := s.coll.DeleteMany(ctx, filter)
		if err != nil {
			return deleted, fail(ctx, "gc: delete", err)
		}
		deleted += int(res.DeletedCount)
		if len(ids) < s.opts.GCBatchSize {
			return deleted, nil
		}
	}
}
