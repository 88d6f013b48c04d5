// Package redisstore is a session.Store on Redis, through go-redis v9's
// redis.UniversalClient: a single server, a Sentinel-managed primary
// (redis.NewFailoverClient) or a Redis Cluster (redis.NewClusterClient).
//
// Each session is one Redis hash under prefix + "{" + key + "}"; Redis
// expires it by itself (PEXPIREAT), so the store needs no garbage
// collection. Saves are compare-and-set on a version field, checked and
// written by a Lua script in one round trip. Owners are indexed by one set
// per owner, kept alive at least as long as the owner's sessions and pruned
// lazily. Every script touches one key only, so everything works on a
// Cluster.
//
// A key that holds something other than a well-formed record (a hash with
// a missing or malformed field, a string, a list) is reported with an error
// wrapping session.ErrCorrupt and left alone until Delete or its expiry.
// Options.WaitReplicas makes every write wait, in the same round trip, for
// replicas to acknowledge it (Redis' WAIT), failing with ErrNotReplicated
// when too few do.
//
// The store implements session.Store, session.Toucher, session.Iterator and
// session.OwnerIndex. See the README for the record layout and the design of
// the owner index.
package redisstore
