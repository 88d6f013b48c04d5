package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
)

// Garbage collection interfaces the store implements.
var (
	_ session.BatchCollector = (*Store)(nil)
	_ session.ExpiredCounter = (*Store)(nil)
)

// errGCLimit is wrapped by the error of a GCBatch call whose limit is not
// positive.
var errGCLimit = errors.New("mongostore: gc batch limit must be positive")

// GC implements session.Collector. It deletes expired documents in batches
// of Options.GCBatchSize, calling [Store.GCBatch] until a batch comes back
// short, and returns how many it deleted.
//
// Documents with neither modified, expires nor created date (inserted by
// PHP and never updated) have no age of their own: GC stamps them with the
// current time in the Seen field at the end of the first pass that meets
// them, and deletes them once MaxLifetime has passed since. GC does not rely on the TTL index,
// which some servers (FerretDB) do not implement.
func (s *Store) GC(ctx context.Context) (int, error) {
	deleted := 0
	for {
		n, err := s.GCBatch(ctx, s.opts.GCBatchSize)
		deleted += n
		if err != nil || n < s.opts.GCBatchSize {
			return deleted, err
		}
	}
}

// GCBatch implements session.BatchCollector. It deletes at most limit
// expired documents: a find of up to limit ids of expired documents, then a
// delete of the documents with those ids that are still expired (a session
// created again in between is kept). When another process deleted or
// renewed some of them in between, it finds more, so that a count below
// limit means that the find came back short: no expired document was left
// when it looked (or another GC running at the same moment took the rest).
//
// The call that finds fewer than limit has seen the end of the expired
// documents; it also stamps Seen on the documents that have no date at all
// (see [Store.GC]), one update per pass over the collection rather than
// one per batch. A limit that is not positive is an error.
func (s *Store) GCBatch(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: got %d", errGCLimit, limit)
	}
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "gc", err)
	}
	now := s.opts.Now()
	expired := s.expiredFilter(now)
	deleted := 0
	for deleted < limit {
		want := limit - deleted
		ids, err := s.expiredIDs(ctx, expired, want)
		if err != nil {
			return deleted, err
		}
		n := 0
		if len(ids) > 0 {
			// Deleting by id and expiry: a document created again since
			// the find (a new session under the same key) is kept.
			filter := append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, expired...)
			res, err := s.coll.DeleteMany(ctx, filter)
			if err != nil {
				return deleted, fail(ctx, "gc: delete", err)
			}
			n = int(res.DeletedCount)
			deleted += n
		}
		if len(ids) < want {
			// The end of the expired documents: the moment to stamp the
			// undated ones, once per pass.
			return deleted, s.stampUnseen(ctx, now)
		}
		if n == 0 {
			// Every document found was taken by someone else meanwhile
			// (another GC, a new session under the same key). Stop rather
			// than chase them: that GC goes on with the rest.
			return deleted, nil
		}
	}
	return deleted, nil
}

// expiredIDs returns the _id of at most limit documents matching expired.
func (s *Store) expiredIDs(ctx context.Context, expired bson.D, limit int) (bson.A, error) {
	// A first batch one larger than the limit holds every id: FerretDB
	// then closes the cursor at once instead of answering an empty getMore.
	find := options.Find().
		SetProjection(bson.D{{Key: "_id", Value: 1}}).
		SetLimit(int64(limit)).
		SetBatchSize(int32(min(limit, 1<<20) + 1))
	cur, err := s.coll.Find(ctx, expired, find)
	if err != nil {
		return nil, fail(ctx, "gc: find", err)
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
		return nil, fail(ctx, "gc: find", err)
	}
	return ids, nil
}

// stampUnseen sets Seen to now on the documents without any date (rule 5 of
// the liveness rule), so that they expire MaxLifetime from now.
func (s *Store) stampUnseen(ctx context.Context, now time.Time) error {
	stamp := bson.D{{Key: "$set", Value: bson.D{{Key: s.opts.Fields.Seen, Value: bson.NewDateTimeFromTime(now)}}}}
	if _, err := s.coll.UpdateMany(ctx, s.unseenFilter(), stamp); err != nil {
		return fail(ctx, "gc: stamp first sight", err)
	}
	return nil
}

// CountExpired implements session.ExpiredCounter: the number of documents
// that GC would delete now, counted by the server with one CountDocuments
// on the same filter GC uses (documents that GC has not stamped yet are
// live, so they are not counted).
func (s *Store) CountExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "count expired", err)
	}
	n, err := s.coll.CountDocuments(ctx, s.expiredFilter(s.opts.Now()))
	if err != nil {
		return 0, fail(ctx, "count expired", err)
	}
	return int(n), nil
}
