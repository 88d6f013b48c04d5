package redisstore

import "time"

// Key prefixes.
const (
	// DefaultPrefix is the key prefix used when Options.Prefix is empty.
	DefaultPrefix = "session:"
	// PhalconPrefix is the prefix of Phalcon's Redis session adapter
	// (Phalcon\Session\Adapter\Redis). It names the same key space; the
	// record layout is this package's own (see the README).
	PhalconPrefix = "sess-reds-"
)

// Limits.
const (
	// MaxKeyLen is the longest store key accepted.
	MaxKeyLen = 1024
	// RedisMaxDataSize is the largest value Redis accepts by default
	// (proto-max-bulk-len, 512 MiB). Larger data is refused with
	// session.ErrTooLarge whatever Options.MaxDataSize says.
	RedisMaxDataSize = 512 << 20
)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix is prepended to every Redis key of the store (default
	// DefaultPrefix). Use a distinct prefix per application sharing a
	// server. It must not contain '{' or '}', which Redis Cluster reads as
	// a hash tag.
	Prefix string

	// MaxDataSize, when positive, is the largest Record.Data the store
	// accepts; larger data is refused with session.ErrTooLarge before
	// anything is sent. Zero means RedisMaxDataSize.
	MaxDataSize int

	// IndexSlack is how long an owner's index set is kept alive beyond
	// the expiry of the record that last extended it. A larger slack means
	// fewer extensions (an extension costs a second round trip on a Save
	// or Touch); the set then outlives its last session by at most that
	// much. Zero means the record's remaining lifetime at the time of the
	// extension, at least one minute.
	IndexSlack time.Duration

	// Now returns the current time (default time.Now). Expiry is judged
	// by this clock; Redis' own clock only removes keys.
	Now func() time.Time
}
