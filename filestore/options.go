package filestore

import "time"

// PHPPrefix is the file name prefix of PHP's own files session handler
// (session.save_handler = files): sess_<id>.
const PHPPrefix = "sess_"

// DefaultGCBatch is the number of directory entries [Store.GC] examines per
// call when [Options.GCBatch] is zero.
const DefaultGCBatch = 1000

// Options configure a [Store]. Only Dir is required; [New] reports a field
// out of range as an error.
type Options struct {
	// Dir is the directory holding the session files. It is created (mode
	// 0700) when missing. Required.
	Dir string
	// Prefix is put in front of every key to make the file name. Empty by
	// default, as in Phalcon's Stream adapter; use [PHPPrefix] for PHP's
	// files handler naming. It must use the key alphabet [A-Za-z0-9,_-].
	Prefix string
	// Fsync makes every write durable before Save, Touch or Delete returns:
	// the temporary file is fsynced before the rename and the directory
	// after it. Off by default (a crash may then lose the last writes, but
	// never leaves a half-written file).
	Fsync bool
	// GCBatch bounds the work of one GC call: the number of directory
	// entries it examines (default [DefaultGCBatch]). Negative is an error.
	GCBatch int
	// TempMaxAge is the age after which GC removes temporary files left
	// behind by a crashed writer (default one hour). Negative is an error.
	TempMaxAge time.Duration
	// Now returns the current time (default time.Now). Expiry is judged
	// by this clock, and Modified set from it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.GCBatch == 0 {
		o.GCBatch = DefaultGCBatch
	}
	if o.TempMaxAge == 0 {
		o.TempMaxAge = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
