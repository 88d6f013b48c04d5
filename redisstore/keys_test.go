package redisstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
)

func TestKeyLayout(t *testing.T) {
	s := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}), Options{Prefix: "a*b:"})
	if got, want := s.sessionKey("k1"), "a*b:{k1}"; got != want {
		t.Errorf("sessionKey = %q, want %q", got, want)
	}
	if got, want := s.ownerKey("u{1}"), "a*b:owner:{u{1}}"; got != want {
		t.Errorf("ownerKey = %q, want %q", got, want)
	}
	if got, want := s.scanPattern(), `a\*b:\{*\}`; got != want {
		t.Errorf("scanPattern = %q, want %q", got, want)
	}
	for rk, want := range map[string]string{
		"a*b:{k1}":            "k1",
		"a*b:owner:{u}":       "",
		"a*b:{}":              "",
		"a*b:{k1}x":           "",
		"other:{k1}":          "",
		"a*b:{" + "x{y" + "}": "",
	} {
		got, ok := s.storeKey(rk)
		if got != want || ok != (want != "") {
			t.Errorf("storeKey(%q) = %q, %v; want %q", rk, got, ok, want)
		}
	}
}

func TestGlobEscape(t *testing.T) {
	if got, want := globEscape(`p*?[x]\é`), `p\*\?\[x\]\\é`; got != want {
		t.Errorf("globEscape = %q, want %q", got, want)
	}
	// Bytes that are not UTF-8 pass through unchanged.
	if got := globEscape("\xff\xfe"); got != "\xff\xfe" {
		t.Errorf("globEscape of non-UTF-8 = %q", got)
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"", "a{b", "a}b", strings.Repeat("k", MaxKeyLen+1)} {
		if err := validKey(k); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("validKey(%.20q) = %v, want ErrInvalidKey", k, err)
		}
	}
	for _, k := range []string{"abc", "PHPSESSID,-09", strings.Repeat("f", 64), strings.Repeat("k", MaxKeyLen)} {
		if err := validKey(k); err != nil {
			t.Errorf("validKey(%.20q) = %v", k, err)
		}
	}
}

func TestBadPrefixPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("New with a prefix containing '{' did not panic")
		}
	}()
	New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}), Options{Prefix: "app{1}:"})
}

func TestDecodeRecord(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	good := []any{"data", "42", "owner", "900000", "950000", "1000001"}
	rec, ok, err := decodeRecord(good, now)
	if err != nil || !ok {
		t.Fatalf("decodeRecord = %v, %v", ok, err)
	}
	if string(rec.Data) != "data" || rec.Version != 42 || rec.Owner != "owner" ||
		rec.Created.UnixMilli() != 900000 || rec.Modified.UnixMilli() != 950000 || rec.Expiry.UnixMilli() != 1000001 {
		t.Fatalf("decodeRecord = %+v", rec)
	}
	expired := append([]any(nil), good...)
	expired[5] = "1000000"
	if _, ok, err := decodeRecord(expired, now); ok || err != nil {
		t.Fatalf("record expiring now: ok %v err %v, want absent", ok, err)
	}
	if _, ok, err := decodeRecord(make([]any, 6), now); ok || err != nil {
		t.Fatalf("missing key: ok %v err %v, want absent", ok, err)
	}
	for i, bad := range [][]any{
		{"data", "42", nil, "1", "1", "2000000"},
		{"data", "x", "", "1", "1", "2000000"},
		{"data", "42", "", "1", "1", "soon"},
		{"data", "42"},
	} {
		if _, _, err := decodeRecord(bad, now); !errors.Is(err, errCorrupt) {
			t.Errorf("case %d: err = %v, want errCorrupt", i, err)
		}
	}
}

func TestIndexTarget(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	s := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"}), Options{})
	if got, want := s.indexTarget(now, now.Add(time.Hour)), ms(now.Add(2*time.Hour)); got != want {
		t.Errorf("default slack: target %s, want %s (expiry + remaining lifetime)", got, want)
	}
	if got, want := s.indexTarget(now, now.Add(time.Second)), ms(now.Add(time.Second+time.Minute)); got != want {
		t.Errorf("short lifetime: target %s, want %s (at least a minute)", got, want)
	}
	s.slack = 5 * time.Minute
	if got, want := s.indexTarget(now, now.Add(time.Hour)), ms(now.Add(time.Hour+5*time.Minute)); got != want {
		t.Errorf("IndexSlack: target %s, want %s", got, want)
	}
}
