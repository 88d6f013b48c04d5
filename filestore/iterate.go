package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sessionkit/session"
)

// Iterate implements session.Iterator. It reads the directory in chunks
// (memory stays bounded however many files there are) and calls fn for every
// live record whose file name carries the store's prefix. Damaged files are
// skipped; Iterate then returns, after the last record, an error wrapping
// [ErrCorrupt] that counts them and names the first.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	if err := ctx.Err(); err != nil {
		return opErr("iterate", err)
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return opErr("iterate", err)
	}
	defer d.Close()
	var (
		corrupt  int
		firstBad error
	)
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
			case errors.Is(rerr, session.ErrNotFound):
				continue // deleted meanwhile
			case rerr != nil:
				corrupt++
				if firstBad == nil {
					firstBad = rerr
				}
				continue
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
	if firstBad != nil {
		return fmt.Errorf("filestore: iterate: %d unreadable file(s) skipped, first: %w", corrupt, firstBad)
	}
	return nil
}
