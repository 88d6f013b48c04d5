package session

import (
	"context"
	"time"
)

// StoreOp names a call a Manager makes to its Store, as reported to an
// [Observer].
type StoreOp string

// The store operations an [Observer] sees.
const (
	OpLoad   StoreOp = "load"
	OpSave   StoreOp = "save"
	OpTouch  StoreOp = "touch"
	OpDelete StoreOp = "delete"
	OpGC     StoreOp = "gc"
)

// Event is something that happened to a session, as reported to an
// [Observer].
type Event int

// The events an [Observer] sees.
const (
	// EventCreated: a new session was stored for the first time.
	EventCreated Event = iota + 1
	// EventRenewed: a session got a new ID (Renew) and was stored under it.
	EventRenewed
	// EventDestroyed: a session was destroyed (Destroy, or an owner's
	// sessions ended through the manager).
	EventDestroyed
	// EventConflict: a save met a version conflict (another request saved
	// the session first).
	EventConflict
	// EventRetry: a save was tried again after a conflict.
	EventRetry
	// EventDecodeError: a stored record could not be decoded or was
	// corrupt; the request got a fresh session.
	EventDecodeError
	// EventOwnerDestroyed: a session ended through the owner index
	// (DestroyOwnerSessions: "log out my other devices").
	EventOwnerDestroyed
	// EventEvicted: a session ended because its owner went over
	// MaxSessionsPerOwner (or, with RefuseOverLimit, the refused one).
	EventEvicted
	// EventExpired: an expired session was removed by GC (reported once per
	// session removed).
	EventExpired
)

var eventNames = [...]string{
	EventCreated:        "created",
	EventRenewed:        "renewed",
	EventDestroyed:      "destroyed",
	EventConflict:       "conflict",
	EventRetry:          "retry",
	EventDecodeError:    "decode_error",
	EventOwnerDestroyed: "owner_destroyed",
	EventEvicted:        "evicted",
	EventExpired:        "expired",
}

// Ended reports whether e is the end of a session, and why: "logout"
// (Destroy, DestroyKey), "owner_logout" (DestroyOwnerSessions), "evicted"
// (MaxSessionsPerOwner), "renewed" (the old ID of a Renew) or "expired"
// (removed by GC).
func (e Event) Ended() (reason string, ok bool) {
	switch e {
	case EventDestroyed:
		return "logout", true
	case EventOwnerDestroyed:
		return "owner_logout", true
	case EventEvicted:
		return "evicted", true
	case EventRenewed:
		return "renewed", true
	case EventExpired:
		return "expired", true
	}
	return "", false
}

// String returns the event's name in lower case ("created", "conflict"…).
func (e Event) String() string {
	if e > 0 && int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "unknown"
}

// Observer receives what a Manager does, for metrics: every store call with
// its latency and error, and the lifecycle events of sessions. The
// otelsession module records them through OpenTelemetry. Methods are called
// synchronously on the request's goroutine and must be quick and safe for
// concurrent use.
type Observer interface {
	// StoreCall reports one call to the Store: which operation, how long
	// it took and its error (nil on success; ErrNotFound on a load of an
	// unknown session and ErrConflict on a lost compare-and-set are
	// reported as they are).
	StoreCall(ctx context.Context, op StoreOp, d time.Duration, err error)
	// Event reports a lifecycle event of one session.
	Event(ctx context.Context, e Event)
}
