package redisstore

import (
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/internal/keyref"
)

// ErrNotReplicated means a write reached the primary but fewer replicas
// than Options.WaitReplicas acknowledged it within Options.WaitTimeout. The
// record is stored on the primary (a Load sees it) but may be lost if the
// primary fails over before the replicas catch up.
var ErrNotReplicated = errors.New("redisstore: write not acknowledged by enough replicas")

// corrupt returns an error wrapping session.ErrCorrupt for the record under
// key, named by keyRef.
func corrupt(key, format string, args ...any) error {
	return fmt.Errorf("%w: key %s: %s", session.ErrCorrupt, keyRef(key), fmt.Sprintf(format, args...))
}

// keyRef names a record in error messages without giving its key away.
func keyRef(key string) string { return keyref.Of(key) }

// isWrongType reports whether err is Redis' WRONGTYPE reply: the session
// key holds a string, list or other non-hash value, written by something
// else.
func isWrongType(err error) bool {
	return err != nil && redis.HasErrorPrefix(err, "WRONGTYPE")
}
