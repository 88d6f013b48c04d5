package filestore

import (
	"fmt"

	"github.com/sessionkit/session"
)

// maxName is the longest file name most file systems accept (ext4, XFS,
// tmpfs, APFS: 255 bytes).
const maxName = 255

// keyByte reports whether c may appear in a key or a prefix.
func keyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ',' || c == '-' || c == '_'
}

func validAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		if !keyByte(s[i]) {
			return false
		}
	}
	return true
}

// checkKey refuses a key that is empty, too long for a file name once
// prefixed, or uses a byte outside [A-Za-z0-9,_-]. Such keys never reach
// the file system: no '/', '\\', '.', NUL or other special byte can appear
// in a file name built from a valid key.
func (s *Store) checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("filestore: empty key: %w", session.ErrInvalidKey)
	case len(s.prefix)+len(key) > maxName:
		return fmt.Errorf("filestore: key of %d bytes (with prefix %d) exceeds %d: %w", len(key), len(s.prefix)+len(key), maxName, session.ErrInvalidKey)
	case !validAlphabet(key):
		return fmt.Errorf("filestore: key %s has bytes outside [A-Za-z0-9,_-]: %w", keyRef(key), session.ErrInvalidKey)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
