package filestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sessionkit/session"
)

// ownerDir is the directory, inside Dir, of the owner index: one
// subdirectory per owner (named by a hash of the owner, so any owner string
// is safe) holding an empty marker file per session file of that owner.
const ownerDir = ".owners"

func (s *Store) ownerPath(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return filepath.Join(s.dir, ownerDir, hex.EncodeToString(sum[:16]))
}

// errLinkedOwnerDir is returned for an owner directory (or the index
// directory) that is a symbolic link: the index never follows one out of
// the store.
var errLinkedOwnerDir = fmt.Errorf("filestore: owner index directory is not a plain directory of the store: %w", ErrCorrupt)

// ownerDirOK reports whether the owner's directory, and the index directory
// holding it, are plain directories (not symbolic links) or missing.
func (s *Store) ownerDirOK(dir string) bool {
	for _, p := range []string{filepath.Dir(dir), dir} {
		fi, err := os.Lstat(p)
		if err == nil && !fi.IsDir() {
			return false
		}
	}
	return true
}

// addMarker records that key's file belongs to owner. Markers are named by
// the file name (prefix + key), so stores with different prefixes sharing a
// directory agree on them.
func (s *Store) addMarker(owner, key string) error {
	dir := s.ownerPath(owner)
	name := filepath.Join(dir, s.prefix+key)
	for range 3 {
		if !s.ownerDirOK(dir) {
			return errLinkedOwnerDir
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|noFollow, 0o600)
		if err == nil {
			return f.Close()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		// The owner's directory is missing, or was removed as empty by
		// a concurrent prune between MkdirAll and OpenFile: retry.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	return errors.New("filestore: owner directory keeps disappearing")
}

// removeMarker removes key's marker of owner; errors are ignored because a
// stale marker is harmless (OwnerKeys checks and prunes it).
func (s *Store) removeMarker(owner, key string) {
	dir := s.ownerPath(owner)
	if !s.ownerDirOK(dir) {
		return // never remove a file through a link out of the store
	}
	_ = os.Remove(filepath.Join(dir, s.prefix+key))
	_ = os.Remove(dir) // only succeeds when empty
}

// OwnerKeys implements session.OwnerIndex. It lists the owner's markers and
// checks each against the file's header, so a record whose owner changed,
// that was deleted, or that expired is never returned; such stale markers
// are pruned on the way (under the key's lock, after a second check).
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, opErr("owner keys", err)
	}
	if len(owner) > maxOwner {
		return nil, fmt.Errorf("filestore: owner keys: owner of %d bytes exceeds %d: %w", len(owner), maxOwner, session.ErrTooLarge)
	}
	dir := s.ownerPath(owner)
	if !s.ownerDirOK(dir) {
		return nil, opErr("owner keys", errLinkedOwnerDir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, opErr("owner keys", err)
	}
	var keys []string
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, opErr("owner keys", err)
		}
		key, ok := strings.CutPrefix(e.Name(), s.prefix)
		if !ok || s.checkKey(key) != nil {
			continue // another prefix's marker
		}
		if s.ownedLive(key, owner) {
			keys = append(keys, key)
			continue
		}
		if err := s.prune(ctx, owner, key); err != nil {
			return nil, opErr("owner keys", err)
		}
	}
	return keys, nil
}

// ownedLive reports whether key's file is a live record of owner.
func (s *Store) ownedLive(key, owner string) bool {
	m, found, err := s.readHeader(key)
	return err == nil && found && m.live(s.now()) && m.owner == owner
}

// prune removes owner's marker of key if, under the key's lock, the file is
// still not a live record of owner.
func (s *Store) prune(ctx context.Context, owner, key string) error {
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	if m, found, err := s.readHeader(key); err == nil && found && m.owner == owner {
		if m.live(s.now()) {
			return nil // saved again meanwhile
		}
		// Expired: the record (and its marker) go together.
		_ = os.Remove(s.path(key))
	}
	s.removeMarker(owner, key)
	return nil
}
