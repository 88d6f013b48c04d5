package cachestore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func TestEntryRoundTrip(t *testing.T) {
	now := time.Now()
	for _, rec := range []session.Record{
		{Data: []byte("data"), Expiry: now.Add(time.Hour), Version: 7, Owner: "alice", Created: now.Add(-time.Hour), Modified: now},
		{Data: []byte{}, Expiry: now, Version: 1<<64 - 1},
		{Data: bytes.Repeat([]byte{0, 0xff}, 1000), Expiry: time.Date(3000, 1, 1, 0, 0, 0, 1, time.UTC), Version: 1, Created: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
	} {
		b := encodeEntry(rec, now)
		if len(b) != Overhead+len(rec.Data)+len(rec.Owner) {
			t.Fatalf("entry of %d bytes, want %d", len(b), Overhead+len(rec.Data)+len(rec.Owner))
		}
		e, err := decodeEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		got := e.rec
		if !bytes.Equal(got.Data, rec.Data) || got.Version != rec.Version || got.Owner != rec.Owner ||
			!got.Expiry.Equal(rec.Expiry) || !got.Created.Equal(rec.Created) || !got.Modified.Equal(rec.Modified) ||
			got.Created.IsZero() != rec.Created.IsZero() || e.cachedAt != now.UnixNano() {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(session.Record{Data: []byte("x"), Version: 3, Owner: "o", Expiry: time.Unix(5, 6)}, time.Unix(1, 0)))
	f.Add([]byte("skct\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			if !errors.Is(err, session.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if e.rec.Expiry.IsZero() || e.rec.Created.IsZero() || e.rec.Modified.IsZero() {
			return // the zero instant has two encodings
		}
		again := encodeEntry(e.rec, time.Unix(0, e.cachedAt))
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded entry encodes differently")
		}
	})
}
