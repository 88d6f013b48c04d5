package mongostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// Collection sizes of the benchmarks: the cost of Load and Save should not
// grow with the number of other sessions beyond what the server's own _id
// lookup costs (the Driver benchmarks).
var benchSizes = []int{10, 10_000}

// populated returns a store on a collection holding n other live sessions
// (inserted with InsertMany in batches) and the key of one more.
func populated(b *testing.B, n int) (*env, *mongostore.Store, string) {
	b.Helper()
	e := newEnv(b)
	s := e.store(b, mongostore.Options{})
	ctx := ctxFor(b)
	now := time.Now()
	const batch = 1000
	docs := make([]any, 0, batch)
	for i := range n {
		docs = append(docs, bson.D{
			{Key: "_id", Value: fmt.Sprintf("%064d", i)},
			{Key: "data", Value: bson.Binary{Data: []byte(fmt.Sprintf("other session %d", i))}},
			{Key: "modified", Value: bson.NewDateTimeFromTime(now)},
			{Key: "expires", Value: bson.NewDateTimeFromTime(now.Add(time.Hour))},
			{Key: "version", Value: int64(i + 1)},
		})
		if len(docs) == batch || i == n-1 {
			if _, err := e.coll.InsertMany(ctx, docs); err != nil {
				b.Fatalf("insert %d documents: %v", n, err)
			}
			docs = docs[:0]
		}
	}
	key := randomHex(32)
	if _, err := s.Save(ctx, key, session.Record{Data: []byte("benchmark session"), Expiry: now.Add(time.Hour), Created: now}); err != nil {
		b.Fatal(err)
	}
	return e, s, key
}

func BenchmarkLoad(b *testing.B) {
	for _, n := range benchSizes {
		_, s, key := populated(b, n)
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := s.Load(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSave(b *testing.B) {
	for _, n := range benchSizes {
		_, s, key := populated(b, n)
		b.Run(fmt.Sprintf("docs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			r, err := s.Load(ctx, key)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				r.Expiry = time.Now().Add(time.Hour)
				if r.Version, err = s.Save(ctx, key, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDriver is the reference: the driver's own FindOne and UpdateOne
// on {_id} alone, on the same collections.
func BenchmarkDriver(b *testing.B) {
	for _, n := range benchSizes {
		e, _, key := populated(b, n)
		id := bson.D{{Key: "_id", Value: key}}
		b.Run(fmt.Sprintf("op=FindOne/docs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := e.coll.FindOne(ctx, id).Raw(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("op=UpdateOne/docs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				set := bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(time.Hour))}}}}
				if _, err := e.coll.UpdateOne(ctx, id, set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
