package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
	"github.com/sessionkit/session/cmd/internal/testenv"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/mongostore"
)

// TestGCBatches checks that gc goes on until every expired record is gone
// and leaves the live records alone: on SQLite and on the file store, both
// collected in batches of 1000 (on the file store the expired files sort
// before the live ones, so one batch stops at its limit with more to do).
func TestGCBatches(t *testing.T) {
	for _, b := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", testenv.SQLite}, {"files", testenv.Files}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			u := b.url(t)
			st := "--store=" + u
			must(t, st, "migrate")
			const expired, live = 1200, 7
			ctx := context.Background()
			tgt, err := storeurl.Open(ctx, u, storeurl.Options{})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := session.GobCodec{}.Encode(map[string]any{"x": 1})
			now := time.Now()
			// Live records last, so that on the file store they sort after
			// the expired ones and several windows hold nothing to remove.
			for i := range expired + live {
				exp := now.Add(-time.Minute)
				if i >= expired {
					exp = now.Add(time.Hour)
				}
				key := fmt.Sprintf("k%05d", i)
				if _, err := tgt.Store.Save(ctx, key, session.Record{Data: data, Expiry: exp, Created: now}); err != nil {
					t.Fatal(err)
				}
			}
			tgt.Close()

			r := must(t, st, "gc", "--dry-run")
			if !strings.Contains(r.stdout, fmt.Sprintf("%d expired session(s) would be removed", expired)) {
				t.Fatalf("gc --dry-run: %q", r.stdout)
			}
			first := 0
			if b.name == "files" {
				r = must(t, st, "gc", "--max-batches", "1")
				m := regexp.MustCompile(`removed (\d+) expired session\(s\) in 1 batch`).FindStringSubmatch(r.stdout)
				if m == nil {
					t.Fatalf("gc --max-batches 1: %q", r.stdout)
				}
				first, _ = strconv.Atoi(m[1])
				if first != session.DefaultGCBatch {
					t.Fatalf("one batch removed %d of %d, want %d", first, expired, session.DefaultGCBatch)
				}
			}
			r = must(t, st, "gc")
			m := regexp.MustCompile(`removed (\d+) expired session\(s\) in (\d+) batch`).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("gc: %q", r.stdout)
			}
			if n, _ := strconv.Atoi(m[1]); n != expired-first {
				t.Errorf("gc removed %d, want the remaining %d", n, expired-first)
			}
			if got := expiredCount(t, st); got != 0 {
				t.Errorf("after gc: %d expired", got)
			}
			r = must(t, st, "stats")
			if !strings.Contains(r.stdout, fmt.Sprintf("sessions:      %d", live)) {
				t.Errorf("stats after gc:\n%s", r.stdout)
			}
		})
	}
}

// TestProgress checks the progress bar's drawing (shown on terminals only).
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, 200)
	if p.on {
		t.Fatal("progress bar on a buffer, which is not a terminal")
	}
	p.update(10)
	p.done(10)
	if buf.Len() != 0 {
		t.Fatalf("progress drew on a non-terminal: %q", buf.String())
	}
	p.on = true
	p.start()
	p.last = time.Time{} // the next batch draws at once
	p.update(50)
	p.done(200)
	want := "\r[..............................] 0/200   0%\r[#######.......................] 50/200  25%\r[##############################] 200/200 100%\n"
	if buf.String() != want {
		t.Errorf("progress drew %q, want %q", buf.String(), want)
	}
	// Never 100% before the last one; more removed than counted (records
	// expired meanwhile) grows the total instead of overflowing the bar.
	for _, c := range []struct {
		total, done int
		want        string
	}{
		{1000, 999, "\r[#############################.] 999/1000  99%\n"},
		{3, 2, "\r[####################..........] 2/3  66%\n"},
		{200, 250, "\r[##############################] 250/250 100%\n"},
		{200, 0, "\r[..............................] 0/200   0%\n"},
	} {
		buf.Reset()
		p := &progress{w: &buf, on: true, total: c.total}
		p.done(c.done)
		if buf.String() != c.want {
			t.Errorf("%d of %d: drew %q, want %q", c.done, c.total, buf.String(), c.want)
		}
	}
	buf.Reset()
	p = &progress{w: &buf, on: true}
	p.done(42)
	if buf.String() != "\r42 removed\n" {
		t.Errorf("progress without a total drew %q", buf.String())
	}
}

// expiredMongoDocs inserts n expired documents, shaped as mongostore writes
// them, into the collection of a mongodb:// target with one InsertMany.
func expiredMongoDocs(t *testing.T, tgt *storeurl.Target, prefix string, n int) {
	t.Helper()
	ms, ok := tgt.Store.(*mongostore.Store)
	if !ok {
		t.Fatalf("store %T, want *mongostore.Store", tgt.Store)
	}
	exp := time.Now().Add(-time.Minute)
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{
			{Key: "_id", Value: fmt.Sprintf("%s%05d", prefix, i)},
			{Key: "data", Value: bson.Binary{Data: []byte("x")}},
			{Key: "modified", Value: bson.NewDateTimeFromTime(exp.Add(-time.Hour))},
			{Key: "expires", Value: bson.NewDateTimeFromTime(exp)},
			{Key: "version", Value: int64(1)},
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ms.Collection().InsertMany(ctx, docs); err != nil {
		t.Fatalf("insert %d expired documents: %v", n, err)
	}
}

// TestGCProgressMongo checks, on Mongo, that the dry run and the bar's total
// are the store's count, that the bar is drawn after every batch of a
// collection of several batches (2,500 expired documents, batches of
// 1000: 3 batches), and that --batch sets the batch size.
func TestGCProgressMongo(t *testing.T) {
	u := testenv.Mongo(t)
	st := "--store=" + u
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tgt, err := storeurl.Open(ctx, u, storeurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	const expired = 2500
	expiredMongoDocs(t, tgt, "old", expired)
	const live = 3
	for i := range live {
		if _, err := tgt.Store.Save(ctx, fmt.Sprintf("live%d", i), session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}

	r := must(t, st, "gc", "--dry-run")
	if !strings.Contains(r.stdout, fmt.Sprintf("%d expired session(s) would be removed", expired)) {
		t.Fatalf("gc --dry-run: %q", r.stdout)
	}
	total, err := tgt.CountExpired(ctx)
	if err != nil || total != expired {
		t.Fatalf("CountExpired = %d, %v; want %d", total, err, expired)
	}
	var buf bytes.Buffer
	bar := &progress{w: &buf, on: true, total: total, pct: -1}
	removed, calls, err := collect(ctx, tgt.Store.(session.Collector), session.DefaultGCBatch, 0, bar)
	if err != nil || removed != expired || calls != 3 {
		t.Fatalf("collect = %d removed in %d batches, %v; want %d in 3", removed, calls, err, expired)
	}
	drawn := buf.String()
	last := -1
	for _, state := range []string{" 0/2500 ", " 1000/2500 ", " 2000/2500 ", " 2500/2500 100%\n"} {
		i := strings.Index(drawn, state)
		if i <= last {
			t.Fatalf("bar states out of order or missing %q: %q", state, drawn)
		}
		last = i
	}
	if n := strings.Count(drawn, "\r"); n < 4 {
		t.Fatalf("bar drawn %d times for 3 batches, want at least 4 (start and each batch): %q", n, drawn)
	}

	expiredMongoDocs(t, tgt, "again", 25)
	r = must(t, st, "gc", "--batch", "10")
	if !strings.Contains(r.stdout, "removed 25 expired session(s) in 3 batch(es)") {
		t.Fatalf("gc --batch 10 of 25: %q", r.stdout)
	}
	if got := expiredCount(t, st); got != 0 {
		t.Errorf("after gc: %d expired", got)
	}
	if r := must(t, st, "stats"); !strings.Contains(r.stdout, fmt.Sprintf("sessions:      %d", live)) {
		t.Errorf("stats after gc:\n%s", r.stdout)
	}
}

// gcOnly hides every method of a store but GC: a Collector without
// batches.
type gcOnly struct{ c session.Collector }

func (g gcOnly) GC(ctx context.Context) (int, error) { return g.c.GC(ctx) }

// TestCollectWithoutBatches: a Collector that is not a BatchCollector is
// collected by calls of its GC until one removes nothing, and --max-batches
// bounds the calls of a BatchCollector.
func TestCollectWithoutBatches(t *testing.T) {
	ctx := context.Background()
	fill := func(n int) *memstore.Store {
		s := memstore.New()
		for i := range n {
			if _, err := s.Save(ctx, fmt.Sprintf("k%d", i), session.Record{Data: []byte("x"), Expiry: time.Now().Add(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	var buf bytes.Buffer
	bar := &progress{w: &buf, on: true, pct: -1}
	removed, calls, err := collect(ctx, gcOnly{fill(30)}, 7, 0, bar)
	if err != nil || removed != 30 || calls != 2 {
		t.Fatalf("GC-only store: %d removed in %d calls, %v; want 30 in 2 (the second finds none)", removed, calls, err)
	}
	if !strings.HasSuffix(buf.String(), "\r30 removed\n") {
		t.Errorf("counter without a total drew %q", buf.String())
	}
	s := fill(30)
	bar = &progress{w: io.Discard}
	if removed, calls, err := collect(ctx, s, 7, 2, bar); err != nil || removed != 14 || calls != 2 {
		t.Fatalf("max 2 batches of 7: %d removed in %d calls, %v; want 14 in 2", removed, calls, err)
	}
	if n, _ := s.CountExpired(ctx); n != 16 {
		t.Fatalf("%d expired left, want 16", n)
	}
}

// TestGCBatchFlag: --batch must be positive.
func TestGCBatchFlag(t *testing.T) {
	st := "--store=" + testenv.SQLite(t)
	for _, v := range []string{"0", "-5"} {
		fails(t, exitUsage, "--batch must be positive", st, "gc", "--batch", v)
	}
}
