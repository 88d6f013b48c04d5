package phpcodec

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Errors returned by this package wrap them where they
// apply; compare with [errors.Is].
var (
	// ErrDepth means a value nests arrays and objects deeper than the
	// codec's MaxDepth, when decoding or encoding. A Go value that contains
	// itself (a cycle not broken by a *Ref or a shared *Object) reports it
	// too.
	ErrDepth = errors.New("phpcodec: maximum nesting depth exceeded")
	// ErrInvalidKey means a session key cannot be written by the session
	// handler: a key containing '|' under the "php" handler, a key longer
	// than 127 bytes under "php_binary", or an array key that is neither an
	// integer nor a string.
	ErrInvalidKey = errors.New("phpcodec: invalid key")
	// ErrUnsupportedType means a Go value has no PHP representation.
	ErrUnsupportedType = errors.New("phpcodec: unsupported type")
	// ErrRange means an integer does not fit PHP's 64-bit signed integer.
	ErrRange = errors.New("phpcodec: integer out of range")
	// ErrInvalidName means a class, enum or enum case name that PHP would
	// reject.
	ErrInvalidName = errors.New("phpcodec: invalid class name")
	// ErrReference means a reference (R: or r:) that cannot be resolved, or
	// a *Ref that cannot be written.
	ErrReference = errors.New("phpcodec: invalid reference")
	// ErrNotArray means session data under the "php_serialize" handler
	// holds a value that is not an array.
	ErrNotArray = errors.New("phpcodec: session data is not an array")
)

// SyntaxError is the error returned when data cannot be decoded. Offset is
// the byte offset in the decoded input (the whole session string for the
// session codecs) where the problem was found. Err, when not nil, is the
// sentinel that classifies the problem ([ErrDepth], [ErrRange],
// [ErrReference], [ErrInvalidName], [ErrNotArray]); Unwrap returns it.
type SyntaxError struct {
	Offset int    // byte offset of the problem in the input
	Msg    string // description of the problem
	Err    error  // optional sentinel, see above
}

// Error implements the error interface.
func (e *SyntaxError) Error() string {
	return "phpcodec: syntax error at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap returns e.Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// encodeErrorf builds an encoding error wrapping sentinel, prefixed with the
// path of the offending value.
func encodeErrorf(path *pathBuf, sentinel error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if p := path.String(); p != "" {
		return fmt.Errorf("%w: at %s: %s", sentinel, p, msg)
	}
	return fmt.Errorf("%w: %s", sentinel, msg)
}
