package session_test

import (
	"encoding/gob"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// profile is a struct of the application's own, as sessions hold them.
type profile struct {
	Name  string    `json:"name"`
	Age   int       `json:"age"`
	Tags  []string  `json:"tags"`
	Since time.Time `json:"since"`
}

func init() {
	gob.Register(profile{})
}

var everyCodec = []struct {
	name  string
	codec session.Codec
}{
	{"gob", session.GobCodec{}},
	{"json", session.JSONCodec{}},
	{"binary", session.BinaryCodec{}},
}

// serveOnce runs one request through m's middleware with the session
// cookie value ("" for none).
func serveOnce(m *session.Manager, cookie string, h http.HandlerFunc) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: m.Cookie.Name, Value: cookie})
	}
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, req)
	return rec
}

// saveThenRead stores values in a new session with writer, in one request,
// then calls read with that session as reader loads it in a second request.
func saveThenRead(t *testing.T, writer, reader *session.Manager, values map[string]any, read func(s *session.Session)) {
	t.Helper()
	rec := serveOnce(writer, "", func(w http.ResponseWriter, r *http.Request) {
		s := load(t, writer, r)
		for k, v := range values {
			s.Set(k, v)
		}
	})
	var id string
	for _, c := range rec.Result().Cookies() {
		if c.Name == writer.Cookie.Name {
			id = c.Value
		}
	}
	if rec.Code != http.StatusOK || id == "" {
		t.Fatalf("saving %v: status %d, cookie %q", values, rec.Code, id)
	}
	loaded := false
	rec = serveOnce(reader, id, func(w http.ResponseWriter, r *http.Request) {
		s := load(t, reader, r)
		if s.IsNew() {
			t.Errorf("the saved session was not found")
			return
		}
		loaded = true
		read(s)
	})
	if rec.Code != http.StatusOK || !loaded {
		t.Fatalf("reading: status %d", rec.Code)
	}
}

// roundTrip stores values through a Manager on a memstore with codec, and
// calls read with the session loaded back in a second request.
func roundTrip(t *testing.T, codec session.Codec, values map[string]any, read func(s *session.Session)) {
	t.Helper()
	m := session.New(memstore.New())
	m.Codec = codec
	saveThenRead(t, m, m, values, read)
}

// expectGet asserts that Get[T] of key gives want (ok true) or nothing.
func expectGet[T any](t *testing.T, s *session.Session, key string, want T, wantOK bool) {
	t.Helper()
	got, ok := session.Get[T](s, key)
	if ok != wantOK {
		t.Errorf("Get[%T](%q) = %#v, %v; want ok %v (stored %T %#v)", want, key, got, ok, wantOK, s.Get(key), s.Get(key))
		return
	}
	if !wantOK {
		var zero T
		if !reflect.DeepEqual(got, zero) {
			t.Errorf("Get[%T](%q) failed but returned %#v, not the zero value", want, key, got)
		}
		return
	}
	if !codecEqual(got, want) {
		t.Errorf("Get[%T](%q) = %#v, want %#v", want, key, got, want)
	}
}

func TestGetStructEveryCodec(t *testing.T) {
	p := profile{Name: "Ada", Age: 36, Tags: []string{"admin"}, Since: time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)}
	for _, c := range everyCodec {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, c.codec, map[string]any{
				"user":  p,
				"other": map[string]any{"name": "Bob", "shoe_size": 44},
			}, func(s *session.Session) {
				got, ok := session.Get[profile](s, "user")
				if !ok || got.Name != p.Name || got.Age != p.Age || !reflect.DeepEqual(got.Tags, p.Tags) || !got.Since.Equal(p.Since) {
					t.Errorf("Get[profile] = %#v, %v; want %#v", got, ok, p)
				}
				// A map with a field profile does not have is not a profile.
				expectGet(t, s, "other", profile{}, false)
				expectGet(t, s, "user", 0, false)
			})
		})
	}
}

func TestGetStructPointerFromJSON(t *testing.T) {
	roundTrip(t, session.JSONCodec{}, map[string]any{"user": profile{Name: "Ada", Age: 36}}, func(s *session.Session) {
		got, ok := session.Get[*profile](s, "user")
		if !ok || got == nil || got.Name != "Ada" || got.Age != 36 {
			t.Errorf("Get[*profile] = %#v, %v", got, ok)
		}
	})
}

func TestGetNumbersEveryCodec(t *testing.T) {
	for _, c := range everyCodec {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, c.codec, map[string]any{
				"n":     42,
				"big":   300,
				"neg":   -1,
				"id":    int64(1<<53 + 1), // not exact as a float64
				"half":  1.5,
				"whole": 2.0,
				"i32":   int32(-7),
				"ttl":   90 * time.Second,
			}, func(s *session.Session) {
				expectGet(t, s, "n", 42, true)
				expectGet(t, s, "n", int64(42), true)
				expectGet(t, s, "n", uint8(42), true)
				expectGet(t, s, "n", 42.0, true)
				expectGet(t, s, "big", uint8(0), false)
				expectGet(t, s, "neg", uint(0), false)
				expectGet(t, s, "id", int64(1<<53+1), true)
				expectGet(t, s, "half", 0, false)
				expectGet(t, s, "whole", 2, true)
				expectGet(t, s, "i32", int32(-7), true)
				expectGet(t, s, "i32", -7, true)
				expectGet(t, s, "ttl", 90*time.Second, true)
				expectGet(t, s, "n", "", false)
			})
		})
	}
}

func TestGetStringsEveryCodec(t *testing.T) {
	for _, c := range everyCodec {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, c.codec, map[string]any{
				"flash": []string{"Saved.", "Welcome back"},
				"none":  []string{},
				"mixed": []any{"a", 1},
				"holes": []any{"a", nil},
			}, func(s *session.Session) {
				expectGet(t, s, "flash", []string{"Saved.", "Welcome back"}, true)
				// gob gives a nil slice for an empty one.
				if got, ok := session.Get[[]string](s, "none"); !ok || len(got) != 0 {
					t.Errorf("Get[[]string](none) = %#v, %v", got, ok)
				}
				expectGet(t, s, "mixed", []string(nil), false)
				expectGet(t, s, "holes", []string(nil), false)
			})
		})
	}
}

func TestGetTimeEveryCodec(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("", 3600))
	for _, c := range everyCodec {
		t.Run(c.name, func(t *testing.T) {
			roundTrip(t, c.codec, map[string]any{"at": at, "text": "not a time"}, func(s *session.Session) {
				got, ok := session.Get[time.Time](s, "at")
				if !ok || !got.Equal(at) {
					t.Errorf("Get[time.Time] = %v, %v; want %v", got, ok, at)
				}
				expectGet(t, s, "text", time.Time{}, false)
			})
		})
	}
}

// TestGetJSONShapes converts what JSONCodec decodes objects and arrays to
// into the slice, map and array types that were stored.
func TestGetJSONShapes(t *testing.T) {
	team := []profile{{Name: "Ada", Age: 36}, {Name: "Bob", Tags: []string{}}}
	roundTrip(t, session.JSONCodec{}, map[string]any{
		"team":   team,
		"scores": map[string]int{"a": 1, "b": -2},
		"pair":   [2]int{3, 4},
		"ids":    []int64{1 << 60, 2},
		"fracs":  []float64{0.5},
	}, func(s *session.Session) {
		expectGet(t, s, "team", team, true)
		expectGet(t, s, "scores", map[string]int{"a": 1, "b": -2}, true)
		expectGet(t, s, "pair", [2]int{3, 4}, true)
		expectGet(t, s, "ids", []int64{1 << 60, 2}, true)
		expectGet(t, s, "fracs", []int(nil), false) // 0.5 is not an int
		expectGet(t, s, "scores", map[string]string(nil), false)
	})
}

func TestGetMissingKey(t *testing.T) {
	roundTrip(t, session.BinaryCodec{}, map[string]any{"k": "v"}, func(s *session.Session) {
		expectGet(t, s, "absent", "", false)
		expectGet(t, s, "absent", profile{}, false)
		expectGet(t, s, "k", "v", true)
	})
}
