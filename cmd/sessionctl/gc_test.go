package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestGCBatches checks that gc goes on until every expired record is gone
// and leaves the live records alone: on SQLite, whose GC deletes batches of
// 1000 rows until none is left within one call, and on the file store,
// whose GC looks at one window of 1000 directory entries per call.
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
				if first <= 0 || first >= expired {
					t.Fatalf("one batch (window) removed %d of %d", first, expired)
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
