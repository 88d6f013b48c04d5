// Package noopstore is a session.Store that accepts everything and keeps
// nothing, like Phalcon's Noop session adapter. Use it in tests and on
// stateless endpoints where sessions must cost nothing: Load always reports
// session.ErrNotFound, Save succeeds and returns a fresh version, Delete
// succeeds.
//
// It cannot pass the storetest conformance suite, whose first guarantee is
// that a saved record loads back; its own tests check what it promises
// instead.
package noopstore

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/sessionkit/session"
)

// Store keeps nothing. The zero value is ready to use and safe for
// concurrent use.
type Store struct {
	version atomic.Uint64
}

// New returns a Store.
func New() *Store { return &Store{} }

// Interface checks.
var (
	_ session.Store         = (*Store)(nil)
	_ session.Unconditional = (*Store)(nil)
)

// Load implements session.Store: there is never a record, so it returns an
// error wrapping session.ErrNotFound (or the context's error).
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fmt.Errorf("noopstore: load: %w", err)
	}
	return session.Record{}, fmt.Errorf("noopstore: load: %w", session.ErrNotFound)
}

// Save implements session.Store: it discards rec and returns a fresh,
// non-zero version, whatever rec.Version is.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("noopstore: save: %w", err)
	}
	for {
		if v := s.version.Add(1); v != 0 && v != rec.Version {
			return v, nil
		}
	}
}

// Delete implements session.Store; it does nothing and succeeds.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("noopstore: delete: %w", err)
	}
	return nil
}

// Unconditional implements session.Unconditional: Save never compares
// versions (there is nothing to compare with), so it reports true.
func (s *Store) Unconditional() bool { return true }
