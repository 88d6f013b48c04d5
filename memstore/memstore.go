// Package memstore is an in-memory session.Store for tests, demos and
// single-process servers. It implements every optional capability:
// session.Toucher, session.Collector (with BatchCollector and
// ExpiredCounter), session.Iterator and session.OwnerIndex.
//
// Expired records are invisible at once and removed on access, by GC, or by
// the optional janitor started with [Store.StartJanitor].
//
// The records, and the owner index, are spread over 1024 shards, each with
// its own lock, so that requests on different sessions rarely wait for one
// another and GC never holds a lock over more than one shard: at a million records a GC pass
// keeps any one request waiting well under a millisecond
// (BenchmarkGCBlocking). A shard whose maps have shrunk to a quarter of
// their peak is rebuilt, so that memory goes back to the runtime once the
// sessions are gone (a Go map keeps its buckets after delete).
package memstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/session"
)

const (
	// numShards is the number of shards, a power of two.
	numShards = 1024
	// shrinkMin is the peak size under which a map is never rebuilt: a
	// small map holds little memory.
	shrinkMin = 64
	// gcChunk is how many records GC removes per hold of a shard's write
	// lock.
	gcChunk = 64
)

// Store is an in-memory session store. The zero value is an empty store
// that judges expiry by time.Now, ready to use; [New] returns the same.
// A Store must not be copied after first use.
type Store struct {
	seedOnce sync.Once
	seed     maphash.Seed
	version  atomic.Uint64
	gcNext   atomic.Uint32 // the shard where the next GC starts
	clock    func() time.Time
	shards   [numShards]shard
	owners   [numShards]ownerShard
}

// shard holds the records whose keys hash to it.
type shard struct {
	mu      sync.RWMutex
	records map[string]session.Record
	// peak is the largest size of records since it was last built.
	peak int
}

// ownerShard is the part of the owner index of the owners that hash to
// it. Lock order: a shard's mu, then an ownerShard's mu.
type ownerShard struct {
	mu   sync.RWMutex
	sets map[string]*keySet
	peak int
}

// keySet is the keys of one owner's records.
type keySet struct {
	keys map[string]struct{}
	peak int
}

// New returns an empty store.
func New() *Store { return &Store{} }

// NewWithClock returns an empty store that judges expiry by now, for tests
// that control time.
func NewWithClock(now func() time.Time) *Store { return &Store{clock: now} }

func (s *Store) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock()
}

// shard returns the shard of key.
func (s *Store) shard(key string) *shard {
	return &s.shards[s.hash(key)&(numShards-1)]
}

// ownerShard returns the owner index shard of owner.
func (s *Store) ownerShard(owner string) *ownerShard {
	return &s.owners[s.hash(owner)&(numShards-1)]
}

func (s *Store) hash(str string) uint64 {
	s.seedOnce.Do(func() { s.seed = maphash.MakeSeed() })
	return maphash.String(s.seed, str)
}

func live(rec session.Record, now time.Time) bool { return rec.Expiry.After(now) }

func clone(rec session.Record) session.Record {
	rec.Data = append([]byte(nil), rec.Data...)
	return rec
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("memstore: load: %w", err)
	}
	sh := s.shard(key)
	sh.mu.RLock()
	rec, ok := sh.records[key]
	sh.mu.RUnlock()
	if !ok {
		return session.Record{}, fmt.Errorf("memstore: load: %w", session.ErrNotFound)
	}
	if !live(rec, s.now()) {
		sh.mu.Lock()
		if cur, ok := sh.records[key]; ok && !live(cur, s.now()) {
			s.remove(sh, key)
			sh.shrink()
		}
		sh.mu.Unlock()
		return session.Record{}, fmt.Errorf("memstore: load: %w", session.ErrNotFound)
	}
	// The store's own bytes, which it never changes (Save stores a copy):
	// the Store contract makes loaded data read-only for callers.
	return rec, nil
}

// Save implements session.Store.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: save: %w", err)
	}
	// rec.Data is kept as it is, not copied: the Store contract makes data
	// handed to Save read-only for the caller.
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	cur, ok := sh.records[key]
	var curVersion uint64
	if ok && live(cur, now) {
		curVersion = cur.Version
	}
	if curVersion != rec.Version {
		return 0, fmt.Errorf("memstore: save: stored version %d, expected %d: %w", curVersion, rec.Version, session.ErrConflict)
	}
	rec.Version = s.version.Add(1)
	rec.Modified = now
	if sh.records == nil {
		sh.records = make(map[string]session.Record)
	}
	sh.records[key] = rec
	sh.peak = max(sh.peak, len(sh.records))
	if ok && cur.Owner != rec.Owner {
		s.unindex(cur.Owner, key)
	}
	if rec.Owner != "" && (!ok || cur.Owner != rec.Owner) {
		s.index(rec.Owner, key)
	}
	return rec.Version, nil
}

// index adds key to the owner index.
func (s *Store) index(owner, key string) {
	osh := s.ownerShard(owner)
	osh.mu.Lock()
	defer osh.mu.Unlock()
	if osh.sets == nil {
		osh.sets = make(map[string]*keySet)
	}
	set := osh.sets[owner]
	if set == nil {
		set = &keySet{keys: make(map[string]struct{}, 1)}
		osh.sets[owner] = set
		osh.peak = max(osh.peak, len(osh.sets))
	}
	set.keys[key] = struct{}{}
	set.peak = max(set.peak, len(set.keys))
}

// unindex removes key from the owner index, and rebuilds the maps that
// shrank to a quarter of their peak.
func (s *Store) unindex(owner, key string) {
	if owner == "" {
		return
	}
	osh := s.ownerShard(owner)
	osh.mu.Lock()
	defer osh.mu.Unlock()
	set := osh.sets[owner]
	if set == nil {
		return
	}
	delete(set.keys, key)
	switch {
	case len(set.keys) == 0:
		delete(osh.sets, owner)
		if len(osh.sets) == 0 || osh.peak >= shrinkMin && len(osh.sets) <= osh.peak/4 {
			osh.sets = rebuild(osh.sets)
			osh.peak = len(osh.sets)
		}
	case set.peak >= shrinkMin && len(set.keys) <= set.peak/4:
		set.keys = rebuild(set.keys)
		set.peak = len(set.keys)
	}
}

// remove deletes key from sh and from the owner index; sh.mu must be held.
func (s *Store) remove(sh *shard, key string) {
	rec, ok := sh.records[key]
	if !ok {
		return
	}
	delete(sh.records, key)
	s.unindex(rec.Owner, key)
}

// shrink rebuilds the shard's map when it holds a quarter of its peak or
// less, so that the memory of the removed entries goes back to the runtime;
// sh.mu must be held. Rebuilding copies the entries left, at most a quarter
// of the peak: removals pay for it, amortized.
func (sh *shard) shrink() {
	if len(sh.records) == 0 && sh.peak > 0 || sh.peak >= shrinkMin && len(sh.records) <= sh.peak/4 {
		sh.records = rebuild(sh.records)
		sh.peak = len(sh.records)
	}
}

// rebuild returns a copy of m sized for its entries, nil when it is empty.
func rebuild[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	sh := s.shard(key)
	sh.mu.Lock()
	s.remove(sh, key)
	sh.shrink()
	sh.mu.Unlock()
	return nil
}

// Touch implements session.Toucher.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: touch: %w", err)
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now()
	rec, ok := sh.records[key]
	if !ok || !live(rec, now) {
		return fmt.Errorf("memstore: touch: %w", session.ErrNotFound)
	}
	rec.Expiry = expiry
	rec.Modified = now
	sh.records[key] = rec
	return nil
}

// GC implements session.Collector: it removes every expired record and
// returns how many it removed. It works one shard at a time: it finds the
// shard's expired records under the shard's read lock (requests that only
// read go on meanwhile), then removes them 64 at a time under
// its write lock, so that no request waits for more than one such step.
func (s *Store) GC(ctx context.Context) (int, error) { return s.collect(ctx, 0) }

// GCBatch implements session.BatchCollector: it removes at most limit
// expired records. A limit below 1 is an error, as in every store.
func (s *Store) GCBatch(ctx context.Context, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("memstore: gc batch limit %d: must be at least 1", limit)
	}
	return s.collect(ctx, limit)
}

// collect removes at most limit expired records, every one when limit is 0.
// It starts at the shard where the last call stopped, so that batches one
// after the other do not scan the same shards again.
func (s *Store) collect(ctx context.Context, limit int) (int, error) {
	n := 0
	var expired []string
	start := s.gcNext.Load()
	for i := range uint32(numShards) {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("memstore: gc: %w", err)
		}
		idx := (start + i) % numShards
		if limit > 0 && n >= limit {
			s.gcNext.Store(idx)
			break
		}
		sh := &s.shards[idx]
		now := s.now()
		expired = expired[:0]
		sh.mu.RLock()
		t0 := holdStart()
		for k, rec := range sh.records {
			if !live(rec, now) {
				expired = append(expired, k)
				if limit > 0 && n+len(expired) == limit {
					break
				}
			}
		}
		holdEnd(t0)
		sh.mu.RUnlock()
		for len(expired) > 0 {
			chunk := expired[:min(gcChunk, len(expired))]
			expired = expired[len(chunk):]
			sh.mu.Lock()
			t0 := holdStart()
			for _, k := range chunk {
				// Saved again since it was found: no longer expired.
				if rec, ok := sh.records[k]; ok && !live(rec, now) {
					s.remove(sh, k)
					n++
				}
			}
			if len(expired) == 0 {
				sh.shrink()
			}
			holdEnd(t0)
			sh.mu.Unlock()
		}
		clear(expired[:cap(expired)]) // let the keys go
	}
	return n, nil
}

// holdHook, when not nil, is called when a step of a GC pass takes a
// shard's lock, and the function it returns when the step lets it go
// (BenchmarkGCLockHold measures the steps with it).
var holdHook func() (end func())

func holdStart() (end func()) {
	if holdHook == nil {
		return nil
	}
	return holdHook()
}

func holdEnd(end func()) {
	if end != nil {
		end()
	}
}

// CountExpired implements session.ExpiredCounter.
func (s *Store) CountExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: count expired: %w", err)
	}
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		now := s.now()
		sh.mu.RLock()
		for _, rec := range sh.records {
			if !live(rec, now) {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n, nil
}

// Iterate implements session.Iterator. fn runs on a snapshot of one shard
// at a time, without the store's locks held, so it may call the store.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	var (
		keys []string
		recs []session.Record
	)
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: iterate: %w", err)
		}
		sh := &s.shards[i]
		keys, recs = keys[:0], recs[:0]
		sh.mu.RLock()
		now := s.now()
		for k, rec := range sh.records {
			if live(rec, now) {
				keys = append(keys, k)
				recs = append(recs, clone(rec))
			}
		}
		sh.mu.RUnlock()
		for j, k := range keys {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("memstore: iterate: %w", err)
			}
			if !fn(k, recs[j]) {
				return nil
			}
		}
	}
	return nil
}

// OwnerKeys implements session.OwnerIndex. Owners are compared byte for
// byte.
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: owner keys: %w", err)
	}
	osh := s.ownerShard(owner)
	osh.mu.RLock()
	var keys []string
	if set := osh.sets[owner]; set != nil {
		keys = make([]string, 0, len(set.keys))
		for k := range set.keys {
			keys = append(keys, k)
		}
	}
	osh.mu.RUnlock()
	now := s.now()
	out := keys[:0]
	for _, k := range keys {
		sh := s.shard(k)
		sh.mu.RLock()
		rec, ok := sh.records[k]
		sh.mu.RUnlock()
		if ok && rec.Owner == owner && live(rec, now) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Len returns the number of records held, expired ones not yet collected
// included.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.records)
		sh.mu.RUnlock()
	}
	return n
}

// StartJanitor starts a goroutine that runs GC every interval until the
// returned stop function is called. stop waits for the goroutine to end and
// may be called more than once.
func (s *Store) StartJanitor(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = s.GC(context.Background())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}
