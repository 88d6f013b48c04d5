// Package cachestore composes a fast session store (Redis, memcached,
// memory) in front of a durable one (MariaDB, PostgreSQL, SQLite), as
// Django's "cached_db" session engine does:
//
//	tier := cachestore.New(redisStore, sqlStore)
//	m := session.New(tier)
//
// The durable store holds the truth and decides every compare-and-set; the
// fast store only ever holds copies. A read that finds a good copy costs one
// round trip to the fast store; a miss, a cache error or a corrupt copy reads
// the durable store instead and refills the cache. [New] returns a
// session.Store that implements exactly the optional interfaces of the
// durable store (session.Toucher, Collector, BatchCollector, Iterator,
// OwnerIndex, ExpiredCounter), forwarding them to it.
//
// # Cache entries
//
// Under each key the fast store holds one record whose Data is an entry:
// the durable record's data, durable version, expiry, owner, creation and
// modification times, the time the entry was written, and a CRC-32C. The
// fast record's own expiry is the durable expiry capped at the maximum age
// ([WithMaxAge]); its own version is the fast store's, used only to order
// writes into the cache. Record.Version as seen by the Manager is always the
// durable version.
//
// # Rules for writing the cache
//
// Only two kinds of write put an entry into the cache, and every other
// outcome deletes the entry (a deletion is always safe: it costs one miss).
//
//  1. Move forward (Save). After the durable store accepted a save of base
//     version b as version v, the entry is replaced only if it mirrors b,
//     through the fast store's compare-and-set on the fast version read (or
//     remembered from the Load that preceded the Save). An entry mirroring
//     anything else is deleted; an absent entry is left absent.
//  2. Fill (Load). After a miss, the durable record r is written either by
//     compare-and-set over the entry that was found and not served
//     (corrupt, expired, or not trusted), or, when the key was absent, with
//     the fast store's create (version 0) followed by a second durable read:
//     if that read does not show r's version and expiry, the entry is
//     deleted.
//
// # Race analysis
//
// Durable versions form a chain per key: each save replaces one version by
// a new one, and a version never comes back. An entry can only become stale
// if it was written with a version that is no longer current, or if a newer
// save did not reach it. Both are ruled out:
//
//   - Move forward: the writer of v (successor of b) is the only writer that
//     turns an entry mirroring b into one mirroring v. Its compare-and-set
//     succeeds only if the entry is unchanged since it was read as b; any
//     writer of a later version w does its own cache step after its durable
//     save, hence after the durable store had v, and either finds v (and
//     moves it to w), or finds b and deletes it (then the compare-and-set to
//     v fails), or deletes v after it was written. An older write therefore
//     never overwrites a newer entry.
//   - Fill over a found entry: the compare-and-set succeeds only if no one
//     touched the entry since the miss. A save after the durable read does
//     its cache step later and either deletes that entry (failing the fill)
//     or finds the filled entry, which mirrors its own base, and moves it.
//   - Fill of an absent key: an absent key gives no ordering, so the filler
//     checks afterwards. If the second durable read shows the same version
//     and expiry, every later save starts its cache step after the entry was
//     written and finds it; if not, the filler deletes its entry.
//   - Touch and Delete change the durable store first and delete the entry
//     after. A filler that read the durable store before them fails its
//     check (the expiry or the record changed) and deletes its own entry.
//   - A save that fails with ErrConflict deletes the entry if it mirrors the
//     version the caller held: the caller's copy came from a stale entry,
//     and the Manager's reload must read the durable store.
//
// # Failures of the cache
//
// A cache that is down, slow or full never fails a request: reads fall back
// to the durable store and writes succeed once the durable store accepted
// them. The deletions the rules above require are made with a context of
// their own ([WithCleanupTimeout]), so they also happen when the request's
// context has ended. When one of them fails, the entry may be stale, so the
// tier stops trusting every entry written before that moment (plus a margin
// for clocks): such entries are read from the durable store and replaced, as
// on a miss. After a cache error the tier also reads from the durable store
// only, for the [WithBackoff] period, without waiting for the cache.
//
// A process also never serves an entry written before one it already saw
// under the same key (a cache restored from a snapshot, an entry written
// back by hand): it remembers, for the keys it handled recently, when the
// last entry it saw was written.
//
// That distrust lives in the process that saw the failure. Another process
// sharing the cache, which did not see it, may serve the stale entry until
// the entry's maximum age or the next save of that session (which conflicts
// in the durable store and deletes it): [WithMaxAge] bounds how long.
// Nothing acknowledged is lost in any case, because every save is decided by
// the durable store's compare-and-set.
package cachestore
