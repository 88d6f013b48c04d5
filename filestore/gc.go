package filestore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// gcCursor is where the previous GC call stopped: an open handle on the
// directory, read GCBatch entries at a time. It is dropped at the end of
// the directory, so the next call starts a new pass.
type gcCursor struct {
	dir *os.File
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
	if err := ctx.Err(); err != nil {
		return 0, opErr("gc", err)
	}
	select {
	case s.gcSem <- struct{}{}:
	case <-ctx.Done():
		return 0, opErr("gc", ctx.Err())
	}
	defer func() { <-s.gcSem }()

	c := &s.gcState
	if c.dir == nil {
		d, err := os.Open(s.dir)
		if err != nil {
			return 0, opErr("gc", err)
		}
		c.dir = d
	}
	entries, err := c.dir.ReadDir(s.opts.GCBatch)
	if err != nil || len(entries) < s.opts.GCBatch {
		// End of the directory (io.EOF) or a failure: start over next time.
		c.dir.Close()
		c.dir = nil
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, opErr("gc", err)
		}
	}
	now := s.now()
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, opErr("gc", err)
		}
		name := e.Name()
		if strings.HasPrefix(name, tempPrefix) {
			s.collectTemp(name, now)
			continue
		}
		key, ok := strings.CutPrefix(name, s.prefix)
		if !ok || s.checkKey(key) != nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(now) {
			continue // gone meanwhile, or still live
		}
		removed, err := s.collect(ctx, key)
		if err != nil {
			return n, opErr("gc", err)
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// collect removes key's file if, under its lock, it is still expired.
func (s *Store) collect(ctx context.Context, key string) (bool, error) {
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	now := s.now()
	path := s.path(key)
	fi, err := os.Lstat(path)
	if err != nil || fi.ModTime().After(now) {
		return false, nil // deleted or saved again meanwhile
	}
	m, found, err := s.readHeader(key)
	switch {
	case err != nil && !errors.Is(err, ErrCorrupt):
		return false, err // cannot tell: leave it
	case err == nil && !found:
		return false, nil
	case err == nil && m.live(now):
		return false, nil // mtime changed by hand; the header is the truth
	}
	// Expired, or damaged and past its modification time.
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
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

// Close releases the directory handle that GC keeps open between calls. The
// Store remains usable; the next GC starts a new pass.
func (s *Store) Close() error {
	s.gcSem <- struct{}{}
	defer func() { <-s.gcSem }()
	if s.gcState.dir == nil {
		return nil
	}
	err := s.gcState.dir.Close()
	s.gcState.dir = nil
	return err
}
