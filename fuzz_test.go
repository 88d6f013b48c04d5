package session_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/sessionkit/session"
)

var hashedKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzCookieHeader sends arbitrary Cookie headers through the middleware:
// nothing panics, every request is answered, and the store only ever sees
// SHA-256 keys (never a client's raw value).
func FuzzCookieHeader(f *testing.F) {
	f.Add("session=" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("session=a; session=b")
	f.Add("session=")
	f.Add("session=\"quoted\"; other=1")
	f.Add("session=../../etc/passwd")
	f.Add("session=\x00\xff; ;;=;")
	fx := newFixture(f)
	valid := fx.newSession("k", "v")
	f.Add("session=" + valid)
	f.Fuzz(func(t *testing.T, header string) {
		fx.store.reset()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", header)
		rec := httptest.NewRecorder()
		fx.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := fx.m.Load(r.Context())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			s.Get("k")
		})).ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		for _, k := range fx.store.keys {
			if !hashedKey.MatchString(k) {
				t.Fatalf("store saw key %q", k)
			}
		}
	})
}

// FuzzCorruptRecord serves a session whose stored data is arbitrary bytes,
// with each codec: the request is answered, nothing panics, and the record
// is left as it was unless the data decoded.
func FuzzCorruptRecord(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("\x0e\xff\x81\x04\x01\x02\xff\x82\x00\x01\x0c\x01\x10\x00\x00"), uint8(0))
	f.Add([]byte(`{"k":"v"}`), uint8(1))
	f.Add([]byte(`{"k":[1,2,{"a":null}]} trailing`), uint8(1))
	f.Add([]byte("\x01\x00\x00\x00\x00nonce-nonce!ciphertext-and-tag"), uint8(2))
	encrypted, err := session.NewEncryptedCodec(session.GobCodec{}, make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("\x00S\x01\x01\x01k\x03\x01v"), uint8(3))
	f.Add([]byte("\x00S\x01\x01\x01k\x15\xff\xff\xff\xff\x0f"), uint8(3))
	codecs := []session.Codec{session.GobCodec{}, session.JSONCodec{}, encrypted, session.BinaryCodec{}}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		fx := newFixture(t)
		fx.m.Codec = codecs[int(which)%len(codecs)]
		id := fx.newSession("k", "v")
		key := fx.m.KeyOf(id)
		rec, err := fx.store.Store.Load(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		rec.Data = data
		if _, err := fx.store.Store.Save(t.Context(), key, rec); err != nil {
			t.Fatal(err)
		}
		res := fx.serve(func(w http.ResponseWriter, r *http.Request) {
			s := load(t, fx.m, r)
			_ = s.Keys()
		}, id)
		if res.Code != http.StatusOK {
			t.Fatalf("status %d", res.Code)
		}
		after, err := fx.store.Store.Load(t.Context(), key)
		if err != nil || string(after.Data) != string(data) {
			t.Fatalf("record changed by a read: %v", err)
		}
	})
}
