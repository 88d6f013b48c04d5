package mongostore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// phpInsert writes a document the way the incubator Mongo adapter does on a new
// session: {_id, modified: null, data: "<string>"}.
func phpInsert(t *testing.T, e *env, key, data string, extra ...bson.E) {
	t.Helper()
	d := bson.D{{Key: "_id", Value: key}, {Key: "modified", Value: nil}, {Key: "data", Value: data}}
	if _, err := e.coll.InsertOne(ctxFor(t), append(d, extra...)); err != nil {
		t.Fatalf("insert PHP document: %v", err)
	}
}

// phpUpdate writes the way the incubator Mongo adapter does on an existing
// session: UpdateOne({_id}, {$set: {modified: <date>, data: <string>}}),
// here with upsert, which changes nothing for an existing document.
func phpUpdate(t *testing.T, e *env, key, data string, at time.Time) {
	t.Helper()
	_, err := e.coll.UpdateOne(ctxFor(t), bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "modified", Value: bson.NewDateTimeFromTime(at)}, {Key: "data", Value: data}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		t.Fatalf("PHP-style update: %v", err)
	}
}

const phpData = `a|s:1:"b";`

func TestPHPDocumentLoadSave(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	key := randomHex(13)
	phpInsert(t, e, key, phpData)

	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load of a PHP-inserted document: %v", err)
	}
	if string(got.Data) != phpData || got.Version == 0 {
		t.Fatalf("Load = data %q version %d", got.Data, got.Version)
	}
	if d := time.Until(got.Expiry) - mongostore.DefaultMaxLifetime; d > time.Second || d < -5*time.Second {
		t.Errorf("Expiry of a never-seen PHP document = %v, want about now + MaxLifetime", got.Expiry)
	}
	phpVersion := got.Version

	got.Data = []byte(`a|s:1:"c";`)
	got.Expiry = time.Now().Add(time.Hour)
	v, err := s.Save(ctx, key, got)
	if err != nil {
		t.Fatalf("Save with the version of a PHP document: %v", err)
	}
	raw := rawDoc(t, e, key)
	if dv := raw.Lookup("data"); dv.Type != bson.TypeString || dv.StringValue() != `a|s:1:"c";` {
		t.Fatalf("data after save = %s, want the PHP string", dv)
	}
	if _, ok := raw.Lookup("modified").DateTimeOK(); !ok {
		t.Fatalf("modified after save = %s, want a date", raw.Lookup("modified"))
	}
	// CAS: the PHP-derived version is spent.
	stale := got
	stale.Version = phpVersion
	if _, err := s.Save(ctx, key, stale); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("second Save with the PHP-derived version: %v, want ErrConflict", err)
	}
	if r, err := s.Load(ctx, key); err != nil || r.Version != v || string(r.Data) != `a|s:1:"c";` {
		t.Fatalf("Load = %q version %d err %v, want version %d", r.Data, r.Version, err, v)
	}
}

// A PHP write between a Go load and a Go save of a PHP document is a
// conflict, not a lost update.
func TestPHPDocumentCASAgainstPHPWrite(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	key := randomHex(13)
	phpInsert(t, e, key, phpData)
	loaded, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	phpUpdate(t, e, key, `php|s:3:"new";`, time.Now())
	mine := loaded
	mine.Data = []byte(`go|s:3:"new";`)
	if _, err := s.Save(ctx, key, mine); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Save over a PHP write: %v, want ErrConflict", err)
	}
	again, err := s.Load(ctx, key)
	if err != nil || string(again.Data) != `php|s:3:"new";` {
		t.Fatalf("reload: %q %v", again.Data, err)
	}
	if again.Version == loaded.Version {
		t.Fatalf("the PHP write did not change the version %d", again.Version)
	}
	again.Data = []byte(`php|s:3:"new";go|s:3:"new";`)
	if _, err := s.Save(ctx, key, again); err != nil {
		t.Fatalf("Save after reload: %v", err)
	}
	// PHP reads what Go wrote: data is a string.
	if dv := rawDoc(t, e, key).Lookup("data"); dv.StringValue() != string(again.Data) {
		t.Fatalf("data = %s", dv)
	}
}

func TestPHPDocumentExpiry(t *testing.T) {
	e := newEnv(t)
	const ml = 10 * time.Minute
	s := e.store(t, mongostore.Options{Compat: true, MaxLifetime: ml})
	ctx := ctxFor(t)
	now := time.Now()
	old, fresh, oldCreated := randomHex(13), randomHex(13), randomHex(13)
	phpInsert(t, e, old, phpData)
	phpUpdate(t, e, old, phpData, now.Add(-ml-time.Minute))
	phpInsert(t, e, fresh, phpData)
	phpUpdate(t, e, fresh, phpData, now.Add(-ml+time.Minute))
	phpInsert(t, e, oldCreated, phpData, bson.E{Key: "created", Value: bson.NewDateTimeFromTime(now.Add(-ml - time.Minute))})

	for _, k := range []string{old, oldCreated} {
		if _, err := s.Load(ctx, k); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Load of a PHP document older than MaxLifetime: %v, want ErrNotFound", err)
		}
		if err := s.Touch(ctx, k, now.Add(time.Hour)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Touch of an expired PHP document: %v, want ErrNotFound", err)
		}
		// Absent in every respect: version 0 creates the record.
		if _, err := s.Save(ctx, k, rec("new", time.Hour)); err != nil {
			t.Errorf("Save version 0 over an expired PHP document: %v", err)
		}
	}
	got, err := s.Load(ctx, fresh)
	if err != nil {
		t.Fatalf("Load of a recent PHP document: %v", err)
	}
	if d := got.Expiry.Sub(now.Add(time.Minute)); d > time.Millisecond || d < -time.Millisecond {
		t.Errorf("Expiry = %v, want modified + MaxLifetime = %v", got.Expiry, now.Add(time.Minute))
	}
}

// A PHP write to a document that Go wrote keeps it alive MaxLifetime from
// that write, although PHP does not know the expires field.
func TestPHPWriteExtendsGoRecord(t *testing.T) {
	e := newEnv(t)
	var c clock
	s := e.store(t, mongostore.Options{Compat: true, Now: c.now})
	ctx := ctxFor(t)
	touched, untouched := randomHex(13), randomHex(13)
	for _, k := range []string{touched, untouched} {
		if _, err := s.Save(ctx, k, rec("go", time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	phpUpdate(t, e, touched, "php", time.Now())
	c.advance(10 * time.Minute)
	if _, err := s.Load(ctx, untouched); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Go record 9 minutes past its expiry: %v, want ErrNotFound", err)
	}
	got, err := s.Load(ctx, touched)
	if err != nil {
		t.Fatalf("Go record written by PHP 10 minutes ago (MaxLifetime %v): %v", mongostore.DefaultMaxLifetime, err)
	}
	if string(got.Data) != "php" {
		t.Fatalf("Data = %q", got.Data)
	}
	if _, err := s.Save(ctx, touched, got); err != nil {
		t.Fatalf("Save after the PHP write: %v", err)
	}
}

func TestPHPDocumentGC(t *testing.T) {
	e := newEnv(t)
	var c clock
	const ml = 10 * time.Minute
	s := e.store(t, mongostore.Options{Compat: true, MaxLifetime: ml, Now: c.now})
	ctx := ctxFor(t)
	now := time.Now()
	unseen, expired, live, oldCreated := "unseen"+randomHex(4), "expired"+randomHex(4), "live"+randomHex(4), "created"+randomHex(4)
	phpInsert(t, e, unseen, phpData)
	phpInsert(t, e, expired, phpData)
	phpUpdate(t, e, expired, phpData, now.Add(-ml-time.Minute))
	phpInsert(t, e, live, phpData)
	phpUpdate(t, e, live, phpData, now.Add(-time.Minute))
	phpInsert(t, e, oldCreated, phpData, bson.E{Key: "created", Value: bson.NewDateTimeFromTime(now.Add(-ml - time.Minute))})
	goLive, goDead := "golive"+randomHex(4), "godead"+randomHex(4)
	if _, err := s.Save(ctx, goLive, rec("x", time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, goDead, rec("x", -time.Minute)); err != nil {
		t.Fatal(err)
	}
	remaining := func() []string {
		t.Helper()
		var ids []string
		cur, err := e.coll.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			ids = append(ids, cur.Current.Lookup("_id").StringValue())
		}
		return ids
	}
	gc := func(want int) {
		t.Helper()
		n, err := s.GC(ctx)
		if err != nil {
			t.Fatalf("GC: %v", err)
		}
		if n != want {
			t.Fatalf("GC deleted %d, want %d; remaining %v", n, want, remaining())
		}
	}
	gc(3) // expired, oldCreated, goDead
	if got := fmt.Sprint(sorted(remaining())); got != fmt.Sprint(sorted([]string{unseen, live, goLive})) {
		t.Fatalf("after GC: %s", got)
	}
	if _, ok := rawDoc(t, e, unseen).Lookup("seen").DateTimeOK(); !ok {
		t.Fatalf("GC did not stamp the never-modified document: %s", rawDoc(t, e, unseen))
	}
	if _, err := s.Load(ctx, unseen); err != nil {
		t.Fatalf("never-modified document after its first GC: %v", err)
	}
	listed := map[string]bool{}
	if err := s.Iterate(ctx, func(k string, _ session.Record) bool { listed[k] = true; return true }); err != nil {
		t.Fatal(err)
	}
	if !listed[unseen] || !listed[live] || !listed[goLive] || len(listed) != 3 {
		t.Fatalf("Iterate listed %v", listed)
	}
	gc(0)
	c.advance(ml + time.Minute)
	gc(2) // unseen (seen + ml passed), live (modified + ml passed)
	if got := remaining(); len(got) != 1 || got[0] != goLive {
		t.Fatalf("after the second GC: %v, want only %s", got, goLive)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestGCBatches deletes more expired documents than one batch holds.
func TestGCBatches(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{GCBatchSize: 7})
	ctx := ctxFor(t)
	docs := make([]any, 30)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("k%02d", i)}, {Key: "data", Value: "x"},
			{Key: "modified", Value: time.Now().Add(-2 * time.Hour)}, {Key: "expires", Value: time.Now().Add(-time.Hour)},
			{Key: "version", Value: int64(1)}}
	}
	if _, err := e.coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "keep", rec("x", time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.cmds.reset()
	n, err := s.GC(ctx)
	if err != nil || n != 30 {
		t.Fatalf("GC = %d, %v; want 30", n, err)
	}
	_, by := e.cmds.snapshot()
	if by["delete"] != 5 { // 7+7+7+7+2
		t.Errorf("GC sent %d delete commands, want 5 batches: %v", by["delete"], by)
	}
	if left, _ := e.coll.CountDocuments(ctx, bson.D{}); left != 1 {
		t.Fatalf("%d documents left, want 1", left)
	}
}

// Regenerating an ID without deleting the old session: the same data saved
// under a new key creates the new document (the incubator adapter skipped the write
// because the data equalled what it had read, and lost the session).
func TestRegenerateKeepsSession(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	a, b := randomHex(13), randomHex(13)
	phpInsert(t, e, a, phpData)
	loaded, err := s.Load(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	moved := loaded
	moved.Version = 0
	if _, err := s.Save(ctx, b, moved); err != nil {
		t.Fatalf("Save of the same data under the new key: %v", err)
	}
	for _, k := range []string{a, b} {
		got, err := s.Load(ctx, k)
		if err != nil || string(got.Data) != phpData {
			t.Fatalf("Load(%s) = %q, %v; want both sessions", k, got.Data, err)
		}
	}
	if err := s.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(ctx, b); err != nil || string(got.Data) != phpData {
		t.Fatalf("new key after deleting the old one: %q, %v", got.Data, err)
	}
}

// TestLivenessAgreesWithExpiry: for documents of every shape and at several
// clock readings, Load finds a record exactly when the documented rule says
// it is live, and reports the rule's expiry (the server's filter and the
// client's computation agree).
func TestLivenessAgreesWithExpiry(t *testing.T) {
	e := newEnv(t)
	var c clock
	const ml = 10 * time.Minute
	s := e.store(t, mongostore.Options{MaxLifetime: ml, Now: c.now})
	ctx := ctxFor(t)
	now := time.Now()
	date := func(d time.Duration) bson.DateTime { return bson.NewDateTimeFromTime(now.Add(d)) }
	forever := time.Duration(1 << 62)
	shapes := map[string]struct {
		fields bson.D
		life   time.Duration // expiry - now by the documented rule
	}{
		"php-new":               {bson.D{{Key: "modified", Value: nil}}, forever},
		"php-no-modified":       {bson.D{}, forever},
		"php-updated":           {bson.D{{Key: "modified", Value: date(-5 * time.Minute)}}, 5 * time.Minute},
		"php-created":           {bson.D{{Key: "modified", Value: nil}, {Key: "created", Value: date(-3 * time.Minute)}}, 7 * time.Minute},
		"php-seen":              {bson.D{{Key: "modified", Value: nil}, {Key: "seen", Value: date(-7 * time.Minute)}}, 3 * time.Minute},
		"go":                    {bson.D{{Key: "modified", Value: date(-ml)}, {Key: "expires", Value: date(4 * time.Minute)}, {Key: "version", Value: int64(3)}}, 4 * time.Minute},
		"go-then-php":           {bson.D{{Key: "modified", Value: date(-2 * time.Minute)}, {Key: "expires", Value: date(time.Minute)}, {Key: "version", Value: int64(3)}}, 8 * time.Minute},
		"go-long":               {bson.D{{Key: "modified", Value: date(0)}, {Key: "expires", Value: date(20 * time.Minute)}, {Key: "version", Value: int64(3)}}, 20 * time.Minute},
		"expires-null-modified": {bson.D{{Key: "modified", Value: nil}, {Key: "expires", Value: date(6 * time.Minute)}}, 6 * time.Minute},
	}
	for name, sh := range shapes {
		d := append(bson.D{{Key: "_id", Value: name}, {Key: "data", Value: name}}, sh.fields...)
		if _, err := e.coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []time.Duration{0, 150 * time.Second, 270 * time.Second, 390 * time.Second, 9 * time.Minute, 12 * time.Minute, 25 * time.Minute} {
		c.offset.Store(int64(step))
		at := c.now()
		for name, sh := range shapes {
			got, err := s.Load(ctx, name)
			if wantLive := sh.life > step; wantLive != (err == nil) {
				t.Errorf("+%v %s: Load err = %v, want live %v (lifetime %v)", step, name, err, wantLive, sh.life)
				continue
			}
			if err == nil && sh.life != forever {
				if d := got.Expiry.Sub(now.Add(sh.life)); d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("+%v %s: Expiry %v, want %v", step, name, got.Expiry, now.Add(sh.life))
				}
			}
			switch {
			case err == nil && !got.Expiry.After(at):
				t.Errorf("+%v %s: loaded with Expiry %v not after now %v", step, name, got.Expiry, at)
			case err == nil && string(got.Data) != name:
				t.Errorf("+%v %s: data %q", step, name, got.Data)
			case errors.Is(err, session.ErrNotFound):
			case err != nil:
				t.Errorf("+%v %s: %v", step, name, err)
			}
		}
	}
}

// TestCompatPHPWriteOverGoRecord: a record Go wrote (it has a counter),
// loaded by Go, then written by PHP ($set modified and data, counter
// untouched), then saved by Go with the loaded version: the save is a
// conflict and PHP's data stays. It holds whatever date PHP writes,
// including the very modified date Go loaded (a PHP clock with one-second
// resolution, or a write in the same millisecond).
func TestCompatPHPWriteOverGoRecord(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	for name, phpDate := range map[string]func(loaded session.Record) time.Time{
		"PHP's clock":         func(session.Record) time.Time { return time.Now() },
		"the loaded modified": func(r session.Record) time.Time { return r.Modified },
	} {
		t.Run(name, func(t *testing.T) {
			key := randomHex(13)
			if _, err := s.Save(ctx, key, rec(`go|s:2:"v1";`, time.Hour)); err != nil {
				t.Fatal(err)
			}
			loaded, err := s.Load(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			const php = `go|s:2:"v1";php|s:3:"new";`
			phpUpdate(t, e, key, php, phpDate(loaded))
			mine := loaded
			mine.Data = []byte(`go|s:2:"v2";`)
			if _, err := s.Save(ctx, key, mine); !errors.Is(err, session.ErrConflict) {
				t.Fatalf("Go save after a PHP write: %v, want ErrConflict", err)
			}
			again, err := s.Load(ctx, key)
			if err != nil || string(again.Data) != php {
				t.Fatalf("reload after the conflict: %q, %v; want PHP's %q", again.Data, err, php)
			}
			if again.Version == loaded.Version {
				t.Fatalf("PHP's write left the version %d unchanged", again.Version)
			}
			again.Data = []byte(php + `go2|s:1:"x";`)
			if _, err := s.Save(ctx, key, again); err != nil {
				t.Fatalf("Save with the reloaded version: %v", err)
			}
		})
	}
}

// TestCompatVersionSemantics: in Compat mode a Touch keeps the version, a
// save always gives a new one (also for the same data), and a stale or
// never issued version is a conflict.
func TestCompatVersionSemantics(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{Compat: true})
	ctx := ctxFor(t)
	key := randomHex(13)
	v1, err := s.Save(ctx, key, rec("same", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, key, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, key)
	if err != nil || got.Version != v1 {
		t.Fatalf("after Touch: version %d, %v; want %d", got.Version, err, v1)
	}
	r := rec("same", time.Hour)
	r.Version = v1
	v2, err := s.Save(ctx, key, r)
	if err != nil {
		t.Fatalf("Save with the version loaded before a Touch: %v", err)
	}
	if v2 == v1 {
		t.Fatalf("saving the same data again gave the same version %d", v1)
	}
	for _, v := range []uint64{v1, v2 + 1, 42} {
		r.Version = v
		if _, err := s.Save(ctx, key, r); !errors.Is(err, session.ErrConflict) {
			t.Errorf("Save with version %d (current %d): %v, want ErrConflict", v, v2, err)
		}
	}
	if got, err := s.Load(ctx, key); err != nil || got.Version != v2 {
		t.Fatalf("after the conflicts: version %d, %v; want %d", got.Version, err, v2)
	}
}
