package mongostore

import (
	"fmt"
	"strings"
	"time"
)

// DefaultMaxLifetime is the lifetime of documents that carry no expiry of
// their own (documents written by PHP), counted from their last
// modification. It is PHP's default session.gc_maxlifetime.
const DefaultMaxLifetime = 1440 * time.Second

// DefaultGCBatchSize is how many documents GC deletes per command.
const DefaultGCBatchSize = 1000

// MaxDataSize is the largest Record.Data the store accepts. MongoDB refuses
// documents over 16 MiB; the rest is room for the other fields. Larger data
// is refused with session.ErrTooLarge.
const MaxDataSize = 16<<20 - 8<<10

// MaxKeyLen is the longest key (and owner) the store accepts, in bytes.
const MaxKeyLen = 1024

// Fields names the document fields. The key is always the document's _id.
// Empty names take the defaults shown.
type Fields struct {
	// Data holds Record.Data: a string in Compat mode, BSON binary
	// otherwise ("data", as PHP writes it).
	Data string
	// Modified is the last save or touch ("modified", as PHP writes it;
	// null on a document PHP has inserted but never updated).
	Modified string
	// Expires is Record.Expiry ("expires"); the TTL index is on it.
	Expires string
	// Version is the compare-and-set counter ("version").
	Version string
	// Owner is Record.Owner ("owner"), absent when empty; indexed.
	Owner string
	// Created is Record.Created ("created"), absent when zero.
	Created string
	// Seen is the first time GC met a document that has neither a
	// modification date nor an expiry nor a creation date ("seen"). Such a
	// document is deleted MaxLifetime after it was first seen.
	Seen string
}

// Options configures a [Store]. The zero value is usable: native binary
// data, default field names, PHP's default MaxLifetime, time.Now.
type Options struct {
	// Fields names the document fields.
	Fields Fields
	// Compat writes Record.Data as a BSON string, as PHP does, so that a
	// PHP application can read the sessions (use a text codec such as
	// phpcodec or JSON). Data that is not valid UTF-8 cannot be a BSON
	// string and is refused with session.ErrUnsupported. Without Compat,
	// data is written as BSON binary (subtype 0) and any bytes are kept.
	// Loading accepts both forms in either mode.
	Compat bool
	// MaxLifetime is how long a document without an expires field lives
	// after its modified date (or, when modified is null, after its created
	// date or after GC first saw it). Zero means [DefaultMaxLifetime];
	// negative is refused by [New]. Set it to PHP's session.gc_maxlifetime
	// when sharing sessions with PHP.
	MaxLifetime time.Duration
	// GCBatchSize bounds how many documents one delete command of GC
	// removes. Zero means [DefaultGCBatchSize]; negative is refused by [New].
	GCBatchSize int
	// Now returns the current time (default time.Now). Expiry is judged by
	// this clock, not the server's.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	f := &o.Fields
	for _, d := range []struct {
		name *string
		def  string
	}{
		{&f.Data, "data"}, {&f.Modified, "modified"}, {&f.Expires, "expires"},
		{&f.Version, "version"}, {&f.Owner, "owner"}, {&f.Created, "created"},
		{&f.Seen, "seen"},
	} {
		if *d.name == "" {
			*d.name = d.def
		}
	}
	seen := map[string]bool{"_id": true}
	for _, name := range []string{f.Data, f.Modified, f.Expires, f.Version, f.Owner, f.Created, f.Seen} {
		if strings.HasPrefix(name, "$") || strings.Contains(name, ".") || strings.ContainsRune(name, 0) {
			return o, fmt.Errorf("mongostore: invalid field name %q", name)
		}
		if seen[name] {
			return o, fmt.Errorf("mongostore: field name %q used twice (or is _id)", name)
		}
		seen[name] = true
	}
	if o.MaxLifetime < 0 {
		return o, fmt.Errorf("mongostore: negative MaxLifetime %v", o.MaxLifetime)
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.GCBatchSize < 0 {
		return o, fmt.Errorf("mongostore: negative GCBatchSize %d", o.GCBatchSize)
	}
	if o.GCBatchSize == 0 {
		o.GCBatchSize = DefaultGCBatchSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
