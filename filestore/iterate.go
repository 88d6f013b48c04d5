package filestore

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/sessionkit/session"
)

// Iterate implements session.Iterator. It reads the directory in chunks
// (memory stays bounded however many files there are) and calls fn for every
// live record whose file name carries the store's prefix. Files it cannot
// read as records (damaged, truncated, not written by this package, of a
// newer format: errors wrapping [ErrCorrupt]) are skipped without failing
// the iteration; Delete removes them, and so does GC once their
// modification time has passed. Other read errors end the iteration.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	if err := ctx.Err(); err != nil {
		return opErr("iterate", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return opErr("iterate", err)
	}
	defer d.Close()
	for {
		entries, err := d.ReadDir(256)
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return opErr("iterate", err)
			}
			key, ok := strings.CutPrefix(e.Name(), s.prefix)
			if !ok || s.checkKey(key) != nil || !e.Type().IsRegular() {
				continue
			}
			m, data, rerr := s.readFile(key)
			switch {
			case errors.Is(rerr, session.ErrNotFound), errors.Is(rerr, ErrCorrupt):
				continue // deleted meanwhile, or not a record
			case rerr != nil:
				return opErr("iterate", rerr)
			case !m.live(s.now()):
				continue
			}
			if !fn(key, m.record(data)) {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return opErr("iterate", err)
		}
	}
	return nil
}
