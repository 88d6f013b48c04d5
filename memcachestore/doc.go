// Package memcachestore is a session.Store on memcached (Phalcon's
// "Libmemcached" adapter), built on github.com/bradfitz/gomemcache.
//
// Each record is one memcached item, key Prefix+key, whose value is a small
// header (version, exact expiry, created, modified, owner) followed by the
// data. memcached drops the item by itself shortly after the expiry (whole
// seconds, rounded up); Load judges by the exact expiry in the header, so an
// expired record is absent at once.
//
// # Compare-and-set
//
// Save uses memcached's own CAS: a new record is an "add" (which fails when
// a live item exists), a replacement is a "cas" with the item's CAS unique.
// memcached changes that unique on every write and does not return the new
// one, so Record.Version is a random number kept in the header, and the
// store remembers, per key, the CAS unique it last read with Load (a small
// per-process hint cache). The common sequences therefore cost one round
// trip per operation: Load, then Save with the loaded version (a "cas"
// with the remembered unique), or Load then Touch; a new session is a
// single "add". When there is no usable hint (the record was loaded by
// another process, or saved twice in a row without a Load) Save and Touch
// read the item first ("gets" then "cas": two round trips). Either way the
// compare-and-set is exact: memcached refuses the "cas" if anyone wrote the
// item since it was read.
//
// # Capabilities
//
// The Store implements session.Toucher. memcached cannot list its keys nor
// keep sets, so session.Iterator and session.OwnerIndex are not implemented;
// it expires items itself, so there is no session.Collector either. The
// storetest suite skips exactly those subtests.
//
// # Limits
//
// An item holds at most [Options.MaxItemSize] bytes (header, owner and data;
// default [DefaultMaxItemSize], under memcached's default 1 MiB item size).
// Larger records are refused with an error wrapping session.ErrTooLarge
// before anything is sent, and the server's own "object too large" answer is
// mapped to the same error. Keys must be printable ASCII without spaces, and
// Prefix plus key at most 250 bytes (session.ErrInvalidKey otherwise).
//
// # Corrupt items
//
// Each value carries its data length and a CRC-32C. An item that is not this
// package's format, is truncated or damaged is reported with an error
// wrapping session.ErrCorrupt (and [ErrCorrupt]) naming the item; Save and
// Touch do not overwrite it, Delete removes it.
//
// # Contexts and timeouts
//
// gomemcache takes no context. Every method checks ctx before each round
// trip and returns its error (wrapped) when it is done; a round trip already
// under way is bounded by the client's Timeout (gomemcache's default is
// 500 ms per socket operation), not by ctx's deadline. Set Client.Timeout
// below your request deadline.
package memcachestore
