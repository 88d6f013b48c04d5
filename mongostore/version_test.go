package mongostore

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestVersions(t *testing.T) {
	for range 1000 {
		v := startVersion()
		if v == 0 || v >= startLimit {
			t.Fatalf("startVersion() = %d, want in [1, 2^53)", v)
		}
	}
	if got := nextVersion(41); got != 42 {
		t.Fatalf("nextVersion(41) = %d", got)
	}
	if got := nextVersion(0); got == 0 || got >= startLimit {
		t.Fatalf("nextVersion(0) = %d", got)
	}
	modified := time.UnixMilli(1_750_000_000_123)
	fv := foreignVersion(doc{modified: modified, hasModified: true})
	if fv&foreignBit == 0 || fv&nullBit != 0 || int64(fv&msMask) != modified.UnixMilli() {
		t.Fatalf("foreignVersion(modified) = %#x", fv)
	}
	if got := nextVersion(fv); got >= startLimit {
		t.Fatalf("nextVersion(foreign) = %d, want a fresh stored version", got)
	}
	nv := foreignVersion(doc{})
	if nv != foreignBit|nullBit {
		t.Fatalf("foreignVersion(null modified) = %#x", nv)
	}
	s := storeWith(t, Options{})
	if f := s.versionFilter(fv); f[0].Key != "modified" || f[0].Value != bson.DateTime(modified.UnixMilli()) || f[1].Key != "version" || f[1].Value != nil {
		t.Fatalf("versionFilter(foreign) = %v", f)
	}
	if f := s.versionFilter(nv); f[0].Key != "modified" || f[0].Value != nil {
		t.Fatalf("versionFilter(null) = %v", f)
	}
	if f := s.versionFilter(42); len(f) != 1 || f[0].Key != "version" || f[0].Value != int64(42) {
		t.Fatalf("versionFilter(42) = %v", f)
	}
}

func TestCounterOf(t *testing.T) {
	raw := func(v any) bson.RawValue {
		b, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
		if err != nil {
			t.Fatal(err)
		}
		return bson.Raw(b).Lookup("v")
	}
	for _, c := range []struct {
		in   any
		want uint64
	}{
		{int32(5), 5}, {int64(7), 7}, {float64(9), 9}, {float64(9.5), 0}, {int64(-1), 0},
		{int64(versionLimit), 0}, {"12", 0}, {nil, 0},
	} {
		if got := counterOf(raw(c.in)); got != c.want {
			t.Errorf("counterOf(%#v) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestModifiedClamp(t *testing.T) {
	s := storeWith(t, Options{MaxLifetime: 10 * time.Minute})
	now := time.UnixMilli(1_750_000_000_000)
	if got := s.modifiedFor(now.Add(time.Hour), now); got.Time() != now {
		t.Errorf("modified for a long expiry = %v, want now", got.Time())
	}
	exp := now.Add(3 * time.Minute)
	if got := s.modifiedFor(exp, now); got.Time() != exp.Add(-10*time.Minute) {
		t.Errorf("modified for a short expiry = %v, want expiry - MaxLifetime", got.Time())
	}
}

// storeWith returns a store that is never connected, for the functions
// that build filters and versions.
func storeWith(t *testing.T, opts Options) *Store {
	t.Helper()
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return &Store{opts: o}
}

// TestOptionsValidation: New returns an error, never panics, for options
// it cannot use.
func TestOptionsValidation(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1")) // never dialled
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("x").Collection("sessions")
	for _, o := range []Options{
		{Fields: Fields{Data: "x", Owner: "x"}},
		{Fields: Fields{Data: "_id"}},
		{Fields: Fields{Expires: "$bad"}},
		{Fields: Fields{Version: "a.b"}},
		{Fields: Fields{Seen: "modified"}},
		{Fields: Fields{Owner: "nul\x00"}},
		{MaxLifetime: -time.Second},
		{GCBatchSize: -1},
	} {
		if s, err := New(coll, o); err == nil || s != nil {
			t.Errorf("New(%+v) = %v, %v; want an error", o, s, err)
		}
	}
	if s, err := New(nil, Options{}); err == nil || s != nil {
		t.Errorf("New(nil collection) = %v, %v; want an error", s, err)
	}
	if s, err := New(coll, Options{}); err != nil || s == nil {
		t.Fatalf("New with the zero Options: %v", err)
	}
	o, err := Options{}.withDefaults()
	if err != nil || o.MaxLifetime != DefaultMaxLifetime || o.GCBatchSize != DefaultGCBatchSize || o.Fields.Data != "data" || o.Fields.Modified != "modified" {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
}

// TestCompatVersions: a Compat version digests the counter and the data
// (type included) and is never a native counter.
func TestCompatVersions(t *testing.T) {
	base := compatVersion(7, bson.TypeString, 0, []byte("a"))
	if base&compatBit == 0 {
		t.Fatalf("compatVersion = %#x without compatBit", base)
	}
	for name, v := range map[string]uint64{
		"other counter": compatVersion(8, bson.TypeString, 0, []byte("a")),
		"no counter":    compatVersion(0, bson.TypeString, 0, []byte("a")),
		"other data":    compatVersion(7, bson.TypeString, 0, []byte("b")),
		"binary":        compatVersion(7, bson.TypeBinary, 0, []byte("a")),
	} {
		if v == base {
			t.Errorf("%s: same version %#x", name, v)
		}
	}
	if again := compatVersion(7, bson.TypeString, 0, []byte("a")); again != base {
		t.Errorf("compatVersion is not a function of its input: %#x, %#x", base, again)
	}
	if got := nextVersion(base); got == 0 || got >= startLimit {
		t.Errorf("nextVersion(compat version) = %d, want a fresh counter", got)
	}
	s := storeWith(t, Options{Compat: true})
	d := doc{version: 7, dataType: bson.TypeString, data: []byte("a"), modified: time.UnixMilli(5), hasModified: true}
	if got := s.versionOf(d); got != base {
		t.Errorf("versionOf = %#x, want %#x", got, base)
	}
	d.modified, d.expires, d.hasExpires = time.UnixMilli(99), time.UnixMilli(1e12), true // a Touch
	if got := s.versionOf(d); got != base {
		t.Errorf("versionOf after a touch = %#x, want %#x", got, base)
	}
}
