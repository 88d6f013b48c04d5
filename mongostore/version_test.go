package mongostore

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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
	s := New(nil, Options{})
	if f := s.versionFilter(fv); f[0].Key != "modified" || f[0].Value != bson.DateTime(modified.UnixMilli()) {
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
	s := New(nil, Options{MaxLifetime: 10 * time.Minute})
	now := time.UnixMilli(1_750_000_000_000)
	if got := s.modifiedFor(now.Add(time.Hour), now); got.Time() != now {
		t.Errorf("modified for a long expiry = %v, want now", got.Time())
	}
	exp := now.Add(3 * time.Minute)
	if got := s.modifiedFor(exp, now); got.Time() != exp.Add(-10*time.Minute) {
		t.Errorf("modified for a short expiry = %v, want expiry - MaxLifetime", got.Time())
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, f := range []Fields{
		{Data: "x", Owner: "x"},
		{Data: "_id"},
		{Expires: "$bad"},
		{Version: "a.b"},
		{Seen: "modified"},
	} {
		if _, err := (Options{Fields: f}).withDefaults(); err == nil {
			t.Errorf("Fields %+v accepted", f)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New with invalid fields did not panic")
			}
		}()
		New(nil, Options{Fields: Fields{Data: "$x"}})
	}()
	o, err := Options{}.withDefaults()
	if err != nil || o.MaxLifetime != DefaultMaxLifetime || o.GCBatchSize != DefaultGCBatchSize || o.Fields.Data != "data" || o.Fields.Modified != "modified" {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
}
