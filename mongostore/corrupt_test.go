package mongostore_test

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// TestCorruptDocuments: a document whose fields have types this package
// never writes loads as an error wrapping session.ErrCorrupt (not
// ErrNotFound, not another error, never a panic), in both modes, and is
// left as it was. Iterate skips it.
func TestCorruptDocuments(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	now := time.Now()
	good := func(extra ...bson.E) bson.D {
		d := bson.D{
			{Key: "data", Value: "x"}, {Key: "modified", Value: bson.NewDateTimeFromTime(now)},
			{Key: "expires", Value: bson.NewDateTimeFromTime(now.Add(time.Hour))}, {Key: "version", Value: int64(3)},
		}
		for _, x := range extra {
			replaced := false
			for i := range d {
				if d[i].Key == x.Key {
					d[i], replaced = x, true
				}
			}
			if !replaced {
				d = append(d, x)
			}
		}
		return d
	}
	without := func(d bson.D, key string) bson.D {
		out := bson.D{}
		for _, x := range d {
			if x.Key != key {
				out = append(out, x)
			}
		}
		return out
	}
	cases := map[string]bson.D{
		"data an int":                 good(bson.E{Key: "data", Value: int32(7)}),
		"data a document":             good(bson.E{Key: "data", Value: bson.D{{Key: "a", Value: 1}}}),
		"modified a string":           good(bson.E{Key: "modified", Value: "2024-01-01"}),
		"expires an int":              good(bson.E{Key: "expires", Value: int64(1700000000)}),
		"created a string":            good(bson.E{Key: "created", Value: "yesterday"}),
		"seen a bool":                 good(bson.E{Key: "seen", Value: true}),
		"version a string":            good(bson.E{Key: "version", Value: "3"}),
		"version negative":            good(bson.E{Key: "version", Value: int64(-3)}),
		"version a fraction":          good(bson.E{Key: "version", Value: 2.5}),
		"version over the limit":      good(bson.E{Key: "version", Value: int64(1) << 62}),
		"owner an int":                good(bson.E{Key: "owner", Value: int32(1)}),
		"expires missing (native)":    without(good(), "expires"),
		"expires null (native)":       good(bson.E{Key: "expires", Value: nil}),
		"PHP shape, modified an int":  {{Key: "modified", Value: int64(1700000000)}, {Key: "data", Value: "x"}},
		"PHP shape, data an array":    {{Key: "modified", Value: nil}, {Key: "data", Value: bson.A{"x"}}},
		"PHP shape, modified a float": {{Key: "modified", Value: 1.5}, {Key: "data", Value: "x"}},
	}
	for _, compat := range []bool{false, true} {
		s := newStore(t, e.coll, mongostore.Options{Compat: compat})
		for name, fields := range cases {
			key := randomHex(8)
			if _, err := e.coll.InsertOne(ctx, append(bson.D{{Key: "_id", Value: key}}, fields...)); err != nil {
				t.Fatal(err)
			}
			before := rawDoc(t, e, key)
			_, err := s.Load(ctx, key)
			if !errors.Is(err, session.ErrCorrupt) || errors.Is(err, session.ErrNotFound) {
				t.Errorf("compat %v, %s: Load err = %v, want ErrCorrupt", compat, name, err)
			}
			// A first save on the key conflicts (the manager then draws
			// another ID); the document is left for GC or an operator.
			if _, err := s.Save(ctx, key, rec("new", time.Hour)); !errors.Is(err, session.ErrConflict) {
				t.Errorf("compat %v, %s: Save version 0 over it: %v, want ErrConflict", compat, name, err)
			}
			if after := rawDoc(t, e, key); string(after) != string(before) {
				t.Errorf("compat %v, %s: document changed: %s -> %s", compat, name, before, after)
			}
		}
		err := s.Iterate(ctx, func(k string, _ session.Record) bool {
			t.Errorf("compat %v: Iterate listed the corrupt document %s", compat, k)
			return true
		})
		if err != nil {
			t.Fatalf("Iterate: %v", err)
		}
	}
}
