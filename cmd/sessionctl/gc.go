package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const gcHelp = `Removes the expired sessions that are still stored, until none is left,
and prints how many it removed. Work is batched by the store: SQL stores
delete at most 1000 rows per statement, Mongo 1000 documents per command,
and the file store examines 1000 directory entries per call (gc calls it
until the whole directory was seen). On a terminal a progress bar on stderr
shows the count against the expired total. Redis and memcached expire
records by themselves: there is nothing to collect.

--dry-run counts the expired records that would be removed and removes
nothing. The global --timeout (30s by default) bounds the whole run: give
--timeout 0 for a collection that may take longer.

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db gc
  sessionctl --store 'postgres://app@db/app?sslmode=disable' gc --dry-run
  sessionctl --store file:///var/lib/php/sessions gc --max-batches 10`

// runGC implements "sessionctl gc".
func runGC(c *cli, args []string) int {
	var cf cmdFlags
	fs := c.flagSet(gcHelp, &cf)
	dryRun := fs.Bool("dry-run", false, "count the expired records, remove nothing")
	maxBatches := fs.Int("max-batches", 0, "stop after this many calls of the store's GC (0: until none is left)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
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
	expired, countErr := t.CountExpired(ctx)
	if countErr != nil && !errors.Is(countErr, session.ErrUnsupported) {
		return c.fail(fmt.Errorf("count expired records: %w", countErr))
	}
	if *dryRun {
		if countErr != nil {
			return c.fail(countErr)
		}
		fmt.Fprintf(c.stdout, "%s: %d expired session(s) would be removed (dry run)\n", t.Where, expired)
		return exitOK
	}
	col, ok := t.Store.(session.Collector)
	if !ok {
		return c.fail(fmt.Errorf("%s store has no garbage collection: %w", t.Scheme, session.ErrUnsupported))
	}
	if countErr != nil {
		expired = 0 // unknown
	}
	bar := newProgress(c.stderr, expired)
	if *quiet {
		bar.on = false
	}
	bar.start()
	start := time.Now()
	removed, batches, idle := 0, 0, 0
	for *maxBatches == 0 || batches < *maxBatches {
		n, err := col.GC(ctx)
		batches++
		removed += n
		if err != nil {
			bar.done(removed)
			return c.fail(fmt.Errorf("after removing %d expired session(s) in %d batch(es): %w", removed, batches, err))
		}
		bar.update(removed)
		if n > 0 {
			idle = 0
			continue
		}
		idle++
		// A store whose GC looks at one window of records per call may find
		// nothing in one window and more in the next.
		if countErr != nil || removed >= expired || idle >= t.GCIdleCalls() {
			break
		}
	}
	bar.done(removed)
	fmt.Fprintf(c.stdout, "%s: removed %d expired session(s) in %d batch(es), %s\n", t.Where, removed, batches, time.Since(start).Round(time.Millisecond))
	return exitOK
}
