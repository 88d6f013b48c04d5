package memcachestore

import (
	"strings"

	"github.com/sessionkit/session/internal/keyref"
)

// itemRef names the item of key ik (prefix + key) in error messages: the
// prefix, then the key's reference, never the key itself.
func (s *Store) itemRef(ik string) string {
	return s.prefix + "<" + keyref.Of(strings.TrimPrefix(ik, s.prefix)) + ">"
}
