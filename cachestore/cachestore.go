package cachestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/session"
)

//go:generate go run gen_capabilities.go

// New returns a session.Store that keeps the records of durable and copies
// of them in fast. See the package documentation for what it guarantees.
//
// The returned store implements session.Toucher, session.Collector,
// session.BatchCollector, session.Iterator, session.OwnerIndex and
// session.ExpiredCounter exactly when durable does, and reports
// session.Unconditional as durable does. Use [StatsOf] to read its
// counters.
//
// New panics if fast or durable is nil, or if fast declares
// session.Unconditional: the tier orders its writes into the cache with
// the fast store's compare-and-set.
func New(fast, durable session.Store, opts ...Option) session.Store {
	if fast == nil || durable == nil {
		panic("cachestore: New with a nil store")
	}
	if session.IsUnconditional(fast) {
		panic(fmt.Sprintf("cachestore: fast store %T cannot compare-and-set (session.Unconditional); the tier needs it to order cache writes", fast))
	}
	cfg := defaults()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	t := &tier{
		fast:          fast,
		durable:       durable,
		unconditional: session.IsUnconditional(durable),
		cfg:           cfg,
		seen:          seen{m: make(map[string]sighting)},
	}
	t.toucher, _ = durable.(session.Toucher)
	t.collector, _ = durable.(session.Collector)
	t.batch, _ = durable.(session.BatchCollector)
	t.iterator, _ = durable.(session.Iterator)
	t.owners, _ = durable.(session.OwnerIndex)
	t.counter, _ = durable.(session.ExpiredCounter)
	t.fastCollector, _ = fast.(session.Collector)
	return t.wrap()
}

// Stats are a tier's counters since New.
type Stats struct {
	// Hits counts Loads answered from the fast store.
	Hits uint64
	// Misses counts Loads that read the durable store: the entry was
	// absent, corrupt, expired or not trusted, or the fast store failed
	// or was being skipped.
	Misses uint64
	// Fills counts entries written by Loads and kept.
	Fills uint64
	// FillsUndone counts entries written by Loads and deleted again
	// because the durable store changed meanwhile.
	FillsUndone uint64
	// Moves counts entries moved forward by Saves.
	Moves uint64
	// Deletes counts entry deletions (Delete, Touch, stale or failed
	// writes).
	Deletes uint64
	// Errors counts failed calls to the fast store (misses, conflicts and
	// refusals excepted).
	Errors uint64
}

// StatsOf returns the counters of s, a store returned by [New]; ok is false
// for any other store.
func StatsOf(s session.Store) (st Stats, ok bool) {
	c, ok := s.(interface{ core() *tier })
	if !ok {
		return Stats{}, false
	}
	t := c.core()
	return Stats{
		Hits:        t.stats.hits.Load(),
		Misses:      t.stats.misses.Load(),
		Fills:       t.stats.fills.Load(),
		FillsUndone: t.stats.undone.Load(),
		Moves:       t.stats.moves.Load(),
		Deletes:     t.stats.deletes.Load(),
		Errors:      t.stats.errors.Load(),
	}, true
}

// tier is the store; the types in capabilities.go wrap it with the optional
// interfaces of its durable store.
type tier struct {
	fast, durable session.Store
	unconditional bool
	cfg           config
	seen          seen

	toucher       session.Toucher
	collector     session.Collector
	batch         session.BatchCollector
	iterator      session.Iterator
	owners        session.OwnerIndex
	counter       session.ExpiredCounter
	fastCollector session.Collector

	// downUntil (Unix nanoseconds): reads skip the fast store until then.
	downUntil atomic.Int64
	// distrust (Unix nanoseconds): entries written before are not served.
	distrust atomic.Int64
	// loggedAt (Unix nanoseconds): when a failure was last logged.
	loggedAt atomic.Int64

	stats struct {
		hits, misses, fills, undone, moves, deletes, errors atomic.Uint64
	}
}

func (t *tier) core() *tier { return t }

// Unconditional reports whether the durable store cannot compare-and-set
// (session.Unconditional).
func (t *tier) Unconditional() bool { return t.unconditional }

// found is what a Load found in the fast store besides a servable entry.
type found struct {
	present bool   // a record, not served (expired, untrusted, not an entry)
	version uint64 // its fast version
	corrupt bool   // the fast store could not read what it holds
}

// Load implements session.Store: the entry in the fast store if it is good,
// else the durable record, which then fills the cache.
func (t *tier) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("cachestore: load: %w", err)
	}
	now := time.Now()
	var f found
	if !t.skipping(now) {
		c, err := t.fast.Load(ctx, key)
		switch {
		case err == nil:
			e, derr := decodeEntry(c.Data)
			if derr == nil && e.rec.Expiry.After(now) && e.cachedAt >= t.distrust.Load() && t.seen.observe(key, e.rec.Version, c.Version, e.cachedAt) {
				t.stats.hits.Add(1)
				return e.rec, nil
			}
			f = found{present: true, version: c.Version}
		case errors.Is(err, session.ErrNotFound):
		case errors.Is(err, session.ErrCorrupt):
			f = found{corrupt: true}
		default:
			if cerr := ctx.Err(); cerr != nil {
				return session.Record{}, fmt.Errorf("cachestore: load: %w", cerr)
			}
			t.failed(ctx, "load", err)
		}
	}
	t.stats.misses.Add(1)
	rec, err := t.durable.Load(ctx, key)
	if err != nil {
		if errors.Is(err, session.ErrNotFound) && (f.present || f.corrupt) {
			t.remove(ctx, key) // it mirrors nothing
		}
		return session.Record{}, err
	}
	t.fill(ctx, key, rec, f, now)
	return rec, nil
}

// fill writes rec, just read from the durable store, into the cache (rule 2
// of the package documentation). Failures are only counted and logged.
func (t *tier) fill(ctx context.Context, key string, rec session.Record, f found, now time.Time) {
	if t.skipping(now) || !rec.Expiry.After(now) {
		return
	}
	fr := t.fastRecord(rec, now)
	if f.present {
		// Compare-and-set over the entry found: it fails if anyone wrote
		// or deleted it since.
		fr.Version = f.version
		fv, err := t.fast.Save(ctx, key, fr)
		if err != nil {
			t.fillFailed(ctx, key, err)
			return
		}
		t.stats.fills.Add(1)
		t.seen.put(key, rec.Version, fv, now.UnixNano())
		return
	}
	if f.corrupt {
		if err := t.fast.Delete(ctx, key); err != nil {
			t.failed(ctx, "fill", err)
			return
		}
	}
	fv, err := t.fast.Save(ctx, key, fr) // version 0: only if absent
	if err != nil {
		t.fillFailed(ctx, key, err)
		return
	}
	// An absent key orders nothing: check that the durable store still
	// holds what was cached, else take the entry back. This runs to the
	// end even if ctx ends now.
	dctx, cancel := t.detached(ctx)
	defer cancel()
	cur, err := t.durable.Load(dctx, key)
	if err == nil && cur.Version == rec.Version && cur.Expiry.Equal(rec.Expiry) {
		t.stats.fills.Add(1)
		t.seen.put(key, rec.Version, fv, now.UnixNano())
		return
	}
	t.stats.undone.Add(1)
	t.remove(ctx, key)
}

// fillFailed handles a fill's failed write: a conflict means someone else
// wrote the entry (their rules hold) and a refusal wrote nothing, but after
// any other error the write may have happened, unchecked: the entry goes.
func (t *tier) fillFailed(ctx context.Context, key string, err error) {
	if errors.Is(err, session.ErrConflict) || refused(err) {
		return
	}
	t.failed(ctx, "fill", err)
	t.remove(ctx, key)
}

// Save implements session.Store: the durable store's compare-and-set
// decides; after a success the entry is moved forward (rule 1 of the package
// documentation). Failures of the cache do not fail the Save.
func (t *tier) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	v, err := t.durable.Save(ctx, key, rec)
	switch {
	case err == nil:
		t.moveForward(ctx, key, rec, v)
	case v == 0 && errors.Is(err, session.ErrConflict):
		t.dropIfMirrors(ctx, key, rec.Version)
	case v == 0 && refused(err):
		// The durable store changed nothing.
	default:
		// The durable store may hold a new version: its outcome is
		// unknown, or it says it saved with an error.
		t.remove(ctx, key)
	}
	return v, err
}

// moveForward replaces the entry mirroring base rec.Version with one
// mirroring v, by compare-and-set, and deletes any other entry.
func (t *tier) moveForward(ctx context.Context, key string, rec session.Record, v uint64) {
	now := time.Now()
	if rec.Version == 0 && !t.unconditional {
		// A new record: the key held no live record, so no live entry.
		// Loads fill it.
		t.seen.forget(key)
		return
	}
	if t.unconditional || t.skipping(now) || !rec.Expiry.After(now) {
		t.remove(ctx, key)
		return
	}
	dctx, cancel := t.detached(ctx)
	defer cancel()
	mirror := rec
	mirror.Version, mirror.Modified = v, now
	fr := t.fastRecord(mirror, now)
	if fv, ok := t.seen.fastVersion(key, rec.Version); ok {
		fr.Version = fv
		nfv, err := t.fast.Save(dctx, key, fr)
		if err == nil {
			t.stats.moves.Add(1)
			t.seen.put(key, v, nfv, now.UnixNano())
			return
		}
		if !errors.Is(err, session.ErrConflict) {
			t.moveFailed(dctx, key, err)
			return
		}
		// Changed since the Load: look at what it holds now.
	}
	c, err := t.fast.Load(dctx, key)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return // absent: Loads fill it
	case err != nil:
		t.moveFailed(dctx, key, err)
		return
	}
	if e, derr := decodeEntry(c.Data); derr != nil || e.rec.Version != rec.Version {
		// Not the version this save replaced: older or newer, it cannot
		// tell. Deleting is always safe.
		t.remove(dctx, key)
		return
	}
	fr.Version = c.Version
	nfv, err := t.fast.Save(dctx, key, fr)
	if err != nil {
		t.moveFailed(dctx, key, err)
		return
	}
	t.stats.moves.Add(1)
	t.seen.put(key, v, nfv, now.UnixNano())
}

// moveFailed deletes the entry a move could not replace: it mirrors the
// version the save replaced, or the write's outcome is unknown.
func (t *tier) moveFailed(ctx context.Context, key string, err error) {
	t.fault("save", err)
	t.remove(ctx, key)
}

// dropIfMirrors deletes the entry under key if it mirrors base: a save of
// base just conflicted, so the caller's copy was stale and the Manager's
// reload must not find it again.
func (t *tier) dropIfMirrors(ctx context.Context, key string, base uint64) {
	t.seen.forget(key)
	if base == 0 || t.skipping(time.Now()) {
		return
	}
	c, err := t.fast.Load(ctx, key)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return
	case errors.Is(err, session.ErrCorrupt):
	case err != nil:
		t.failed(ctx, "save", err)
		return
	default:
		if e, derr := decodeEntry(c.Data); derr == nil && e.rec.Version != base {
			return // moved on
		}
	}
	t.remove(ctx, key)
}

// Delete implements session.Store: the durable record, then the entry.
func (t *tier) Delete(ctx context.Context, key string) error {
	err := t.durable.Delete(ctx, key)
	t.remove(ctx, key)
	return err
}

// touch implements session.Toucher for the wrappers: the durable record's
// expiry, then the entry goes (the next Load fills it).
func (t *tier) touch(ctx context.Context, key string, expiry time.Time) error {
	err := t.toucher.Touch(ctx, key, expiry)
	t.remove(ctx, key)
	return err
}

// gc implements session.Collector: the durable store's GC, then the fast
// store's if it has one.
func (t *tier) gc(ctx context.Context) (int, error) {
	n, err := t.collector.GC(ctx)
	if err == nil {
		t.collectFast(ctx)
	}
	return n, err
}

// gcBatch implements session.BatchCollector: a durable batch; after the
// last one, the fast store's GC if it has one.
func (t *tier) gcBatch(ctx context.Context, limit int) (int, error) {
	n, err := t.batch.GCBatch(ctx, limit)
	if err == nil && n < limit {
		t.collectFast(ctx)
	}
	return n, err
}

// collectFast runs the fast store's GC (memory stores need it; servers
// expire entries themselves). Its failure is only logged.
func (t *tier) collectFast(ctx context.Context) {
	if t.fastCollector == nil {
		return
	}
	if _, err := t.fastCollector.GC(ctx); err != nil {
		t.failed(ctx, "gc", err)
	}
}

// remove deletes the entry under key, with a context of its own. A deletion
// that fails leaves an entry that may be stale: every entry written until
// now (plus the clock margin) is then not trusted by this process.
func (t *tier) remove(ctx context.Context, key string) {
	t.seen.forget(key)
	dctx, cancel := t.detached(ctx)
	defer cancel()
	err := t.fast.Delete(dctx, key)
	if err == nil {
		t.stats.deletes.Add(1)
		return
	}
	if refused(err) {
		return // the fast store cannot hold this key: nothing to delete
	}
	until := time.Now().Add(skewMargin).UnixNano()
	for {
		cur := t.distrust.Load()
		if cur >= until || t.distrust.CompareAndSwap(cur, until) {
			break
		}
	}
	t.fault("delete", err)
}

// failed is fault for calls made with the caller's context: a failure
// caused by that context ending is not the cache's.
func (t *tier) failed(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	t.fault(op, err)
}

// fault counts and logs a failure of the fast store (refusals, misses and
// conflicts are answers, not failures), and makes reads skip it for the
// backoff period.
func (t *tier) fault(op string, err error) {
	if refused(err) || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrConflict) {
		return
	}
	t.stats.errors.Add(1)
	now := time.Now()
	t.downUntil.Store(now.Add(t.cfg.backoff).UnixNano())
	last := t.loggedAt.Load()
	if now.UnixNano()-last >= int64(time.Second) && t.loggedAt.CompareAndSwap(last, now.UnixNano()) {
		t.cfg.logger.Warn("cachestore: fast store failed; reading from the durable store",
			"op", op, "backoff", t.cfg.backoff, "err", err)
	}
}

// skipping reports whether reads skip the fast store at now.
func (t *tier) skipping(now time.Time) bool { return now.UnixNano() < t.downUntil.Load() }

// detached returns a context for cache work that must happen even when the
// request's context has ended: it keeps ctx's values, not its cancellation.
func (t *tier) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), t.cfg.cleanupTimeout)
}

// fastRecord is the fast-store record holding the entry for rec: it expires
// with the record or after the maximum age, whichever comes first.
func (t *tier) fastRecord(rec session.Record, now time.Time) session.Record {
	exp := rec.Expiry
	if t.cfg.maxAge > 0 {
		if capped := now.Add(t.cfg.maxAge); capped.Before(exp) {
			exp = capped
		}
	}
	return session.Record{Data: encodeEntry(rec, now), Expiry: exp, Created: now}
}

// refused reports whether err is a store refusing a value or key, which
// leaves the record as it was.
func refused(err error) bool {
	return errors.Is(err, session.ErrTooLarge) || errors.Is(err, session.ErrUnsupported) || errors.Is(err, session.ErrInvalidKey)
}

// seen remembers, per key, the entry this process last saw or wrote in
// the cache: its durable version, fast version and write time. It serves
// two purposes:
//
//   - The Save that usually follows a Load moves the entry with one
//     compare-and-set on the remembered fast version, without reading it
//     first. A wrong fast version only costs that read: the
//     compare-and-set fails.
//   - The write time is a floor: an entry written before one this process
//     already saw under the same key is older than it (a cache restored
//     from a snapshot, an entry written back by hand) and is not served.
//     A fresher entry written by a process whose clock runs behind is then
//     also passed over, which costs one read of the durable store.
//
// It holds at most seenEntries keys, dropping arbitrary ones beyond.
type seen struct {
	mu sync.Mutex
	m  map[string]sighting
}

type sighting struct {
	durable, fast uint64 // fast is 0 when unknown
	cachedAt      int64
}

func (s *seen) put(key string, durable, fast uint64, cachedAt int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[key]
	if !ok && len(s.m) >= seenEntries {
		for k := range s.m { // an arbitrary one
			delete(s.m, k)
			break
		}
	}
	s.m[key] = sighting{durable, fast, max(cachedAt, old.cachedAt)}
}

// observe records an entry read under key and reports whether it may be
// served: it was not written before one already seen.
func (s *seen) observe(key string, durable, fast uint64, cachedAt int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[key]
	if cachedAt < old.cachedAt {
		return false
	}
	if !ok && len(s.m) >= seenEntries {
		for k := range s.m { // an arbitrary one
			delete(s.m, k)
			break
		}
	}
	s.m[key] = sighting{durable, fast, cachedAt}
	return true
}

// fastVersion returns the fast version of the entry under key if it was
// seen mirroring durable.
func (s *seen) fastVersion(key string, durable uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[key]
	return x.fast, ok && x.fast != 0 && x.durable == durable
}

// forget marks the entry under key as no longer known (deleted, or about to
// change) and keeps its floor.
func (s *seen) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.m[key]; ok {
		s.m[key] = sighting{cachedAt: x.cachedAt}
	}
}
