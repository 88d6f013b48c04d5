package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// result is the outcome of one in-process run of sessionctl.
type result struct {
	code           int
	stdout, stderr string
}

// ctl runs sessionctl in-process with args.
func ctl(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// must runs sessionctl and fails the test unless it exits 0.
func must(t *testing.T, args ...string) result {
	t.Helper()
	r := ctl(t, args...)
	if r.code != exitOK {
		t.Fatalf("sessionctl %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs sessionctl and fails the test unless it exits with code and
// stderr contains want.
func fails(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := ctl(t, args...)
	if r.code != code {
		t.Fatalf("sessionctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Fatalf("sessionctl %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}

// seeded describes the records that seed wrote.
type seeded struct {
	alice, bob []string // session IDs
	expired    []string // store keys of expired records
	keyOf      func(id string) string
	all        []string // every store key written
}

// seed writes test sessions: live ones (two of alice, one of bob; owners only when
// the store keeps them) and, for stores that keep expired records, two
// expired ones, straight through the store with the URL's codec, the way
// the manager writes them.
func seed(t *testing.T, storeURL string, owners, collector bool) seeded {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tgt, err := storeurl.Open(ctx, storeURL, storeurl.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", storeURL, err)
	}
	defer tgt.Close()
	m := session.New(tgt.Store)
	m.RawIDs = tgt.RawIDs
	codec := tgt.Codec
	if codec == nil {
		codec = session.GobCodec{}
	}
	s := seeded{keyOf: m.KeyOf}
	now := time.Now()
	write := func(owner string, n int, expiry time.Time) (id string) {
		id = randomID()
		data, err := codec.Encode(map[string]any{"user": owner, "n": n})
		if err != nil {
			t.Fatal(err)
		}
		rec := session.Record{Data: data, Expiry: expiry, Created: now.Add(-time.Hour)}
		if owners {
			rec.Owner = owner
		}
		key := m.KeyOf(id)
		if _, err := tgt.Store.Save(ctx, key, rec); err != nil {
			t.Fatalf("seed %s: %v", key, err)
		}
		s.all = append(s.all, key)
		return id
	}
	s.alice = append(s.alice, write("alice", 1, now.Add(10*time.Minute)), write("alice", 2, now.Add(10*time.Minute)))
	s.bob = append(s.bob, write("bob", 3, now.Add(10*time.Minute)))
	if collector {
		for i := range 2 {
			s.expired = append(s.expired, m.KeyOf(write("carol", 10+i, now.Add(-time.Minute))))
		}
	}
	t.Cleanup(func() { removeKeys(t, storeURL, s.all) })
	return s
}

// removeKeys deletes keys from the store at cleanup (for stores whose
// records outlive the test: Redis, memcached).
func removeKeys(t *testing.T, storeURL string, keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tgt, err := storeurl.Open(ctx, storeURL, storeurl.Options{})
	if err != nil {
		return // the table or collection is already gone
	}
	defer tgt.Close()
	for _, k := range keys {
		tgt.Store.Delete(ctx, k)
	}
}

// randomID returns a session ID that fits every store, the incubator's
// VARCHAR(35) included: 32 characters of PHP's alphabet.
func randomID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,-"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]%64]
	}
	b[0] = alphabet[b[0]%62] // no leading '-': an argument, not a flag (see TestDashID)
	return string(b)
}
