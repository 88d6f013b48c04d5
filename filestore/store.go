package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sessionkit/session"
)

// Store keeps session records as files in a directory. It is safe for
// concurrent use by several goroutines and several processes sharing the
// directory. Create it with [New].
type Store struct {
	dir     string
	prefix  string
	fsync   bool
	opts    Options
	locks   *locker
	now     func() time.Time
	gcSem   chan struct{} // one GC at a time in this process
	gcState gcCursor
}

// Interface checks.
var (
	_ session.Store      = (*Store)(nil)
	_ session.Toucher    = (*Store)(nil)
	_ session.Collector  = (*Store)(nil)
	_ session.Iterator   = (*Store)(nil)
	_ session.OwnerIndex = (*Store)(nil)
)

// New opens (creating it when missing) the session directory described by
// opts. It returns an error for options out of range: an empty Dir, a
// Prefix outside [A-Za-z0-9,_-] or of 255 bytes or more, a negative GCBatch
// or TempMaxAge; and on systems without flock(2).
func New(opts Options) (*Store, error) {
	if opts.GCBatch < 0 {
		return nil, fmt.Errorf("filestore: Options.GCBatch %d is negative", opts.GCBatch)
	}
	if opts.TempMaxAge < 0 {
		return nil, fmt.Errorf("filestore: Options.TempMaxAge %v is negative", opts.TempMaxAge)
	}
	opts = opts.withDefaults()
	if !haveFlock {
		return nil, fmt.Errorf("filestore: no flock(2) on %s, cross-process compare-and-set impossible: %w", runtime.GOOS, session.ErrUnsupported)
	}
	if opts.Dir == "" {
		return nil, errors.New("filestore: Options.Dir is empty")
	}
	if !validAlphabet(opts.Prefix) || len(opts.Prefix) >= maxName {
		return nil, fmt.Errorf("filestore: prefix %q must use [A-Za-z0-9,_-] and be shorter than %d bytes: %w", clip(opts.Prefix), maxName, session.ErrInvalidKey)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: create directory: %w", err)
	}
	locks, err := newLocker(dir)
	if err != nil {
		return nil, err
	}
	return &Store{
		dir:    dir,
		prefix: opts.Prefix,
		fsync:  opts.Fsync,
		opts:   opts,
		locks:  locks,
		now:    opts.Now,
		gcSem:  make(chan struct{}, 1),
	}, nil
}

// Dir returns the absolute path of the session directory.
func (s *Store) Dir() string { return s.dir }

// path returns the file of a key already checked by checkKey.
func (s *Store) path(key string) string { return filepath.Join(s.dir, s.prefix+key) }

func opErr(op string, err error) error { return fmt.Errorf("filestore: %s: %w", op, err) }

// Load implements session.Store. It takes no lock: files are replaced
// atomically, so it reads either the old or the new record.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, opErr("load", err)
	}
	if err := s.checkKey(key); err != nil {
		return session.Record{}, err
	}
	m, data, err := s.readFile(key)
	if err != nil {
		return session.Record{}, opErr("load", err)
	}
	if !m.live(s.now()) {
		return session.Record{}, opErr("load", session.ErrNotFound)
	}
	return m.record(data), nil
}

// readFile reads and verifies the whole file of key. A missing file is
// session.ErrNotFound; a name that is not a regular file (a symbolic link,
// never followed) is an error wrapping ErrCorrupt.
func (s *Store) readFile(key string) (meta, []byte, error) {
	f, _, err := s.openFile(key)
	if err != nil {
		return meta{}, nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return meta{}, nil, s.hideKey(key, err)
	}
	m, data, err := decodeFile(b)
	if err != nil {
		return meta{}, nil, fmt.Errorf("%s: %w", s.refPath(key), err)
	}
	return m, data, nil
}

// readHeader reads the header of key's file; found is false when the file
// does not exist.
func (s *Store) readHeader(key string) (m meta, found bool, err error) {
	f, fi, err := s.openFile(key)
	if errors.Is(err, session.ErrNotFound) {
		return meta{}, false, nil
	}
	if err != nil {
		return meta{}, false, err
	}
	defer f.Close()
	m, err = readMeta(f, fi.Size())
	if err != nil {
		return meta{}, false, fmt.Errorf("%s: %w", s.refPath(key), s.hideKey(key, err))
	}
	return m, true, nil
}

// newVersion returns a random non-zero version different from old. Random
// versions are never reissued after a Delete, so a stale version cannot
// match a re-created record.
func newVersion(old uint64) uint64 {
	for {
		if v := rand.Uint64(); v != 0 && v != old {
			return v
		}
	}
}

// Save implements session.Store: a compare-and-set on the version, under
// the key's lock, followed by an atomic replace of the file.
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, opErr("save", err)
	}
	if err := s.checkKey(key); err != nil {
		return 0, err
	}
	if len(rec.Owner) > maxOwner {
		return 0, fmt.Errorf("filestore: save: owner of %d bytes exceeds %d: %w", len(rec.Owner), maxOwner, session.ErrTooLarge)
	}
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return 0, opErr("save", err)
	}
	defer unlock()
	cur, found, err := s.readHeader(key)
	if err != nil {
		// A damaged file is not overwritten blindly: Delete it (or let GC
		// remove it once its expiry passes) to reuse the key.
		return 0, opErr("save", err)
	}
	now := s.now()
	var curVersion uint64
	if found && cur.live(now) {
		curVersion = cur.version
	}
	if curVersion != rec.Version {
		return 0, fmt.Errorf("filestore: save: stored version %d, expected %d: %w", curVersion, rec.Version, session.ErrConflict)
	}
	v := newVersion(cur.version)
	if rec.Owner != "" && (!found || cur.owner != rec.Owner) {
		// The new owner's marker exists before the record does, so a live
		// record is never missing from the index.
		if err := s.addMarker(rec.Owner, key); err != nil {
			return 0, opErr("save", s.hideKey(key, err))
		}
	}
	if err := s.writeFile(key, rec, v, now); err != nil {
		return 0, opErr("save", s.hideKey(key, err))
	}
	if found && cur.owner != "" && cur.owner != rec.Owner {
		s.removeMarker(cur.owner, key)
	}
	return v, nil
}

// writeFile writes rec to a temporary file, sets its modification time to
// the expiry and renames it over key's file.
func (s *Store) writeFile(key string, rec session.Record, version uint64, now time.Time) (err error) {
	head, err := encodeHeader(rec, version, now)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, tempPrefix+fmt.Sprintf("%x-", now.UnixNano()))
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err = tmp.Write(head); err != nil {
		return err
	}
	if _, err = tmp.Write(rec.Data); err != nil {
		return err
	}
	if s.fsync {
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chtimes(name, now, mtimeFor(rec.Expiry)); err != nil {
		return err
	}
	if err = os.Rename(name, s.path(key)); err != nil {
		return err
	}
	if s.fsync {
		return syncDir(s.dir)
	}
	return nil
}

// tempPrefix starts the names of temporary files: a dot, which no key
// has, then the creation time in hex nanoseconds so GC can age them.
const tempPrefix = ".tmp-"

// mtimeFor maps an expiry to the modification time GC judges by, kept in a
// range every file system and os.Chtimes accept (a zero time would mean
// "leave unchanged").
func mtimeFor(expiry time.Time) time.Time {
	lo := time.Unix(1, 0)
	hi := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	switch {
	case expiry.Before(lo):
		return lo
	case expiry.After(hi):
		return hi
	}
	return expiry
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Delete implements session.Store. It also removes a damaged file.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return opErr("delete", err)
	}
	if err := s.checkKey(key); err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return opErr("delete", err)
	}
	defer unlock()
	// A damaged header only means we cannot find the owner marker, which
	// OwnerKeys prunes lazily.
	cur, _, _ := s.readHeader(key)
	if err := os.Remove(s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return opErr("delete", s.hideKey(key, err))
	}
	if cur.owner != "" {
		s.removeMarker(cur.owner, key)
	}
	if s.fsync {
		if err := syncDir(s.dir); err != nil {
			return opErr("delete", err)
		}
	}
	return nil
}

// Touch implements session.Toucher: it rewrites the file with the new expiry
// (and modification time), keeping data and version.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return opErr("touch", err)
	}
	if err := s.checkKey(key); err != nil {
		return err
	}
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return opErr("touch", err)
	}
	defer unlock()
	m, data, err := s.readFile(key)
	if err != nil {
		return opErr("touch", err)
	}
	now := s.now()
	if !m.live(now) {
		return opErr("touch", session.ErrNotFound)
	}
	rec := m.record(data)
	rec.Expiry = expiry
	if err := s.writeFile(key, rec, m.version, now); err != nil {
		return opErr("touch", s.hideKey(key, err))
	}
	return nil
}
