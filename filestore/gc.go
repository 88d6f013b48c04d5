package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// gcCursor is where the previous GC or GCBatch call stopped: an open
// handle on the directory, and the entries already read from it but not yet
// examined. It is dropped at the end of the directory, so the next call
// starts a new pass.
type gcCursor struct {
	dir     *os.File
	pending []os.DirEntry
}

// errGCLimit is wrapped by the error of a GCBatch call whose limit is not
// positive.
var errGCLimit = errors.New("filestore: gc batch limit must be positive")

var (
	_ session.BatchCollector = (*Store)(nil)
	_ session.ExpiredCounter = (*Store)(nil)
)

// next returns the next directory entry of the current pass, reading
// Options.GCBatch entries at a time, opening the directory when no pass is
// under way. At the end of the directory it closes the handle and returns
// ok false; the next call starts a new pass.
func (c *gcCursor) next(dir string, chunk int) (e os.DirEntry, ok bool, err error) {
	if len(c.pending) == 0 {
		if c.dir == nil {
			if c.dir, err = os.Open(dir); err != nil {
				return nil, false, err
			}
		}
		c.pending, err = c.dir.ReadDir(chunk)
		if err != nil || len(c.pending) == 0 {
			c.dir.Close()
			c.dir, c.pending = nil, nil
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, false, err
			}
			return nil, false, nil
		}
	}
	e, c.pending = c.pending[0], c.pending[1:]
	return e, true, nil
}

// atStart reports whether no pass is under way: the next entry is the
// first of a new pass.
func (c *gcCursor) atStart() bool { return c.dir == nil && len(c.pending) == 0 }

// lockGC takes the process's GC turn, or fails when ctx ends first.
func (s *Store) lockGC(ctx context.Context, op string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, opErr(op, err)
	}
	select {
	case s.gcSem <- struct{}{}:
		return func() { <-s.gcSem }, nil
	case <-ctx.Done():
		return nil, opErr(op, ctx.Err())
	}
}

// GC implements session.Collector. It examines at most Options.GCBatch
// directory entries, resuming where the previous call in this process
// stopped, and removes the session files whose expiry has passed (judged by
// the file's modification time, which Save and Touch set to the expiry,
// then confirmed under the key's lock), their owner markers, and temporary
// files older than Options.TempMaxAge. Expired files that are damaged are
// removed as well. It returns the number of session files removed.
//
// Several processes may run GC on the same directory at once; each keeps its
// own position.
func (s *Store) GC(ctx context.Context) (int, error) {
	unlock, err := s.lockGC(ctx, "gc")
	if err != nil {
		return 0, err
	}
	defer unlock()
	now := s.now()
	n := 0
	for range s.opts.GCBatch {
		e, ok, err := s.gcState.next(s.dir, s.opts.GCBatch)
		if err != nil {
			return n, opErr("gc", err)
		}
		if !ok {
			break
		}
		removed, err := s.examine(ctx, e, now)
		if err != nil {
			return n, opErr("gc", err)
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// GCBatch implements session.BatchCollector. It removes at most limit
// expired session files (with their owner markers, and the stale temporary
// files it passes), examining directory entries from where the previous GC
// or GCBatch call in this process stopped. It stops at the limit, or once
// it has seen the whole directory: after the end of a pass begun by an
// earlier call it starts a new pass. So a count below limit means that no
// expired file was left when it looked, and a call examines at most a
// little more than twice the directory.
func (s *Store) GCBatch(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: got %d", errGCLimit, limit)
	}
	unlock, err := s.lockGC(ctx, "gc")
	if err != nil {
		return 0, err
	}
	defer unlock()
	now := s.now()
	fresh := s.gcState.atStart() // this call sees a whole pass
	n := 0
	for n < limit {
		e, ok, err := s.gcState.next(s.dir, s.opts.GCBatch)
		if err != nil {
			return n, opErr("gc", err)
		}
		if !ok {
			if fresh {
				break
			}
			fresh = true
			continue
		}
		removed, err := s.examine(ctx, e, now)
		if err != nil {
			return n, opErr("gc", err)
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// CountExpired implements session.ExpiredCounter: the number of session
// files GC would remove now. A directory has no index, so it reads the
// whole directory: a stat of every session file, and the header of those
// whose modification time has passed (a file whose header says it is still
// live is not counted, as GC does not remove it).
func (s *Store) CountExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, opErr("count expired", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return 0, opErr("count expired", err)
	}
	defer d.Close()
	now := s.now()
	n := 0
	for {
		entries, err := d.ReadDir(s.opts.GCBatch)
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return n, opErr("count expired", err)
			}
			key, ok := s.expiredCandidate(e, now)
			if !ok {
				continue
			}
			_, expired, rerr := s.expiredFile(key, now)
			if rerr != nil {
				return n, opErr("count expired", rerr)
			}
			if expired {
				n++
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return n, nil
		}
		if err != nil {
			return n, opErr("count expired", err)
		}
	}
}

// examine handles one directory entry for GC: a stale temporary file is
// removed, an expired session file collected. It reports whether a session
// file was removed.
func (s *Store) examine(ctx context.Context, e os.DirEntry, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if name := e.Name(); strings.HasPrefix(name, tempPrefix) {
		s.collectTemp(name, now)
		return false, nil
	}
	key, ok := s.expiredCandidate(e, now)
	if !ok {
		return false, nil
	}
	return s.collect(ctx, key)
}

// expiredCandidate returns the key of a session file whose modification
// time (its expiry) has passed; ok is false for any other entry.
func (s *Store) expiredCandidate(e os.DirEntry, now time.Time) (key string, ok bool) {
	key, ok = strings.CutPrefix(e.Name(), s.prefix)
	if !ok || s.checkKey(key) != nil || !e.Type().IsRegular() {
		return "", false
	}
	info, err := e.Info()
	if err != nil || info.ModTime().After(now) {
		return "", false // gone meanwhile, or still live
	}
	return key, true
}

// expiredFile reports whether key's file is one GC removes: present, past
// its modification time, and expired by its header or damaged. It returns
// the header (zero for a damaged file). The caller holds the key's lock
// when the answer must stay true until it acts on it.
func (s *Store) expiredFile(key string, now time.Time) (meta, bool, error) {
	fi, err := os.Lstat(s.path(key))
	if err != nil || fi.ModTime().After(now) {
		return meta{}, false, nil // deleted or saved again meanwhile
	}
	m, found, err := s.readHeader(key)
	switch {
	case err != nil && !errors.Is(err, ErrCorrupt):
		return meta{}, false, err // cannot tell: leave it
	case err == nil && !found:
		return meta{}, false, nil
	case err == nil && m.live(now):
		return meta{}, false, nil // mtime changed by hand; the header is the truth
	}
	return m, true, nil
}

// collect removes key's file if, under its lock, it is still expired.
func (s *Store) collect(ctx context.Context, key string) (bool, error) {
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	m, expired, err := s.expiredFile(key, s.now())
	if err != nil || !expired {
		return false, err
	}
	// Expired, or damaged and past its modification time.
	if err := os.Remove(s.path(key)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, s.hideKey(key, err)
	}
	if m.owner != "" {
		s.removeMarker(m.owner, key)
	}
	return true, nil
}

// collectTemp removes a temporary file older than TempMaxAge, judged by the
// creation time in its name (its modification time is an expiry).
func (s *Store) collectTemp(name string, now time.Time) {
	rest := strings.TrimPrefix(name, tempPrefix)
	hexTime, _, ok := strings.Cut(rest, "-")
	if !ok {
		return
	}
	ns, err := strconv.ParseInt(hexTime, 16, 64)
	if err != nil {
		return
	}
	if now.Sub(time.Unix(0, ns)) > s.opts.TempMaxAge {
		_ = os.Remove(s.dir + string(os.PathSeparator) + name)
	}
}

// Close releases the directory handle that GC and GCBatch keep open between
// calls. The Store remains usable; the next GC starts a new pass.
func (s *Store) Close() error {
	s.gcSem <- struct{}{}
	defer func() { <-s.gcSem }()
	if s.gcState.dir == nil {
		return nil
	}
	err := s.gcState.dir.Close()
	s.gcState.dir, s.gcState.pending = nil, nil
	return err
}
