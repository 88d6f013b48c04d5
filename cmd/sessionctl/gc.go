package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const gcHelp = `Removes the expired sessions that are still stored, until none is left,
and prints how many it removed. Stores that collect in batches (SQL, Mongo,
files, memory) remove at most --batch records per call (default 1000),
until a call removes fewer; on a terminal a progress bar on stderr moves
after each batch, against the expired total that the store counted with a
query first. Redis and memcached expire records by themselves: there is
nothing to collect.

--dry-run counts the expired records that would be removed, with the same
query, and removes nothing. The global --timeout (30s by default) bounds
the whole run: give --timeout 0 for a collection that may take longer.

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db gc
  sessionctl --store 'postgres://app@db/app?sslmode=disable' gc --dry-run
  sessionctl --store file:///var/lib/php/sessions gc --batch 200 --max-batches 10`

// runGC implements "sessionctl gc".
func runGC(c *cli, args []string) int {
	var cf cmdFlags
	fs := c.flagSet(gcHelp, &cf)
	dryRun := fs.Bool("dry-run", false, "count the expired records, remove nothing")
	batch := fs.Int("batch", session.DefaultGCBatch, "records removed per batch, for stores that collect in batches")
	maxBatches := fs.Int("max-batches", 0, "stop after this many batches (0: until none is left)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	if *batch <= 0 {
		return c.usageError("--batch must be positive")
	}
	if *maxBatches < 0 {
		return c.usageError("--max-batches must not be negative")
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{ReadOnly: *dryRun})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)

	if t.SelfExpiring() {
		fmt.Fprintf(c.stdout, "%s: the server removes expired records by itself; nothing to collect (0 expired)\n", t.Where)
		return exitOK
	}
	if *dryRun {
		expired, err := t.CountExpired(ctx)
		if err != nil {
			return c.fail(fmt.Errorf("count expired records: %w", err))
		}
		fmt.Fprintf(c.stdout, "%s: %d expired session(s) would be removed (dry run)\n", t.Where, expired)
		return exitOK
	}
	col, ok := t.Store.(session.Collector)
	if !ok {
		return c.fail(fmt.Errorf("%s store has no garbage collection: %w", t.Scheme, session.ErrUnsupported))
	}
	bar := newProgress(c.stderr, 0)
	if *quiet {
		bar.on = false
	}
	if bar.on { // the total is only drawn: no count when nobody sees it
		expired, err := t.CountExpired(ctx)
		switch {
		case err == nil:
			bar.total = expired
		case !errors.Is(err, session.ErrUnsupported): // unknown total: a counter
			return c.fail(fmt.Errorf("count expired records: %w", err))
		}
	}
	start := time.Now()
	removed, batches, err := collect(ctx, col, *batch, *maxBatches, bar)
	if err != nil {
		return c.fail(fmt.Errorf("after removing %d expired session(s) in %d batch(es): %w", removed, batches, err))
	}
	fmt.Fprintf(c.stdout, "%s: removed %d expired session(s) in %d batch(es), %s\n", t.Where, removed, batches, time.Since(start).Round(time.Millisecond))
	return exitOK
}

// collect removes the expired records of col and shows them on bar. A
// [session.BatchCollector] is called for at most batch records at a time
// until a call removes fewer; another Collector's GC, which removes
// everything it finds, until a call removes nothing. It stops after
// maxBatches calls (0: no limit) and returns the records removed and the
// calls made.
func collect(ctx context.Context, col session.Collector, batch, maxBatches int, bar *progress) (removed, calls int, err error) {
	bc, batched := col.(session.BatchCollector)
	bar.start()
	defer func() { bar.done(removed) }()
	for maxBatches == 0 || calls < maxBatches {
		var n int
		if batched {
			n, err = bc.GCBatch(ctx, batch)
		} else {
			n, err = col.GC(ctx)
		}
		calls++
		removed += n
		if err != nil {
			return removed, calls, err
		}
		bar.update(removed)
		if (batched && n < batch) || n == 0 {
			break
		}
	}
	return removed, calls, nil
}
