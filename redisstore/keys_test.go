package redisstore

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
)

// mustNew returns a store on a client of a closed port (nothing is sent).
func mustNew(t *testing.T, opts Options) *Store {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:0"})
	t.Cleanup(func() { _ = c.Close() })
	s, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyLayout(t *testing.T) {
	s := mustNew(t, Options{Prefix: "a*b:"})
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

func TestDecodeRecord(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	good := map[string]string{"d": "data", "v": "42", "o": "owner", "c": "900000", "m": "950000", "x": "1000001"}
	with := func(field, value string) map[string]string {
		h := maps.Clone(good)
		h[field] = value
		return h
	}
	without := func(field string) map[string]string {
		h := maps.Clone(good)
		delete(h, field)
		return h
	}
	rec, ok, err := decodeRecord("k", good, now)
	if err != nil || !ok {
		t.Fatalf("decodeRecord = %v, %v", ok, err)
	}
	if string(rec.Data) != "data" || rec.Version != 42 || rec.Owner != "owner" ||
		rec.Created.UnixMilli() != 900000 || rec.Modified.UnixMilli() != 950000 || rec.Expiry.UnixMilli() != 1000001 {
		t.Fatalf("decodeRecord = %+v", rec)
	}
	for name, h := range map[string]map[string]string{
		"expiring now":   with("x", "1000000"),
		"negative times": with("x", "-5"),
		"missing key":    {},
	} {
		if _, ok, err := decodeRecord("k", h, now); ok || err != nil {
			t.Errorf("%s: ok %v err %v, want absent", name, ok, err)
		}
	}
	if _, ok, err := decodeRecord("k", with("i", "2000000"), now); !ok || err != nil {
		t.Errorf("with an index field: ok %v err %v", ok, err)
	}
	for name, h := range map[string]map[string]string{
		"no data":              without("d"),
		"no version":           without("v"),
		"no owner":             without("o"),
		"no created":           without("c"),
		"no modified":          without("m"),
		"no expiry":            without("x"),
		"only foreign fields":  {"foo": "bar"},
		"version not a number": with("v", "x"),
		"version zero":         with("v", "0"),
		"version with zeros":   with("v", "042"),
		"version signed":       with("v", "+42"),
		"version too large":    with("v", "18446744073709551616"),
		"expiry not a number":  with("x", "soon"),
		"expiry a float":       with("x", "1e6"),
		"expiry too long":      with("x", "1000000000000000000"),
		"created empty":        with("c", ""),
		"modified minus only":  with("m", "-"),
		"index not a number":   with("i", "later"),
	} {
		_, ok, err := decodeRecord("k", h, now)
		if !errors.Is(err, session.ErrCorrupt) || ok {
			t.Errorf("%s: ok %v err = %v, want session.ErrCorrupt", name, ok, err)
		}
		if errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s: a corrupt record reads as ErrNotFound", name)
		}
	}
	if v, err := parseVersion("18446744073709551615"); err != nil || v != 1<<64-1 {
		t.Errorf("parseVersion(max) = %d, %v", v, err)
	}
}

func TestIndexTarget(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	s := mustNew(t, Options{})
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
