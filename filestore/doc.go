// Package filestore is a session.Store that keeps one file per session in a
// directory, like Phalcon's "Stream" adapter and PHP's own files handler.
//
// A record lives in the file Dir/<Prefix><key>. Phalcon's Stream adapter uses
// no prefix (the default); PHP's files handler uses [PHPPrefix] ("sess_").
// Every write goes to a temporary file in the same directory that is renamed
// over the old one, so a reader sees the old record or the new one, never a
// mixture, even after a crash (set [Options.Fsync] to make the rename
// durable as well).
//
// Save is a compare-and-set on the record's version that holds across
// processes: the read-check-write runs under an exclusive flock(2) on one of
// 256 lock files in Dir/.locks, chosen by a hash of the key. Loads take no
// lock. Several processes, on one machine, may therefore share the directory.
// (flock is advisory and, on network file systems, only as good as the
// file system's support for it.)
//
// Keys are checked before anything touches the file system: only the
// alphabet [A-Za-z0-9,_-] is allowed, 1 to 255 bytes (prefix included), so a
// key can never name a path outside the directory; anything else is refused
// with an error wrapping session.ErrInvalidKey.
//
// Each file's modification time is set to the record's expiry, so [Store.GC]
// judges a file by a stat alone; it examines at most [Options.GCBatch]
// directory entries per call and resumes where the previous call stopped.
// Files whose bytes are damaged are reported with an error wrapping
// [ErrCorrupt] and session.ErrCorrupt, never a panic; Iterate skips them.
//
// The Store implements session.Toucher, session.Collector, session.Iterator
// and session.OwnerIndex (an index of empty marker files in Dir/.owners).
//
// Cross-process locking needs flock(2): the package works on Linux, the BSDs
// and macOS; on other systems [New] returns an error wrapping
// session.ErrUnsupported.
package filestore
