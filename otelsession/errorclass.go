package otelsession

import (
	"context"
	"errors"

	"github.com/sessionkit/session"
)

// errorClasses are the values of [AttrError]; see [ErrorClass].
var errorClasses = []string{"none", "not_found", "conflict", "too_large", "unsupported", "invalid_key", "corrupt", "canceled", "timeout", "other"}

// ErrorClass names the outcome of a store call for the error attribute,
// with few enough values to keep metric series bounded:
//
//	none         success
//	not_found    session.ErrNotFound (a load of an unknown or expired session)
//	conflict     session.ErrConflict (a lost compare-and-set)
//	too_large    session.ErrTooLarge
//	unsupported  session.ErrUnsupported
//	invalid_key  session.ErrInvalidKey
//	corrupt      session.ErrCorrupt
//	canceled     context.Canceled (the client went away)
//	timeout      context.DeadlineExceeded
//	other        anything else (a server down, a network error)
func ErrorClass(err error) string {
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, session.ErrNotFound):
		return "not_found"
	case errors.Is(err, session.ErrConflict):
		return "conflict"
	case errors.Is(err, session.ErrTooLarge):
		return "too_large"
	case errors.Is(err, session.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, session.ErrInvalidKey):
		return "invalid_key"
	case errors.Is(err, session.ErrCorrupt):
		return "corrupt"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "other"
}
