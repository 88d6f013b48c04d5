package redisstore

import (
	"fmt"
	"strings"

	"github.com/sessionkit/session"
)

// Key layout. A session lives at prefix + "{" + key + "}": the braces make
// the store key the Redis Cluster hash tag, so the slot depends on the key
// alone. An owner's index set lives at prefix + "owner:{" + owner + "}",
// hash-tagged by owner. The two shapes never collide: a session key has '{'
// right after the prefix, an index key has "owner:".
const ownerInfix = "owner:"

// checkPrefix reports an error for a prefix that would break the key
// layout.
func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("redisstore: Options.Prefix %q contains '{' or '}', which Redis Cluster reads as a hash tag", prefix)
	}
	return nil
}

// validKey reports an error unless key can be stored.
func validKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", session.ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes, at most %d allowed", session.ErrInvalidKey, len(key), MaxKeyLen)
	case strings.ContainsAny(key, "{}"):
		return fmt.Errorf("%w: key %s contains '{' or '}'", session.ErrInvalidKey, keyRef(key))
	}
	return nil
}

func (s *Store) sessionKey(key string) string {
	return s.prefix + "{" + key + "}"
}

func (s *Store) ownerKey(owner string) string {
	return s.prefix + ownerInfix + "{" + owner + "}"
}

// storeKey returns the store key of a Redis key of this store's session
// shape, or false.
func (s *Store) storeKey(redisKey string) (string, bool) {
	rest, ok := strings.CutPrefix(redisKey, s.prefix+"{")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "}")
	if !ok || validKey(key) != nil {
		return "", false
	}
	return key, true
}

// scanPattern is the SCAN MATCH pattern of the store's session keys.
func (s *Store) scanPattern() string {
	return globEscape(s.prefix) + `\{*\}`
}

// globEscape escapes the characters that Redis' glob-style MATCH treats
// specially.
func globEscape(s string) string {
	var b strings.Builder
	for i := range len(s) {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
