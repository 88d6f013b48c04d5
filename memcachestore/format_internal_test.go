package memcachestore

import (
	"bytes"
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
	touched, err := decode(withExpiry(b, later, later))
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
	good, _ := encode(session.Record{Data: []byte("x"), Owner: "bob"}, 1, time.Now())
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"php session", []byte(`user|s:5:"alice";n|i:3;`), ErrCorrupt},
		{"short", good[:Overhead-1], ErrCorrupt},
		{"owner overrun", good[:Overhead+2], ErrCorrupt},
		{"newer format", append([]byte("SKM\x07"), good[4:]...), session.ErrUnsupported},
	} {
		if _, err := decode(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	for n := range len(good) {
		_, _ = decode(good[:n]) // never panics
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := encode(session.Record{Data: []byte("x"), Owner: "bob"}, 1, time.Now())
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decode(b)
		if err == nil && Overhead+len(rec.Owner)+len(rec.Data) != len(b) {
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
