package session

import (
	"context"
	"time"
)

// Record is what a [Store] keeps for one session.
//
// Data is the session's values as encoded by a [Codec]; the store treats it as
// opaque bytes and must give it back exactly or refuse it with an error.
type Record struct {
	// Data holds the encoded values. Data handed to Save, and Data
	// returned by Load, is read-only from then on: a store may keep the
	// bytes it was given and hand out its own (memstore does), so that a
	// session is not copied on its way through.
	Data []byte
	// Expiry is the instant from which the record is dead. A store never
	// returns a record whose Expiry is not after the current time.
	Expiry time.Time
	// Version is the record's version as the store last saw it: 0 for a
	// record that is not stored. Stores choose the values; the manager only
	// hands back what Load or Save returned.
	Version uint64
	// Owner is an optional user identifier, indexed by stores that
	// implement [OwnerIndex].
	Owner string
	// Created is when the session was first saved.
	Created time.Time
	// Modified is when the record was last saved or touched.
	Modified time.Time
}

// Store keeps session records under string keys.
//
// The guarantees every store gives, checked by the storetest package:
//
//   - Load returns [ErrNotFound] for a key that was never saved, was deleted,
//     or whose record has expired. An expired record is absent in every
//     respect.
//   - Save is a compare-and-set: it stores rec under key only if the version
//     currently stored equals rec.Version (0 meaning "no live record"), and
//     returns the new version, which differs from the version it replaced.
//     (A store without a version field may derive versions from the data it
//     holds: a compare-and-set on the value.) Otherwise it returns an error for
//     which errors.Is(err, ErrConflict) holds and changes nothing. Stores
//     that cannot compare-and-set implement [Unconditional].
//   - Data comes back byte for byte. What a store cannot hold (too large, not
//     representable) is refused with an error (errors.Is ErrTooLarge or
//     ErrUnsupported), never truncated, and leaves the stored record as it was.
//   - Expiry, Owner and Created come back as saved, to the store's time
//     precision. Modified is set by the store.
//   - Every method honours ctx: a cancelled or expired context makes the call
//     return an error for which errors.Is(err, ctx.Err()) holds, and never
//     blocks past the deadline.
//   - Methods are safe for concurrent use, also by several processes sharing
//     the same backing server.
type Store interface {
	// Load returns the live record stored under key.
	Load(ctx context.Context, key string) (Record, error)
	// Save stores rec under key if the stored version is rec.Version and
	// returns the record's new version.
	Save(ctx context.Context, key string, rec Record) (uint64, error)
	// Delete removes the record under key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Toucher is implemented by stores that can push a record's expiry without
// rewriting its data. Touch sets the expiry of the live record under key to
// expiry (which may also shorten it) and leaves the version unchanged. It
// returns [ErrNotFound] when there is no live record.
type Toucher interface {
	Touch(ctx context.Context, key string, expiry time.Time) error
}

// Collector is implemented by stores that need expired records removed
// (stores whose server expires keys by itself do not). GC deletes expired
// records, in bounded batches, and returns how many it deleted. It is safe
// to run from several processes at once.
type Collector interface {
	GC(ctx context.Context) (int, error)
}

// Iterator is implemented by stores that can list their live records.
// Iterate calls fn for each live record until fn returns false. The order is
// unspecified; records saved or deleted during the iteration may or may not
// be seen. Records the store cannot read are passed over, never handed to
// fn; a store may then report them once the iteration is done, with an
// error wrapping ErrCorrupt.
type Iterator interface {
	Iterate(ctx context.Context, fn func(key string, rec Record) bool) error
}

// OwnerIndex is implemented by stores that index records by [Record.Owner].
// OwnerKeys returns the keys of the live records whose owner is owner,
// through an index rather than a scan.
type OwnerIndex interface {
	OwnerKeys(ctx context.Context, owner string) ([]string, error)
}

// Unconditional is implemented by stores that cannot compare-and-set. When
// Unconditional reports true, Save ignores rec.Version and the last writer
// wins: concurrent requests on one session may lose each other's changes.
type Unconditional interface {
	Unconditional() bool
}

// IsUnconditional reports whether s declares that it cannot compare-and-set.
func IsUnconditional(s Store) bool {
	u, ok := s.(Unconditional)
	return ok && u.Unconditional()
}

// BatchCollector is implemented by Collectors that can remove expired
// records one bounded batch at a time, so that a caller can show progress
// and let other work through between batches. GCBatch deletes at most limit
// expired records and returns how many it deleted; fewer than limit means
// that none were left when it looked. A limit below 1 is an error.
type BatchCollector interface {
	Collector
	GCBatch(ctx context.Context, limit int) (int, error)
}

// ExpiredCounter is implemented by stores that can count the expired
// records waiting for GC with a query (an index range count) rather than a
// scan of every record.
type ExpiredCounter interface {
	CountExpired(ctx context.Context) (int, error)
}
