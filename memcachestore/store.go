package memcachestore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/keyref"
)

// Store is a session store on memcached. It is safe for concurrent use, also
// by several processes sharing the server. Create it with [New].
type Store struct {
	client *memcache.Client
	prefix string
	opts   Options
	hints  *hints
	now    func() time.Time
}

// Interface checks.
var (
	_ session.Store   = (*Store)(nil)
	_ session.Toucher = (*Store)(nil)
)

// casAttempts bounds the read-then-cas loops that race with other writers
// touching the item without changing the version.
const casAttempts = 5

// New returns a Store on client, which the caller configures (servers,
// Timeout, MaxIdleConns) and keeps ownership of. It sends nothing to the
// server, and returns an error for a nil client, a negative client Timeout,
// and options out of range: a Prefix with spaces or control bytes or of 250
// bytes or more, a negative MaxItemSize, one that leaves no room for data
// or exceeds MaxItemSizeLimit.
func New(client *memcache.Client, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("memcachestore: nil client")
	}
	if client.Timeout < 0 {
		return nil, fmt.Errorf("memcachestore: client Timeout %v is negative (every call would time out)", client.Timeout)
	}
	if opts.MaxItemSize < 0 || opts.MaxItemSize > MaxItemSizeLimit {
		return nil, fmt.Errorf("memcachestore: Options.MaxItemSize %d out of range [0, %d]", opts.MaxItemSize, MaxItemSizeLimit)
	}
	opts = opts.withDefaults()
	if !legalKey(opts.Prefix) || len(opts.Prefix) >= maxKey {
		return nil, fmt.Errorf("memcachestore: prefix %q must be printable ASCII without spaces and shorter than %d bytes: %w", clip(opts.Prefix), maxKey, session.ErrInvalidKey)
	}
	if opts.MaxItemSize <= Overhead {
		return nil, fmt.Errorf("memcachestore: Options.MaxItemSize %d leaves no room for data (header is %d bytes)", opts.MaxItemSize, Overhead)
	}
	return &Store{
		client: client,
		prefix: opts.Prefix,
		opts:   opts,
		hints:  newHints(opts.HintBytes),
		now:    opts.Now,
	}, nil
}

// MaxDataSize returns the largest Data a record with an owner of ownerLen
// bytes may carry.
func (s *Store) MaxDataSize(ownerLen int) int { return s.opts.MaxItemSize - Overhead - ownerLen }

// legalKey reports whether memcached's text protocol accepts k: no control
// bytes, no space, no DEL.
func legalKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] == 0x7f {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// itemKey checks key and returns the memcached key.
func (s *Store) itemKey(key string) (string, error) {
	switch {
	case key == "":
		return "", fmt.Errorf("memcachestore: empty key: %w", session.ErrInvalidKey)
	case len(s.prefix)+len(key) > maxKey:
		return "", fmt.Errorf("memcachestore: key of %d bytes plus prefix exceeds memcached's %d: %w", len(key), maxKey, session.ErrInvalidKey)
	case !legalKey(key):
		return "", fmt.Errorf("memcachestore: key %s has spaces or control bytes: %w", keyref.Of(key), session.ErrInvalidKey)
	}
	return s.prefix + key, nil
}

// wrap turns a client error into the store's: memcached's "object too
// large" answer becomes session.ErrTooLarge, and a context that ended
// during the call is kept visible to errors.Is.
func wrap(ctx context.Context, op string, err error) error {
	if strings.Contains(err.Error(), "object too large") {
		err = fmt.Errorf("%w (%v)", session.ErrTooLarge, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("memcachestore: %s: %w (%w)", op, err, cerr)
	}
	return fmt.Errorf("memcachestore: %s: %w", op, err)
}

// before returns ctx's error, wrapped, when ctx is done: checked before
// every round trip.
func before(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memcachestore: %s: %w", op, err)
	}
	return nil
}

// get reads and decodes the item of ik; found is false on a cache miss.
func (s *Store) get(ctx context.Context, op, ik string) (rec session.Record, it *memcache.Item, found bool, err error) {
	if err := before(ctx, op); err != nil {
		return rec, nil, false, err
	}
	it, err = s.client.Get(ik)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return rec, nil, false, nil
	}
	if err != nil {
		return rec, nil, false, wrap(ctx, op, err)
	}
	rec, err = decode(it.Value)
	if err != nil {
		return rec, nil, false, fmt.Errorf("memcachestore: %s: item %s: %w", op, s.itemRef(ik), err)
	}
	return rec, it, true, nil
}

// Load implements session.Store: one "gets". It remembers the item's CAS
// unique for the Save or Touch that usually follows.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	ik, err := s.itemKey(key)
	if err != nil {
		return session.Record{}, err
	}
	rec, it, found, err := s.get(ctx, "load", ik)
	if err != nil {
		return session.Record{}, err
	}
	now := s.now()
	if !found || !rec.Expiry.After(now) {
		s.hints.drop(key)
		return session.Record{}, fmt.Errorf("memcachestore: load: %w", session.ErrNotFound)
	}
	if s.opts.HintBytes > 0 {
		// The hint keeps the value it read; the caller gets its own copy
		// of the data, which it may change.
		s.hints.put(key, hint{version: rec.Version, casID: it.CasID, expiry: rec.Expiry, value: it.Value, at: now})
		rec.Data = append([]byte(nil), rec.Data...)
	}
	return rec, nil
}

func newVersion(old uint64) uint64 {
	for {
		if v := rand.Uint64(); v != 0 && v != old {
			return v
		}
	}
}

// Save implements session.Store. A new record (version 0) is an "add"; a
// replacement is a "cas" with the unique remembered by Load (one round
// trip) or read by a "gets" first (two).
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	const op = "save"
	ik, err := s.itemKey(key)
	if err != nil {
		return 0, err
	}
	if err := before(ctx, op); err != nil {
		return 0, err
	}
	now := s.now()
	v := newVersion(rec.Version)
	value, err := encode(rec, v, now)
	if err != nil {
		return 0, err
	}
	if len(value) > s.opts.MaxItemSize {
		return 0, fmt.Errorf("memcachestore: save: item of %d bytes (data %d, owner %d, header %d) exceeds MaxItemSize %d: %w",
			len(value), len(rec.Data), len(rec.Owner), Overhead, s.opts.MaxItemSize, session.ErrTooLarge)
	}
	item := &memcache.Item{Key: ik, Value: value, Expiration: expiration(rec.Expiry, now)}
	if rec.Version == 0 {
		s.hints.drop(key)
		return v, s.create(ctx, item)
	}
	h, ok := s.hints.take(key, rec.Version, now)
	if ok && h.expiry.After(now) {
		// The hint says the item held version rec.Version when it had
		// this unique; the "cas" succeeds only if nobody wrote since.
		item.CasID = h.casID
		err := s.client.CompareAndSwap(item)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrNotStored):
			return 0, fmt.Errorf("memcachestore: save: no record: %w", session.ErrConflict)
		case !errors.Is(err, memcache.ErrCASConflict):
			return 0, wrap(ctx, op, err)
		}
		// Written since: perhaps only touched, so compare versions.
	}
	return v, s.replace(ctx, item, rec.Version)
}

// create stores a new record with "add"; an item that exists but holds an
// expired record (memcached keeps it up to a few seconds longer) is
// replaced with a "cas".
func (s *Store) create(ctx context.Context, item *memcache.Item) error {
	const op = "save"
	for range casAttempts {
		if err := before(ctx, op); err != nil {
			return err
		}
		err := s.client.Add(item)
		if err == nil {
			return nil
		}
		if !errors.Is(err, memcache.ErrNotStored) {
			return wrap(ctx, op, err)
		}
		cur, it, found, err := s.get(ctx, op, item.Key)
		if err != nil {
			return err
		}
		if !found {
			continue // gone meanwhile: add again
		}
		if cur.Expiry.After(s.now()) {
			return fmt.Errorf("memcachestore: save: stored version %d, expected 0: %w", cur.Version, session.ErrConflict)
		}
		if err := before(ctx, op); err != nil {
			return err
		}
		item.CasID = it.CasID
		err = s.client.CompareAndSwap(item)
		if err == nil {
			return nil
		}
		if !errors.Is(err, memcache.ErrCASConflict) && !errors.Is(err, memcache.ErrCacheMiss) && !errors.Is(err, memcache.ErrNotStored) {
			return wrap(ctx, op, err)
		}
	}
	return fmt.Errorf("memcachestore: save: item keeps changing: %w", session.ErrConflict)
}

// replace stores item if the live record under its key has version want:
// "gets", compare, "cas".
func (s *Store) replace(ctx context.Context, item *memcache.Item, want uint64) error {
	const op = "save"
	for range casAttempts {
		cur, it, found, err := s.get(ctx, op, item.Key)
		if err != nil {
			return err
		}
		var curVersion uint64
		if found && cur.Expiry.After(s.now()) {
			curVersion = cur.Version
		}
		if curVersion != want {
			return fmt.Errorf("memcachestore: save: stored version %d, expected %d: %w", curVersion, want, session.ErrConflict)
		}
		if err := before(ctx, op); err != nil {
			return err
		}
		item.CasID = it.CasID
		err = s.client.CompareAndSwap(item)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrNotStored):
			return fmt.Errorf("memcachestore: save: no record: %w", session.ErrConflict)
		case !errors.Is(err, memcache.ErrCASConflict):
			return wrap(ctx, op, err)
		}
	}
	return fmt.Errorf("memcachestore: save: item keeps changing: %w", session.ErrConflict)
}

// Delete implements session.Store: one "delete".
func (s *Store) Delete(ctx context.Context, key string) error {
	ik, err := s.itemKey(key)
	if err != nil {
		return err
	}
	if err := before(ctx, "delete"); err != nil {
		return err
	}
	s.hints.drop(key)
	err = s.client.Delete(ik)
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return wrap(ctx, "delete", err)
	}
	return nil
}

// Touch implements session.Toucher. It rewrites the header with the new
// expiry (the exact expiry lives there) and sets memcached's expiration, in
// one "cas" after a Load in this process, else "gets" and "cas". The
// version is kept.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	const op = "touch"
	ik, err := s.itemKey(key)
	if err != nil {
		return err
	}
	if err := before(ctx, op); err != nil {
		return err
	}
	now := s.now()
	item := &memcache.Item{Key: ik, Expiration: expiration(expiry, now)}
	h, hinted := s.hints.takeAny(key, now)
	for range casAttempts {
		var casID uint64
		var value []byte
		if hinted && h.expiry.After(now) {
			hinted = false // serves one attempt
			casID, value = h.casID, h.value
		} else {
			cur, it, found, err := s.get(ctx, op, ik)
			if err != nil {
				return err
			}
			if !found || !cur.Expiry.After(s.now()) {
				return fmt.Errorf("memcachestore: touch: %w", session.ErrNotFound)
			}
			casID, value = it.CasID, it.Value
			if err := before(ctx, op); err != nil {
				return err
			}
		}
		item.CasID = casID
		if item.Value, err = withExpiry(value, expiry, now); err != nil {
			return fmt.Errorf("memcachestore: touch: item %s: %w", s.itemRef(ik), err)
		}
		err := s.client.CompareAndSwap(item)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrNotStored):
			return fmt.Errorf("memcachestore: touch: %w", session.ErrNotFound)
		case !errors.Is(err, memcache.ErrCASConflict):
			return wrap(ctx, op, err)
		}
	}
	return fmt.Errorf("memcachestore: touch: item keeps changing: %w", session.ErrConflict)
}
