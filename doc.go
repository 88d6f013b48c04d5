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
// Saves never lose concurrent updates. Every save goes through one engine:
// a compare-and-set on the version the request loaded; on a conflict the
// manager reloads, re-applies this request's own changes and retries a
// bounded number of times. Set, SetOwner and the functions given to Update
// are applied again on the fresh values (Update's function runs again on
// the value the other request saved); Delete, Pop and Clear are applied
// again only to values still equal, as values, to what this request saw,
// so a value saved meanwhile by another request (a second flash message) is
// never removed. Within one process, saves of one session take turns per
// store key, waiting no longer than their context allows, and saves queued
// behind each other are written together; saves of different sessions never
// wait on each other. Code of yours that the engine runs (Update functions,
// codecs) runs under recover: a panic fails its own request only. A request
// reports success only once its change is stored, and [ErrCommitUnknown]
// when its context ended while the write was in flight.
//
// Renew (at login) gives the session a new ID. The old ID stays readable
// for [Manager.RenewGrace] with the data and owner as they were before the
// request that renewed it, so that requests in flight are not logged out:
// it never sees what was written after the Renew, it dies when the session
// is destroyed through any ID of its chain, and its grace is never
// extended. A change saved through the old ID while or after the session is
// renewed goes to the renewed session, so no acknowledged write is lost.
// Nothing reachable through the old ID holds the new one, with
// [Manager.RawIDs] too.
//
// The session ID travels in a cookie (secure by default, even for a Manager
// built as a struct literal: Secure, HttpOnly, SameSite=Lax; the opt-outs
// are named [CookieOptions.Insecure] and [CookieOptions.ScriptAccessible])
// or, for JSON APIs, in a header ([Manager.TokenHeader]). The manager sets
// only its own Set-Cookie line and adds Vary and Cache-Control so that
// shared caches never store a response that sets it. Frameworks that are
// not net/http middleware use [Manager.Attach] and [Manager.Commit].
//
// IDs come from crypto/rand (by default 43 characters of base64url: 258
// bits). An ID the store does not know is never adopted, so session
// fixation is impossible. IDs are hashed (SHA-256) before they reach the
// store unless [Manager.RawIDs] is set, as compatibility with PHP requires.
package session
