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
	// (proto-max-bulk-len, 512 MiB). Options.MaxDataSize may not exceed it.
	RedisMaxDataSize = 512 << 20
)

// DefaultWaitTimeout is the WAIT timeout used when Options.WaitReplicas is
// set and Options.WaitTimeout is zero.
const DefaultWaitTimeout = 500 * time.Millisecond

// Options configure a [Store]. The zero value is ready to use; [New]
// reports a field out of range as an error.
type Options struct {
	// Prefix is prepended to every Redis key of the store (default
	// DefaultPrefix). Use a distinct prefix per application sharing a
	// server. It must not contain '{' or '}', which Redis Cluster reads as
	// a hash tag.
	Prefix string

	// MaxDataSize, when positive, is the largest Record.Data the store
	// accepts; larger data is refused with session.ErrTooLarge before
	// anything is sent. Zero means RedisMaxDataSize; a negative value or
	// one above RedisMaxDataSize is an error.
	MaxDataSize int

	// IndexSlack is how long an owner's index set is kept alive beyond
	// the expiry of the record that last extended it. A larger slack means
	// fewer extensions (an extension costs a second round trip on a Save
	// or Touch); the set then outlives its last session by at most that
	// much. Zero means the record's remaining lifetime at the time of the
	// extension, at least one minute. Negative is an error.
	IndexSlack time.Duration

	// WaitReplicas, when positive, makes every Save, Touch and Delete
	// (and every owner index update) send WAIT WaitReplicas WaitTimeout
	// on the same connection right after its write, in the same round
	// trip, and fail with an error wrapping [ErrNotReplicated] when fewer
	// replicas acknowledged the write within the timeout. The write then
	// did happen on the primary, but a failover may lose it. Supported
	// with a *redis.Client (single server or Sentinel) and a
	// *redis.ClusterClient, where the WAIT goes to the primary holding the
	// key. Zero (the default) sends no WAIT. Negative is an error.
	WaitReplicas int

	// WaitTimeout bounds each WAIT (default DefaultWaitTimeout when
	// WaitReplicas is set), and is itself bounded by the context's
	// deadline. It must be below the client's ReadTimeout, or a slow
	// acknowledgement would be cut off by the client as a network error.
	// Negative is an error.
	WaitTimeout time.Duration

	// Now returns the current time (default time.Now). Expiry is judged
	// by this clock; Redis' own clock only removes keys.
	Now func() time.Time
}
