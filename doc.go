// Package session is an HTTP session manager for net/http with pluggable
// storage.
//
// A [Manager] wraps handlers with [Manager.Handler]. Inside a handler,
// [Manager.Load] returns the request's [Session]; a request that never calls
// Load costs no store round trip. Values are kept in memory during the
// request and saved once, before the response headers are sent, and only when
// something changed or when the idle expiry must be pushed forward.
//
// Storage is behind the small [Store] contract, in the spirit of
// database/sql's drivers: a store keeps opaque [Record] values under keys and
// must offer compare-and-set on a record's version. Optional capabilities
// ([Toucher], [Collector], [Iterator], [OwnerIndex]) are small interfaces the
// manager discovers. The storetest package is a conformance suite that every
// store runs.
//
// Saves never lose concurrent updates: a save is a compare-and-set on the
// version the request loaded; on a conflict the manager reloads, re-applies
// this request's own changes (Set, Delete, Clear, Pop, SetOwner, and the
// functions given to Update, which run again on the fresh value) and retries a
// bounded number of times.
//
// IDs come from crypto/rand (256 bits by default). An ID the store does not
// know is never adopted, so session fixation is impossible. IDs are hashed
// (SHA-256) before they reach the store unless [Manager.RawIDs] is set, as
// compatibility with PHP requires.
package session
