package mongostore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// nativeDoc is a document as this package writes it in native mode, with
// the given expiry.
func nativeDoc(id string, expires time.Time) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "data", Value: bson.Binary{Data: []byte("x")}},
		{Key: "modified", Value: bson.NewDateTimeFromTime(expires.Add(-time.Hour))},
		{Key: "expires", Value: bson.NewDateTimeFromTime(expires)},
		{Key: "version", Value: int64(1)},
	}
}

// insertDocs inserts docs with plain driver calls.
func insertDocs(t testing.TB, e *env, docs ...bson.D) {
	t.Helper()
	all := make([]any, len(docs))
	for i, d := range docs {
		all[i] = d
	}
	if _, err := e.coll.InsertMany(ctxFor(t), all); err != nil {
		t.Fatalf("insert %d documents: %v", len(docs), err)
	}
}

// ids returns the sorted _id of every document in the collection.
func (e *env) ids(t testing.TB) []string {
	t.Helper()
	cur, err := e.coll.Find(ctxFor(t), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for cur.Next(ctxFor(t)) {
		ids = append(ids, cur.Current.Lookup("_id").StringValue())
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func gcBatch(t *testing.T, s *mongostore.Store, limit, want int) {
	t.Helper()
	n, err := s.GCBatch(ctxFor(t), limit)
	if err != nil {
		t.Fatalf("GCBatch(%d): %v", limit, err)
	}
	if n != want {
		t.Fatalf("GCBatch(%d) deleted %d, want %d", limit, n, want)
	}
}

func countExpired(t *testing.T, s *mongostore.Store, want int) {
	t.Helper()
	n, err := s.CountExpired(ctxFor(t))
	if err != nil {
		t.Fatalf("CountExpired: %v", err)
	}
	if n != want {
		t.Fatalf("CountExpired = %d, want %d", n, want)
	}
}

// TestGCBatchCompat collects, in batches, a Compat collection shared with
// PHP: records Go wrote (data as strings) and documents shaped like the
// incubator Mongo adapter's, expired, live and never updated.
func TestGCBatchCompat(t *testing.T) {
	e := newEnv(t)
	var c clock
	const ml = 10 * time.Minute
	s := e.store(t, mongostore.Options{Compat: true, MaxLifetime: ml, Now: c.now})
	ctx := ctxFor(t)
	now := time.Now()
	var goDead []string
	for i := range 3 {
		k := fmt.Sprintf("godead%d", i)
		goDead = append(goDead, k)
		if _, err := s.Save(ctx, k, rec(phpData, -time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Save(ctx, "golive", rec(phpData, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := rawDoc(t, e, "golive").Lookup("data").Type; got != bson.TypeString {
		t.Fatalf("Compat save wrote data as %v, want a string", got)
	}
	for _, k := range []string{"phpdead0", "phpdead1"} {
		phpInsert(t, e, k, phpData)
		phpUpdate(t, e, k, phpData, now.Add(-ml-time.Minute))
	}
	phpInsert(t, e, "phplive", phpData)
	phpUpdate(t, e, "phplive", phpData, now.Add(-time.Minute))
	phpInsert(t, e, "phpunseen", phpData)

	countExpired(t, s, 5) // godead0-2, phpdead0-1
	gcBatch(t, s, 2, 2)
	countExpired(t, s, 3)
	if _, ok := rawDoc(t, e, "phpunseen").Lookup("seen").DateTimeOK(); ok {
		t.Fatal("a batch that was not the last stamped the never-updated document")
	}
	gcBatch(t, s, 2, 2)
	gcBatch(t, s, 2, 1) // short: the end, so the undated document is stamped
	if _, ok := rawDoc(t, e, "phpunseen").Lookup("seen").DateTimeOK(); !ok {
		t.Fatalf("the last batch did not stamp the never-updated document: %s", rawDoc(t, e, "phpunseen"))
	}
	countExpired(t, s, 0)
	gcBatch(t, s, 2, 0)
	if got, want := e.ids(t), sortedIDs("golive", "phplive", "phpunseen"); !slices.Equal(got, want) {
		t.Fatalf("after GC in batches: %v, want %v", got, want)
	}
	for _, k := range []string{"golive", "phplive", "phpunseen"} {
		if r, err := s.Load(ctx, k); err != nil || string(r.Data) != phpData {
			t.Fatalf("Load(%s) after GC = %q, %v", k, r.Data, err)
		}
	}

	c.advance(ml + time.Minute) // phplive (modified + ml) and phpunseen (seen + ml) pass
	countExpired(t, s, 2)
	gcBatch(t, s, 10, 2)
	if got := e.ids(t); !slices.Equal(got, []string{"golive"}) {
		t.Fatalf("after the clock passed MaxLifetime: %v, want only golive", got)
	}
}

// TestGCBatchModifiedNull: documents whose modified is null (PHP's insert)
// are judged by their other dates, in both layouts: counted and collected
// when one of them says so, left alone and stamped when they have none.
func TestGCBatchModifiedNull(t *testing.T) {
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprintf("compat=%v", compat), func(t *testing.T) {
			e := newEnv(t)
			var c clock
			const ml = 10 * time.Minute
			s := e.store(t, mongostore.Options{Compat: compat, MaxLifetime: ml, Now: c.now})
			now := time.Now()
			date := func(d time.Duration) bson.DateTime { return bson.NewDateTimeFromTime(now.Add(d)) }
			nullDoc := func(id string, extra ...bson.E) bson.D {
				return append(bson.D{{Key: "_id", Value: id}, {Key: "modified", Value: nil}, {Key: "data", Value: phpData}}, extra...)
			}
			insertDocs(t, e,
				nullDoc("unseen"),
				nullDoc("oldcreated", bson.E{Key: "created", Value: date(-ml - time.Minute)}),
				nullDoc("newcreated", bson.E{Key: "created", Value: date(-time.Minute)}),
				nullDoc("pastexpires", bson.E{Key: "expires", Value: date(-time.Minute)}, bson.E{Key: "version", Value: int64(7)}),
				nullDoc("futureexpires", bson.E{Key: "expires", Value: date(time.Hour)}, bson.E{Key: "version", Value: int64(7)}),
				nullDoc("oldseen", bson.E{Key: "seen", Value: date(-ml - time.Minute)}),
			)
			countExpired(t, s, 3) // oldcreated, pastexpires, oldseen
			for range 3 {
				gcBatch(t, s, 1, 1)
			}
			if _, ok := rawDoc(t, e, "unseen").Lookup("seen").DateTimeOK(); ok {
				t.Fatal("stamped before the end of the expired documents was seen")
			}
			gcBatch(t, s, 1, 0)
			if _, ok := rawDoc(t, e, "unseen").Lookup("seen").DateTimeOK(); !ok {
				t.Fatalf("the short batch did not stamp the undated document: %s", rawDoc(t, e, "unseen"))
			}
			if _, ok := rawDoc(t, e, "newcreated").Lookup("seen").DateTimeOK(); ok {
				t.Fatal("stamped a document that has a creation date")
			}
			countExpired(t, s, 0)
			if got, want := e.ids(t), sortedIDs("unseen", "newcreated", "futureexpires"); !slices.Equal(got, want) {
				t.Fatalf("after GC in batches: %v, want %v", got, want)
			}
			for _, k := range []string{"unseen", "newcreated", "futureexpires"} {
				if _, err := s.Load(ctxFor(t), k); err != nil {
					t.Fatalf("Load(%s) of a live document after GC: %v", k, err)
				}
			}

			c.advance(ml + time.Minute) // unseen (seen + ml) and newcreated (created + ml) pass
			countExpired(t, s, 2)
			gcBatch(t, s, 5, 2)
			if got := e.ids(t); !slices.Equal(got, []string{"futureexpires"}) {
				t.Fatalf("after the clock passed MaxLifetime: %v, want only futureexpires", got)
			}
		})
	}
}

// TestGCBatchCommands counts the commands of GCBatch and CountExpired:
// one find and one delete per batch, the stamp only in the short batch, and
// a count that is one command on the server, not a scan in Go.
func TestGCBatchCommands(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	docs := make([]bson.D, 25)
	for i := range docs {
		docs[i] = nativeDoc(fmt.Sprintf("k%02d", i), time.Now().Add(-time.Minute))
	}
	insertDocs(t, e, docs...)
	if _, err := s.Save(ctxFor(t), "keep", rec("x", time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.cmds.reset()
	countExpired(t, s, 25)
	if total, by := e.cmds.snapshot(); total != 1 || by["aggregate"]+by["count"] != 1 {
		t.Fatalf("CountExpired sent %v, want one counting command", by)
	}
	for i, want := range []int{10, 10, 5} {
		e.cmds.reset()
		gcBatch(t, s, 10, want)
		_, by := e.cmds.snapshot()
		stamps := 0
		if i == 2 {
			stamps = 1
		}
		if by["find"] != 1 || by["delete"] != 1 || by["update"] != stamps || len(by) != 2+stamps {
			t.Fatalf("batch %d sent %v, want 1 find, 1 delete and %d update", i, by, stamps)
		}
	}
	countExpired(t, s, 0)
	if got := e.ids(t); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("left %v, want only keep", got)
	}
}

// TestGCBatchLimit: a limit that is not positive is an error and deletes
// nothing.
func TestGCBatchLimit(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	insertDocs(t, e, nativeDoc("dead", time.Now().Add(-time.Minute)))
	for _, limit := range []int{0, -1} {
		if n, err := s.GCBatch(ctxFor(t), limit); err == nil || n != 0 {
			t.Fatalf("GCBatch(%d) = %d, %v; want an error", limit, n, err)
		}
	}
	countExpired(t, s, 1)
}

// TestGCBatchCancelled: a cancelled context fails both calls with an error
// that wraps context.Canceled.
func TestGCBatchCancelled(t *testing.T) {
	e := newEnv(t)
	s := e.store(t, mongostore.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.GCBatch(ctx, 10); !isCanceled(err) {
		t.Fatalf("GCBatch with a cancelled context: %v", err)
	}
	if _, err := s.CountExpired(ctx); !isCanceled(err) {
		t.Fatalf("CountExpired with a cancelled context: %v", err)
	}
}

func isCanceled(err error) bool { return err != nil && errors.Is(err, context.Canceled) }

// TestGCBatchRenewedMeanwhile: a document that another process renews
// between GCBatch's find and its delete is kept, and GCBatch finds another
// expired document instead, so a full batch still deletes limit documents.
func TestGCBatchRenewedMeanwhile(t *testing.T) {
	e := newEnv(t)
	var once atomic.Bool
	var renewed atomic.Value // string
	hook := func(ev *event.CommandStartedEvent) {
		if ev.CommandName != "delete" || !once.CompareAndSwap(false, true) {
			return
		}
		id, ok := ev.Command.Lookup("deletes", "0", "q", "_id", "$in", "0").StringValueOK()
		if !ok {
			t.Errorf("delete command without the ids it deletes: %s", ev.Command)
			return
		}
		// Another process saves the session again: it is live now.
		_, err := e.coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: bson.NewDateTimeFromTime(time.Now().Add(time.Hour))}}}})
		if err != nil {
			t.Errorf("renew %s: %v", id, err)
		}
		renewed.Store(id)
	}
	coll := hookedCollection(t, e, hook)
	s := newStore(t, coll, mongostore.Options{})
	docs := make([]bson.D, 10)
	for i := range docs {
		docs[i] = nativeDoc(fmt.Sprintf("k%02d", i), time.Now().Add(-time.Minute))
	}
	insertDocs(t, e, docs...)
	gcBatch(t, s, 5, 5)
	id, _ := renewed.Load().(string)
	if id == "" {
		t.Fatal("the hook never ran: no delete command was seen")
	}
	if _, err := s.Load(ctxFor(t), id); err != nil {
		t.Fatalf("the document renewed between find and delete: %v", err)
	}
	countExpired(t, s, 4) // 10, less 1 renewed, less 5 deleted
	gcBatch(t, s, 5, 4)
	if got := e.ids(t); !slices.Equal(got, []string{id}) {
		t.Fatalf("left %v, want only the renewed %s", got, id)
	}
}

// hookedCollection returns e's collection through a client of its own
// that calls hook before each command it sends.
func hookedCollection(t *testing.T, e *env, hook func(*event.CommandStartedEvent)) *mongo.Collection {
	t.Helper()
	client, err := mongo.Connect(options.Client().
		ApplyURI(os.Getenv(uriVar)).
		SetServerSelectionTimeout(5 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) { hook(ev) }}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(e.coll.Database().Name()).Collection(e.coll.Name())
}

// BenchmarkCountExpired counts the expired documents of a collection of
// 10,000 (half of them expired) with CountExpired.
func BenchmarkCountExpired(b *testing.B) {
	e := newEnv(b)
	s := newStore(b, e.coll, mongostore.Options{})
	now := time.Now()
	const total = 10_000
	for start := 0; start < total; start += 1000 {
		docs := make([]bson.D, 1000)
		for i := range docs {
			exp := now.Add(time.Hour)
			if (start+i)%2 == 0 {
				exp = now.Add(-time.Minute)
			}
			docs[i] = nativeDoc(fmt.Sprintf("k%05d", start+i), exp)
		}
		insertDocs(b, e, docs...)
	}
	b.Run("CountExpired", func(b *testing.B) {
		for b.Loop() {
			n, err := s.CountExpired(ctxFor(b))
			if err != nil || n != total/2 {
				b.Fatalf("CountExpired = %d, %v; want %d", n, err, total/2)
			}
		}
	})
	// The reference: every document counted, less the live ones listed by
	// Iterate, a scan of the collection in Go.
	b.Run("count-minus-iterate", func(b *testing.B) {
		for b.Loop() {
			all, err := e.coll.CountDocuments(ctxFor(b), bson.D{})
			if err != nil {
				b.Fatal(err)
			}
			live := 0
			if err := s.Iterate(ctxFor(b), func(string, session.Record) bool { live++; return true }); err != nil {
				b.Fatal(err)
			}
			if n := int(all) - live; n != total/2 {
				b.Fatalf("counted %d expired, want %d", n, total/2)
			}
		}
	})
}
