package cachestore

import (
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultMaxAge is how long an entry stays in the fast store at most.
	DefaultMaxAge = 10 * time.Minute
	// DefaultBackoff is how long reads skip the fast store after it failed.
	DefaultBackoff = time.Second
	// DefaultCleanupTimeout bounds each cache deletion that must follow a
	// change of the durable store.
	DefaultCleanupTimeout = time.Second
)

// skewMargin is added to the moment a cache deletion failed: entries written
// up to then by a process whose clock runs ahead are not trusted either.
const skewMargin = time.Second

// seenEntries bounds the per-process memory of entries seen (see seen).
const seenEntries = 4096

// Option configures [New].
type Option func(*config)

type config struct {
	maxAge         time.Duration
	backoff        time.Duration
	cleanupTimeout time.Duration
	logger         *slog.Logger
}

func defaults() config {
	return config{
		maxAge:         DefaultMaxAge,
		backoff:        DefaultBackoff,
		cleanupTimeout: DefaultCleanupTimeout,
	}
}

// WithMaxAge sets how long an entry may stay in the fast store (default
// [DefaultMaxAge]); it never outlives the record. It bounds how long another
// process may serve an entry that a failed cache deletion left stale. Zero
// or less means no bound but the record's expiry.
func WithMaxAge(d time.Duration) Option { return func(c *config) { c.maxAge = d } }

// WithBackoff sets how long reads go to the durable store only, without
// trying the fast store, after the fast store failed (default
// [DefaultBackoff]). Zero means reads try the fast store every time.
func WithBackoff(d time.Duration) Option { return func(c *config) { c.backoff = max(d, 0) } }

// WithCleanupTimeout bounds each deletion of a cache entry that follows a
// change of the durable store (default [DefaultCleanupTimeout]). These run
// with a context of their own, detached from the request's, so that a
// request whose context ends right after its save still removes the entry it
// made stale. A non-positive d keeps the default.
func WithCleanupTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.cleanupTimeout = d
		}
	}
}

// WithLogger sets where failures of the fast store are logged (default
// slog.Default()). The tier logs when the fast store starts failing, once per
// backoff period, never a session key.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }
