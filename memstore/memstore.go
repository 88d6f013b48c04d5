// Package memstore is an in-memory session.Store for tests, demos and
// single-process servers. It implements every optional capability:
// session.Toucher, session.Collector (with BatchCollector and
// ExpiredCounter), session.Iterator and session.OwnerIndex.
//
// Expired records are invisible at once and removed on access, by GC, or by
// the optional janitor started with [Store.StartJanitor].
package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// Store is an in-memory session store. The zero value is not usable; call
// [New].
type Store struct {
	mu      sync.RWMutex
	records map[string]session.Record
	owners  map[string]map[string]struct{}
	version uint64
	now     func() time.Time
}

// New returns an empty store.
func New() *Store { return NewWithClock(time.Now) }

// NewWithClock returns an empty store that judges expiry by now, for tests
// that control time.
func NewWithClock(now func() time.Time) *Store {
	return &Store{
		records: make(map[string]session.Record),
		owners:  make(map[string]map[string]struct{}),
		now:     now,
	}
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
	s.mu.RLock()
	rec, ok := s.records[key]
	s.mu.RUnlock()
	if !ok {
		return session.Record{}, fmt.Errorf("memstore: load: %w", session.ErrNotFound)
	}
	if !live(rec, s.now()) {
		s.mu.Lock()
		if cur, ok := s.records[key]; ok && !live(cur, s.now()) {
			s.removeLocked(key)
		}
		s.mu.Unlock()
		return session.Record{}, fmt.Errorf("memstore: load: %w", session.ErrNotFound)
	}
	return clone(rec), nil
}

// Save implements session.Store.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: save: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur, ok := s.records[key]
	var curVersion uint64
	if ok && live(cur, now) {
		curVersion = cur.Version
	}
	if curVersion != rec.Version {
		return 0, fmt.Errorf("memstore: save: stored version %d, expected %d: %w", curVersion, rec.Version, session.ErrConflict)
	}
	if ok {
		s.removeLocked(key)
	}
	s.version++
	rec = clone(rec)
	rec.Version = s.version
	rec.Modified = now
	s.records[key] = rec
	if rec.Owner != "" {
		set := s.owners[rec.Owner]
		if set == nil {
			set = make(map[string]struct{})
			s.owners[rec.Owner] = set
		}
		set[key] = struct{}{}
	}
	return rec.Version, nil
}

// removeLocked deletes key and its owner index entry; s.mu must be held.
func (s *Store) removeLocked(key string) {
	rec, ok := s.records[key]
	if !ok {
		return
	}
	delete(s.records, key)
	if set := s.owners[rec.Owner]; set != nil {
		delete(set, key)
		if len(set) == 0 {
			delete(s.owners, rec.Owner)
		}
	}
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	s.mu.Lock()
	s.removeLocked(key)
	s.mu.Unlock()
	return nil
}

// Touch implements session.Toucher.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: touch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rec, ok := s.records[key]
	if !ok || !live(rec, now) {
		return fmt.Errorf("memstore: touch: %w", session.ErrNotFound)
	}
	rec.Expiry = expiry
	rec.Modified = now
	s.records[key] = rec
	return nil
}

// GC implements session.Collector: it removes every expired record and
// returns how many it removed.
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
func (s *Store) collect(ctx context.Context, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: gc: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for k, rec := range s.records {
		if limit > 0 && n == limit {
			break
		}
		if !live(rec, now) {
			s.removeLocked(k)
			n++
		}
	}
	return n, nil
}

// CountExpired implements session.ExpiredCounter.
func (s *Store) CountExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: count expired: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	n := 0
	for _, rec := range s.records {
		if !live(rec, now) {
			n++
		}
	}
	return n, nil
}

// Iterate implements session.Iterator. fn runs on a snapshot, without the
// store's lock held, so it may call the store.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: iterate: %w", err)
	}
	s.mu.RLock()
	now := s.now()
	keys := make([]string, 0, len(s.records))
	recs := make([]session.Record, 0, len(s.records))
	for k, rec := range s.records {
		if live(rec, now) {
			keys = append(keys, k)
			recs = append(recs, clone(rec))
		}
	}
	s.mu.RUnlock()
	for i, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memstore: iterate: %w", err)
		}
		if !fn(k, recs[i]) {
			return nil
		}
	}
	return nil
}

// OwnerKeys implements session.OwnerIndex.
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: owner keys: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	var keys []string
	for k := range s.owners[owner] {
		if live(s.records[k], now) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// Len returns the number of records held, expired ones not yet collected
// included.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.records)
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
