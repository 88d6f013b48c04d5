// Package keyref names store records in error messages without giving
// their keys away: with raw IDs a store key is the session ID, which must
// never appear in an error text, a log line or a page.
package keyref

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Of returns the reference of key: "sha256:" and the first 8 hex digits
// of its SHA-256.
func Of(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// Hide returns err with every occurrence of key in its text (a server's own
// messages may quote it) replaced by key's reference. The result still
// matches what err matches with errors.Is and errors.As.
func Hide(key string, err error) error {
	if err == nil || key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return &hidden{msg: strings.ReplaceAll(err.Error(), key, Of(key)), err: err}
}

// hidden is an error whose text has had a key replaced by its reference.
type hidden struct {
	msg string
	err error
}

func (e *hidden) Error() string { return e.msg }
func (e *hidden) Unwrap() error { return e.err }
