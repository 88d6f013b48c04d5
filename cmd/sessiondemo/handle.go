package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// handle names a session on the demo's pages without showing its store key:
// with raw IDs (the compatibility layouts) the key is the session ID, which
// must never appear in a page, a log line or an error text. It is the first
// 8 hex digits of the key's SHA-256.
func handle(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// withoutKey returns msg with key replaced by its handle.
func withoutKey(msg, key string) string {
	if key == "" {
		return msg
	}
	return strings.ReplaceAll(msg, key, "<"+handle(key)+">")
}

// keyHiddenError is an error whose text names a session by its handle
// instead of its key; it still matches what it wraps with errors.Is.
type keyHiddenError struct {
	msg string
	err error
}

func (e *keyHiddenError) Error() string { return e.msg }
func (e *keyHiddenError) Unwrap() error { return e.err }

// hideKey returns err with key replaced by its handle in its text.
func hideKey(err error, key string) error {
	if err == nil {
		return nil
	}
	return &keyHiddenError{msg: withoutKey(err.Error(), key), err: err}
}
