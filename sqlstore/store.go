package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/sessionkit/session"
)

// Store is a session store on the native layout. It implements
// session.Store, session.Toucher, session.Collector (with
// session.BatchCollector and session.ExpiredCounter), session.Iterator and
// session.OwnerIndex. Load, Save (common case), Touch and the creation of a
// session each cost one statement.
type Store struct{ e *engine }

var (
	_ session.Store      = (*Store)(nil)
	_ session.Toucher    = (*Store)(nil)
	_ session.Collector  = (*Store)(nil)
	_ session.Iterator   = (*Store)(nil)
	_ session.OwnerIndex = (*Store)(nil)
)

// New returns a store on the native-layout table described by opts, which
// must exist (see [CreateSchema] and [Migrate]); New reads the table's
// columns from the catalog to check them and to learn the length of the ID
// column. opts.Layout must be Native (the zero value).
func New(ctx context.Context, db *sql.DB, opts Options) (*Store, error) {
	e, err := newEngine(ctx, db, opts, false)
	if err != nil {
		return nil, err
	}
	return &Store{e}, nil
}

// Load implements session.Store.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	return s.e.load(ctx, key)
}

// Save implements session.Store: an UPDATE ... WHERE version = rec.Version
// for an existing record, an INSERT (replacing an expired row) for a new
// one.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	return s.e.save(ctx, key, rec)
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error { return s.e.delete(ctx, key) }

// Touch implements session.Toucher: it sets expires_at and modified_at.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	return s.e.touch(ctx, key, expiry)
}

// GC implements session.Collector.
func (s *Store) GC(ctx context.Context) (int, error) { return s.e.gc(ctx) }

// Iterate implements session.Iterator.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	return s.e.iterate(ctx, fn)
}

// OwnerKeys implements session.OwnerIndex.
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	return s.e.ownerKeys(ctx, owner)
}

// MaxKeyLength returns the longest key accepted, in characters (0: no
// limit).
func (s *Store) MaxKeyLength() int { return s.e.maxKey }

// MaxDataSize returns the largest Record.Data accepted, in bytes (0: no
// limit known to the store; the server's packet or parameter size limits
// still apply).
func (s *Store) MaxDataSize() int { return s.e.maxDataSize() }

// Close closes the store's prepared statements. It does not close the
// *sql.DB.
func (s *Store) Close() error { return s.e.close() }

// CompatStore is a session store on the incubator Database adapter's
// session_data table, shared with PHP applications using
// phalcon/incubator-session. It implements session.Store, session.Toucher,
// session.Collector (with session.BatchCollector and
// session.ExpiredCounter) and session.Iterator; not session.OwnerIndex,
// since the incubator table has no indexed owner.
type CompatStore struct{ e *engine }

var (
	_ session.Store     = (*CompatStore)(nil)
	_ session.Toucher   = (*CompatStore)(nil)
	_ session.Collector = (*CompatStore)(nil)
	_ session.Iterator  = (*CompatStore)(nil)
)

// NewCompat returns a store on the compatibility-layout table described by
// opts (opts.Layout is ignored), which must exist (see [CreateSchema] and
// [Migrate]). It reads the table's columns from the catalog: the declared
// length of the ID column bounds the keys, the data column's capacity bounds
// the data, and an owner column, when present, holds Record.Owner.
func NewCompat(ctx context.Context, db *sql.DB, opts Options) (*CompatStore, error) {
	e, err := newEngine(ctx, db, opts, true)
	if err != nil {
		return nil, err
	}
	return &CompatStore{e}, nil
}

// Load implements session.Store. The version is derived from the stored
// data; the expiry is COALESCE(modified_at, created_at) + MaxLifetime.
func (s *CompatStore) Load(ctx context.Context, key string) (session.Record, error) {
	return s.e.load(ctx, key)
}

// Save implements session.Store. A new record is one INSERT (replacing an
// expired row); an existing one is updated in a transaction that locks the
// row with SELECT ... FOR UPDATE and compares the version derived from its
// data (SQLite: an UPDATE ... WHERE data = the data read). modified_at is
// set to rec.Expiry - MaxLifetime so that PHP computes the same expiry.
func (s *CompatStore) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	return s.e.save(ctx, key, rec)
}

// Delete implements session.Store.
func (s *CompatStore) Delete(ctx context.Context, key string) error { return s.e.delete(ctx, key) }

// Touch implements session.Toucher: it sets modified_at to expiry -
// MaxLifetime, which keeps a session that is only read alive for PHP too.
func (s *CompatStore) Touch(ctx context.Context, key string, expiry time.Time) error {
	return s.e.touch(ctx, key, expiry)
}

// GC implements session.Collector.
func (s *CompatStore) GC(ctx context.Context) (int, error) { return s.e.gc(ctx) }

// Iterate implements session.Iterator.
func (s *CompatStore) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	return s.e.iterate(ctx, fn)
}

// MaxKeyLength returns the longest key accepted, in characters: the
// declared length of the ID column (35 for the incubator table) unless
// Options.MaxKeyLength says otherwise; 0 means no limit.
func (s *CompatStore) MaxKeyLength() int { return s.e.maxKey }

// MaxDataSize returns the largest Record.Data accepted, in bytes: on MySQL
// the data column's capacity (65535 bytes for TEXT, three quarters of it
// with Options.Base64); 0 when no limit is known.
func (s *CompatStore) MaxDataSize() int { return s.e.maxDataSize() }

// HasOwner reports whether the table has an owner column, so that Save
// accepts a Record.Owner.
func (s *CompatStore) HasOwner() bool { return s.e.hasOwner }

// Close closes the store's prepared statements. It does not close the
// *sql.DB.
func (s *CompatStore) Close() error { return s.e.close() }
