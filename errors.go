package session

import "errors"

// Errors returned by stores and the manager. Stores wrap them with details;
// compare with errors.Is.
var (
	// ErrNotFound means no live record is stored under the key.
	ErrNotFound = errors.New("session: record not found")
	// ErrConflict means a compare-and-set failed: the stored version is not
	// the one the save expected.
	ErrConflict = errors.New("session: version conflict")
	// ErrTooLarge means a value exceeds what the store or the manager's
	// MaxSize allows. Nothing was saved.
	ErrTooLarge = errors.New("session: too large")
	// ErrUnsupported means the store cannot hold a value or perform an
	// operation.
	ErrUnsupported = errors.New("session: unsupported")
	// ErrInvalidKey means a key or ID is malformed (length, alphabet) and
	// was refused before reaching the store.
	ErrInvalidKey = errors.New("session: invalid key")
	// ErrHeadersWritten means a change needed a new cookie after the
	// response headers had been sent; the change was not applied.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrDestroyed means the session was destroyed during this request.
	ErrDestroyed = errors.New("session: destroyed")
	// ErrCommitUnknown means a request's context ended while the write
	// holding its changes was in flight: they may or may not be stored.
	// The manager never applies them again; a client that retries the
	// request should first read the session to see whether they were.
	ErrCommitUnknown = errors.New("session: commit outcome unknown")
	// ErrTooManySessions means a session would take its owner over
	// Manager.MaxSessionsPerOwner with Manager.RefuseOverLimit set; the
	// login was refused.
	ErrTooManySessions = errors.New("session: too many sessions for this owner")
	// ErrNoSession means the context carries no session of this manager:
	// the handler is not wrapped by Manager.Handler, and the context does
	// not come from Manager.Attach.
	ErrNoSession = errors.New("session: no session in context (not wrapped by Manager.Handler, nor from Manager.Attach)")
	// ErrDecode means stored data could not be decoded by the codec.
	ErrDecode = errors.New("session: cannot decode data")
	// ErrCorrupt means a store found a record it cannot read: metadata of
	// the wrong type or out of range (an SQL created_at of 0000-00-00, a
	// Redis hash with a missing or non-numeric field, a memcached item
	// written by another program). Stores wrap it; the manager logs it and
	// answers with a fresh session, leaving the record for expiry.
	ErrCorrupt = errors.New("session: corrupt record")
)
