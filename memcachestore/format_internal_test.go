package memcachestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

func TestExpiration(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		expiry time.Time
		want   int32
	}{
		{now.Add(-time.Second), -1},
		{now, -1},
		{now.Add(time.Millisecond), 3},
		{now.Add(time.Second), 3},
		{now.Add(1500 * time.Millisecond), 4},
		{now.Add(time.Hour), 3602},
		{now.Add((thirtyDays - 3) * time.Second), thirtyDays - 1},
		{now.Add(40 * 24 * time.Hour), int32(now.Add(40*24*time.Hour).Unix() + 3)},
		{time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt32},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt32},
	}
	for _, tc := range cases {
		if got := expiration(tc.expiry, now); got != tc.want {
			t.Errorf("expiration(now%+v) = %d, want %d", tc.expiry.Sub(now), got, tc.want)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	now := time.Now()
	rec := session.Record{
		Data:    []byte("\x00\xff data"),
		Expiry:  now.Add(time.Hour),
		Owner:   "alice",
		Created: now.Add(-time.Minute),
	}
	b, err := encode(rec, 42, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != Overhead+len(rec.Owner)+len(rec.Data) {
		t.Fatalf("value of %d bytes, want %d", len(b), Overhead+len(rec.Owner)+len(rec.Data))
	}
	got, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, rec.Data) || got.Owner != rec.Owner || got.Version != 42 ||
		!got.Expiry.Equal(rec.Expiry) || !got.Created.Equal(rec.Created) || !got.Modified.Equal(now) {
		t.Fatalf("decoded %+v", got)
	}
	later := now.Add(2 * time.Hour)
	tb, err := withExpiry(b, later, later)
	if err != nil {
		t.Fatal(err)
	}
	touched, err := decode(tb)
	if err != nil || !touched.Expiry.Equal(later) || touched.Version != 42 || !bytes.Equal(touched.Data, rec.Data) {
		t.Fatalf("after withExpiry: %+v, %v", touched, err)
	}
	var zero session.Record
	b, _ = encode(zero, 1, time.Time{})
	if got, err := decode(b); err != nil || !got.Expiry.IsZero() || !got.Created.IsZero() {
		t.Fatalf("zero times: %+v, %v", got, err)
	}
	if _, err := encode(session.Record{Owner: strings.Repeat("o", maxOwner+1)}, 1, now); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("huge owner: %v", err)
	}
}

func TestDecodeRejectsForeignValues(t *testing.T) {
	good, _ := encode(session.Record{Data: []byte("some data"), Owner: "bob"}, 1, time.Now())
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want []error
	}{
		{"empty", nil, []error{ErrCorrupt, session.ErrCorrupt}},
		{"php session", []byte(`user|s:5:"alice";n|i:3;`), []error{ErrCorrupt, session.ErrCorrupt}},
		{"php session, long", []byte(`user|s:50:"alice alice alice alice alice alice alice al";`), []error{ErrCorrupt}},
		{"short", good[:Overhead-1], []error{ErrCorrupt}},
		{"owner overrun", good[:Overhead+2], []error{ErrCorrupt}},
		{"data truncated", good[:len(good)-1], []error{ErrCorrupt, session.ErrCorrupt}},
		{"data appended", append(bytes.Clone(good), 'x'), []error{ErrCorrupt}},
		{"flipped data byte", flip(len(good) - 1), []error{ErrCorrupt}},
		{"flipped expiry", flip(15), []error{ErrCorrupt}},
		{"newer format", append([]byte("SKM\x07"), good[4:]...), []error{session.ErrUnsupported, ErrCorrupt, session.ErrCorrupt}},
	} {
		_, err := decode(tc.b)
		for _, want := range tc.want {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, want)
			}
		}
	}
	for n := range len(good) {
		if _, err := decode(good[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	for i := range len(good) * 8 {
		b := bytes.Clone(good)
		b[i/8] ^= 1 << (i % 8)
		if _, err := decode(b); err == nil {
			t.Errorf("bit %d flipped: no error", i)
		}
	}
}

// TestDecodeFormat1 reads an item of format 1 (no data length, no
// checksum), as written by earlier releases; a Touch rewrites it in the
// current format.
func TestDecodeFormat1(t *testing.T) {
	b := make([]byte, overheadV1)
	copy(b, "SKM\x01")
	binary.BigEndian.PutUint64(b[4:], 77)
	binary.BigEndian.PutUint64(b[12:], uint64(time.Unix(2_000_000_000, 0).UnixNano()))
	binary.BigEndian.PutUint16(b[36:], 3)
	b = append(b, "bobdata"...)
	rec, err := decode(b)
	if err != nil || rec.Version != 77 || rec.Owner != "bob" || string(rec.Data) != "data" || rec.Expiry.Unix() != 2_000_000_000 {
		t.Fatalf("format 1: %+v, %v", rec, err)
	}
	later := time.Unix(2_000_000_100, 0)
	v2, err := withExpiry(b, later, later)
	if err != nil || v2[3] != formatVersion {
		t.Fatalf("withExpiry of a format 1 value: %v", err)
	}
	if rec, err := decode(v2); err != nil || rec.Version != 77 || rec.Owner != "bob" || string(rec.Data) != "data" || !rec.Expiry.Equal(later) {
		t.Fatalf("rewritten: %+v, %v", rec, err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := encode(session.Record{Data: []byte("x"), Owner: "bob"}, 1, time.Now())
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decode(b)
		if err != nil {
			return
		}
		header := Overhead
		if b[3] == 1 {
			header = overheadV1 // format 1: no data length, no checksum
		}
		if header+len(rec.Owner)+len(rec.Data) != len(b) {
			t.Fatalf("decoded lengths do not add up to %d", len(b))
		}
	})
}

func TestHintsBoundedByBytes(t *testing.T) {
	now := time.Now()
	c := newHints(4000)
	for i := range 100 {
		c.put(string(rune('A'+i%26))+strings.Repeat("k", i), hint{version: 1, value: make([]byte, 100), at: now})
	}
	if _, used := c.size(); used > 4000 {
		t.Fatalf("hint cache uses %d bytes, bound 4000", used)
	}
	// A value larger than a quarter of the budget is not kept.
	c.put("big", hint{version: 1, value: make([]byte, 2000), at: now})
	if _, ok := c.take("big", 1, now); ok {
		t.Fatal("oversized hint kept")
	}
	c.put("k", hint{version: 7, casID: 9, value: []byte("v"), at: now})
	if _, ok := c.take("k", 8, now); ok {
		t.Fatal("hint for another version used")
	}
	if h, ok := c.take("k", 7, now); !ok || h.casID != 9 {
		t.Fatalf("take = %+v, %v", h, ok)
	}
	if _, ok := c.take("k", 7, now); ok {
		t.Fatal("a hint served twice")
	}
	c.put("old", hint{version: 1, at: now.Add(-2 * hintTTL)})
	if _, ok := c.takeAny("old", now); ok {
		t.Fatal("stale hint used")
	}
	if n, used := c.size(); n == 0 && used != 0 {
		t.Fatalf("empty cache accounts %d bytes", used)
	}
	off := newHints(-1)
	off.put("k", hint{version: 1, at: now})
	if _, ok := off.takeAny("k", now); ok {
		t.Fatal("disabled cache returned a hint")
	}
}
