package mongostore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/storetest"
)

func TestConformance(t *testing.T) {
	e := newEnv(t)
	storetest.Run(t, e.conformanceStore(t, e.store(t, mongostore.Options{})), storetest.Config{
		// A document whose data is a number and whose expiry is text.
		Corrupt: func(ctx context.Context, key string) error {
			_, err := e.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "data", Value: 42}, {Key: "expires", Value: "tomorrow"}, {Key: "version", Value: "v1"}})
			return err
		},
	})
}

// unconditional declares session.Unconditional on behalf of a store whose
// server cannot make a conditional update atomic.
type unconditional struct{ *mongostore.Store }

func (unconditional) Unconditional() bool { return true }

// conformanceStore returns s, or s declared unconditional on FerretDB v1:
// its update and findAndModify commands read the matching documents and then
// write them by _id without a lock or transaction, so concurrent
// compare-and-set updates can both succeed there and the suite's
// ConcurrentCAS test cannot hold on that server, whatever the client does.
// MongoDB applies a single-document update atomically.
func (e *env) conformanceStore(t *testing.T, s *mongostore.Store) session.Store {
	t.Helper()
	if v := e.ferretDBVersion(t); v == "unknown" || strings.HasPrefix(v, "v1.") {
		t.Logf("server is FerretDB %s: conditional updates are not atomic there; ConcurrentCAS is skipped (it runs against MongoDB)", v)
		return unconditional{s}
	}
	return s
}

// The suite again with a PHP-style key (raw session IDs) and renamed fields.
func TestConformanceRenamedFields(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Fields: mongostore.Fields{
		Data: "d", Modified: "m", Expires: "x", Version: "v", Owner: "u", Created: "c", Seen: "s",
	}})
	storetest.Run(t, e.conformanceStore(t, s), storetest.Config{NewKey: func() string { return randomHex(13) }})
}

// countCommands runs fn and checks that it sent want commands.
func (e *env) countCommands(t *testing.T, op string, want int, fn func() error) {
	t.Helper()
	e.cmds.reset()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if n, by := e.cmds.snapshot(); n != want {
		t.Errorf("%s sent %d commands %v, want %d", op, n, by, want)
	} else {
		t.Logf("%s: %d command(s) %v", op, n, by)
	}
}

func rec(data string, ttl time.Duration) session.Record {
	now := time.Now()
	return session.Record{Data: []byte(data), Expiry: now.Add(ttl), Created: now}
}

// TestRoundTrips counts the commands each operation sends.
func TestRoundTrips(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	ctx := ctxFor(t)
	key := randomHex(32)
	count := func(op string, want int, fn func() error) {
		t.Helper()
		e.countCommands(t, op, want, fn)
	}
	var v uint64
	count("new session (Save, version 0)", 1, func() (err error) {
		v, err = s.Save(ctx, key, rec("one", time.Hour))
		return err
	})
	var r session.Record
	count("Load", 1, func() (err error) { r, err = s.Load(ctx, key); return err })
	if r.Version != v {
		t.Fatalf("loaded version %d, saved %d", r.Version, v)
	}
	r.Data = []byte("two")
	count("Save", 1, func() (err error) { _, err = s.Save(ctx, key, r); return err })
	count("Touch", 1, func() error { return s.Touch(ctx, key, time.Now().Add(2*time.Hour)) })
	count("Delete", 1, func() error { return s.Delete(ctx, key) })
	count("Load of a missing key", 1, func() error {
		if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
			return err
		}
		return nil
	})
	// A stale version is a single command too.
	count("stale Save", 1, func() error {
		if _, err := s.Save(ctx, key, r); !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("stale Save: %v, want ErrConflict", err)
		}
		return nil
	})
	// A first save on a taken key: the insert fails on the duplicate _id
	// and one find tells a live record (conflict) from an expired one.
	_, _ = s.Save(ctx, key, rec("x", time.Hour))
	count("conflicting first Save (insert, find)", 2, func() error {
		if _, err := s.Save(ctx, key, rec("y", time.Hour)); !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("first Save over a live record: %v, want ErrConflict", err)
		}
		return nil
	})
	dead := randomHex(32)
	if _, err := s.Save(ctx, dead, rec("old", -time.Minute)); err != nil {
		t.Fatal(err)
	}
	count("first Save over an expired record (insert, find, replace)", 3, func() error {
		_, err := s.Save(ctx, dead, rec("new", time.Hour))
		return err
	})
}

// TestRoundTripsCompat counts the commands of Compat mode, whose save reads
// the document to compare its data (see Save).
func TestRoundTripsCompat(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	key := randomHex(13)
	count := func(op string, want int, fn func() error) {
		t.Helper()
		e.countCommands(t, op, want, fn)
	}
	var v uint64
	count("new session", 1, func() (err error) { v, err = s.Save(ctx, key, rec("one", time.Hour)); return err })
	var r session.Record
	count("Load", 1, func() (err error) { r, err = s.Load(ctx, key); return err })
	if r.Version != v {
		t.Fatalf("loaded version %d, saved %d", r.Version, v)
	}
	count("Touch", 1, func() error { return s.Touch(ctx, key, time.Now().Add(2*time.Hour)) })
	r.Data = []byte("two")
	count("Save (find, update)", 2, func() (err error) { _, err = s.Save(ctx, key, r); return err })
	count("stale Save (find)", 1, func() error {
		if _, err := s.Save(ctx, key, r); !errors.Is(err, session.ErrConflict) {
			return fmt.Errorf("stale Save: %v, want ErrConflict", err)
		}
		return nil
	})
}

// TestConcurrentFirstSave: several writers create the same key at once;
// exactly one wins and the others get ErrConflict (the duplicate-key error of
// the losing upserts), never another error.
func TestConcurrentFirstSave(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	const writers = 8
	for round := range 5 {
		key := randomHex(32)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s.Save(context.Background(), key, rec(string(rune('a'+i)), time.Hour))
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, session.ErrConflict):
			default:
				t.Fatalf("round %d: concurrent first save failed: %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d of %d concurrent first saves succeeded, want exactly 1", round, wins, writers)
		}
	}
}

// TestDuplicateKeyIsConflict checks the mapping of E11000 itself: a
// version-0 save over a live document makes the upsert insert a duplicate
// _id.
func TestDuplicateKeyIsConflict(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	ctx := ctxFor(t)
	key := randomHex(32)
	if _, err := e.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "data", Value: "x"},
		{Key: "expires", Value: time.Now().Add(time.Hour)}, {Key: "version", Value: int64(7)}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Save(ctx, key, rec("y", time.Hour))
	if !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save version 0 over a live document: %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "live record exists") {
		t.Fatalf("error %q does not come from the duplicate-key path", err)
	}
}

func rawDoc(t *testing.T, e *env, key string) bson.Raw {
	t.Helper()
	raw, err := e.coll.FindOne(ctxFor(t), bson.D{{Key: "_id", Value: key}}).Raw()
	if err != nil {
		t.Fatalf("find %s: %v", key, err)
	}
	return raw
}

func TestDataFormats(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	native := e.store(t, mongostore.Options{})
	compat := newStore(t, e.coll, mongostore.Options{Compat: true})

	bin := []byte("\x00\xff\xfe not UTF-8 \xc3\x28")
	k1 := randomHex(32)
	v1, err := native.Save(ctx, k1, session.Record{Data: bin, Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if got := rawDoc(t, e, k1).Lookup("data"); got.Type != bson.TypeBinary {
		t.Fatalf("native data stored as %s, want binary", got.Type)
	}
	// Compat refuses what it cannot write as a string, and leaves the record.
	before, err := compat.Load(ctx, k1)
	if err != nil || !bytes.Equal(before.Data, bin) {
		t.Fatalf("compat Load of binary data: %q, %v", before.Data, err)
	}
	r := session.Record{Data: bin, Expiry: time.Now().Add(time.Hour), Version: before.Version}
	if _, err := compat.Save(ctx, k1, r); !errors.Is(err, session.ErrUnsupported) {
		t.Fatalf("compat Save of non-UTF-8 data: %v, want ErrUnsupported", err)
	}
	if got, err := native.Load(ctx, k1); err != nil || !bytes.Equal(got.Data, bin) || got.Version != v1 {
		t.Fatalf("after a refused save: %q version %d err %v", got.Data, got.Version, err)
	}

	// Compat writes strings: 1 MiB of PHP-serialized text round-trips.
	text := []byte("big|s:1048576:\"" + strings.Repeat("é", 1<<19) + "\";")
	k2 := randomHex(32)
	if _, err := compat.Save(ctx, k2, session.Record{Data: text, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := rawDoc(t, e, k2).Lookup("data"); got.Type != bson.TypeString || got.StringValue() != string(text) {
		t.Fatalf("compat data stored as %s, want the string", got.Type)
	}
	if got, err := native.Load(ctx, k2); err != nil || !bytes.Equal(got.Data, text) {
		t.Fatalf("native Load of compat data: %d bytes, err %v", len(got.Data), err)
	}

	// Over the limit: refused before reaching the server.
	big := make([]byte, mongostore.MaxDataSize+1)
	if _, err := native.Save(ctx, randomHex(32), session.Record{Data: big, Expiry: time.Now().Add(time.Hour)}); !errors.Is(err, session.ErrTooLarge) {
		t.Fatalf("Save of %d bytes: %v, want ErrTooLarge", len(big), err)
	}
}

func TestInvalidKeys(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	ctx := ctxFor(t)
	for _, key := range []string{"", strings.Repeat("k", mongostore.MaxKeyLen+1), "bad\xff"} {
		if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Load(%q): %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Save(ctx, key, rec("x", time.Hour)); !errors.Is(err, session.ErrInvalidKey) {
			t.Errorf("Save(%q): %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestEnsureIndexes(t *testing.T) {
	e := newEnv(t)
	s := newStore(t, e.coll, mongostore.Options{})
	ctx := ctxFor(t)
	for range 2 { // idempotent
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatalf("EnsureIndexes: %v", err)
		}
	}
	cur, err := e.coll.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.M
	if err := cur.All(ctx, &specs); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sp := range specs {
		names = append(names, sp["name"].(string))
		if sp["name"] == mongostore.ExpiresIndexName {
			_, ttl := sp["expireAfterSeconds"]
			t.Logf("expires index: TTL %v (%v)", ttl, sp)
		}
	}
	for _, want := range []string{mongostore.OwnerIndexName, mongostore.ExpiresIndexName} {
		if !slices.Contains(names, want) {
			t.Errorf("indexes %v lack %s", names, want)
		}
	}
}
