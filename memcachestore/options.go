package memcachestore

import "time"

// PhalconPrefix is the key prefix of Phalcon's Libmemcached session adapter.
const PhalconPrefix = "sess-memc-"

// DefaultMaxItemSize is the default [Options.MaxItemSize]: memcached's
// default item size limit (1 MiB, option -I) less room for memcached's own
// per-item overhead (item header, key, CAS unique).
const DefaultMaxItemSize = 1<<20 - 512

// MaxItemSizeLimit is the largest Options.MaxItemSize accepted: memcached's
// own ceiling for -I (1 GiB).
const MaxItemSizeLimit = 1 << 30

// DefaultHintBytes is the default [Options.HintBytes].
const DefaultHintBytes = 8 << 20

// maxKey is memcached's key length limit.
const maxKey = 250

// Options configure a [Store]. The zero value is ready to use; [New]
// reports a field out of range as an error.
type Options struct {
	// Prefix is put in front of every key. Empty by default; use
	// [PhalconPrefix] to share Phalcon's naming, or a name of your own
	// when the memcached server holds other data too.
	Prefix string
	// MaxItemSize is the largest value the store sends: header
	// ([Overhead] bytes), owner and data. Default [DefaultMaxItemSize];
	// raise it only with memcached's -I option. Negative, or above
	// [MaxItemSizeLimit], is an error.
	MaxItemSize int
	// HintBytes bounds the memory of the per-process hint cache, which
	// remembers what Load read (CAS unique and value) so that the Save or
	// Touch that follows costs one round trip instead of two. Default
	// [DefaultHintBytes]; a negative value disables the cache.
	HintBytes int
	// Now returns the current time (default time.Now). The exact expiry in
	// each item is judged by this clock; memcached's own clock only drops
	// items (a few seconds later).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxItemSize <= 0 {
		o.MaxItemSize = DefaultMaxItemSize
	}
	if o.HintBytes == 0 {
		o.HintBytes = DefaultHintBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
