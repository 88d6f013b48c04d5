package filestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sessionkit/session"
)

// errNotRegular is wrapped, with ErrCorrupt, by the error for a key whose
// name in the directory is not a regular file: a symbolic link (never
// followed), a directory, a FIFO, a device.
var errNotRegular = errors.New("not a regular file of the store (symbolic links are never followed)")

// openFile opens key's file for reading without following a symbolic link
// and checks that it is a regular file. A missing file is
// session.ErrNotFound; anything else at the name is an error wrapping
// ErrCorrupt. Errors name the file by its reference, never by the key.
func (s *Store) openFile(key string) (*os.File, fs.FileInfo, error) {
	path := s.path(key)
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, session.ErrNotFound
	}
	if err != nil {
		// O_NOFOLLOW fails on a link with ELOOP on Linux, but with other
		// errors elsewhere: look at what the name is.
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, nil, s.notRegular(key, fi)
		}
		return nil, nil, s.hideKey(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, s.hideKey(key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, s.notRegular(key, fi)
	}
	return f, fi, nil
}

// notRegular is the error for key's name holding fi, not a regular file.
func (s *Store) notRegular(key string, fi fs.FileInfo) error {
	return fmt.Errorf("%s: %w: %w (%s)", s.refPath(key), ErrCorrupt, errNotRegular, fi.Mode().Type())
}

// realDir reports whether path is a directory itself, not a symbolic link
// to one.
func realDir(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir()
}
