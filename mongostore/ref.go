package mongostore

import "github.com/sessionkit/session/internal/keyref"

// keyRef names a record in error messages without giving its key away.
func keyRef(key string) string { return keyref.Of(key) }

// hideKey returns err with key replaced by its reference in its text.
func hideKey(key string, err error) error { return keyref.Hide(key, err) }
