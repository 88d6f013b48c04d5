package filestore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sessionkit/session/internal/keyref"
)

// keyRef names a record in error messages without giving its key away.
func keyRef(key string) string { return keyref.Of(key) }

// refPath is the path of key's file as error messages show it: the
// directory, the prefix and the key's reference.
func (s *Store) refPath(key string) string {
	return filepath.Join(s.dir, s.prefix+"<"+keyRef(key)+">")
}

// hideKey returns err with every file path naming key (the record file, an
// owner marker) replaced by its reference, keeping the underlying error
// (fs.ErrNotExist, syscall errors) for errors.Is.
func (s *Store) hideKey(key string, err error) error {
	name := s.prefix + key
	hide := func(p string) string {
		if filepath.Base(p) != name {
			return p
		}
		return filepath.Join(filepath.Dir(p), s.prefix+"<"+keyRef(key)+">")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && filepath.Base(pe.Path) == name {
		return &fs.PathError{Op: pe.Op, Path: hide(pe.Path), Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) && (filepath.Base(le.Old) == name || filepath.Base(le.New) == name) {
		return &os.LinkError{Op: le.Op, Old: hide(le.Old), New: hide(le.New), Err: le.Err}
	}
	return keyref.Hide(key, err) // not expected: keep the sentinel, drop the key
}
