package session_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"testing"

	"github.com/sessionkit/session"
)

func key32() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

func TestEncryptedCodec(t *testing.T) {
	oldKey, newKey := key32(), key32()
	old, err := session.NewEncryptedCodec(session.GobCodec{}, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"user": "alice", "n": 3}
	data, err := old.EncodeFor("key-A", values)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("alice")) {
		t.Fatal("plaintext visible in encrypted data")
	}
	// Rotation: the new key encrypts, the old one still decrypts.
	rotated, err := session.NewEncryptedCodec(session.GobCodec{}, newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.DecodeFor("key-A", data)
	if err != nil || got["user"] != "alice" {
		t.Fatalf("rotated codec cannot read old data: %v %v", got, err)
	}
	fresh, _ := rotated.EncodeFor("key-A", values)
	if _, err := old.DecodeFor("key-A", fresh); !errors.Is(err, session.ErrDecrypt) {
		t.Fatalf("old codec read data of a key it does not have: %v", err)
	}
	// Bound to the store key: a record copied under another key fails.
	if _, err := rotated.DecodeFor("key-B", data); !errors.Is(err, session.ErrDecrypt) || !errors.Is(err, session.ErrDecode) {
		t.Fatalf("record copied under another key decrypted: %v", err)
	}
	// Tampering is detected.
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	if _, err := rotated.DecodeFor("key-A", bad); !errors.Is(err, session.ErrDecrypt) {
		t.Fatalf("tampered record decrypted: %v", err)
	}
	for _, short := range [][]byte{nil, {1}, data[:20]} {
		if _, err := rotated.DecodeFor("key-A", short); !errors.Is(err, session.ErrDecode) {
			t.Fatalf("short input: %v", err)
		}
	}
	if _, err := session.NewEncryptedCodec(session.GobCodec{}, []byte("short")); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func TestEncryptedSessionsThroughManager(t *testing.T) {
	f := newFixture(t)
	codec, err := session.NewEncryptedCodec(session.JSONCodec{}, key32())
	if err != nil {
		t.Fatal(err)
	}
	f.m.Codec = codec
	a := f.newSession("secret", "s3cret-value")
	b := f.newSession("secret", "other")
	if f.value(a, "secret") != "s3cret-value" {
		t.Fatal("encrypted session does not round trip")
	}
	recA, _ := f.store.Store.Load(t.Context(), f.m.KeyOf(a))
	if bytes.Contains(recA.Data, []byte("s3cret")) {
		t.Fatal("store holds plaintext")
	}
	// Copy a's record over b's: b's ID must not read a's data.
	recB, _ := f.store.Store.Load(t.Context(), f.m.KeyOf(b))
	recA.Version = recB.Version
	if _, err := f.store.Store.Save(t.Context(), f.m.KeyOf(b), recA); err != nil {
		t.Fatal(err)
	}
	var got any
	f.serve(func(w http.ResponseWriter, r *http.Request) { got = load(t, f.m, r).Get("secret") }, b)
	if got != nil {
		t.Fatalf("a record copied under another ID decrypted: %v", got)
	}
}
