package filestore

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"
)

// stripes is the number of lock files. Keys hash onto them, so two keys
// sharing a stripe serialise their writes; the critical sections are short.
const stripes = 256

// lockDir is the directory, inside Dir, that holds the lock files. Its
// name starts with a dot, which no key can.
const lockDir = ".locks"

// locker serialises writers of a key: within the process with a
// one-slot channel per stripe (so waiting honours the context), across
// processes with flock(2) on the stripe's lock file.
type locker struct {
	dir  string
	sems [stripes]chan struct{}
}

func newLocker(dir string) (*locker, error) {
	if err := os.MkdirAll(filepath.Join(dir, lockDir), 0o700); err != nil {
		return nil, fmt.Errorf("filestore: create lock directory: %w", err)
	}
	if !realDir(filepath.Join(dir, lockDir)) {
		return nil, fmt.Errorf("filestore: %s: %w: %w", filepath.Join(dir, lockDir), ErrCorrupt, errNotRegular)
	}
	l := &locker{dir: dir}
	for i := range l.sems {
		l.sems[i] = make(chan struct{}, 1)
	}
	return l, nil
}

func stripe(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % stripes)
}

// lock takes the exclusive lock of key's stripe, waiting at most until ctx
// is done, and returns the function that releases it.
func (l *locker) lock(ctx context.Context, key string) (unlock func(), err error) {
	i := stripe(key)
	select {
	case l.sems[i] <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := func() { <-l.sems[i] }
	path := filepath.Join(l.dir, lockDir, fmt.Sprintf("%02x", i))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		release()
		return nil, fmt.Errorf("filestore: open lock file: %w", err)
	}
	// Poll a non-blocking flock so that waiting for another process stays
	// bounded by ctx; a blocking flock(2) cannot be interrupted.
	wait := 50 * time.Microsecond
	for {
		ok, err := tryLockFile(f)
		if err != nil {
			f.Close()
			release()
			return nil, fmt.Errorf("filestore: lock %s: %w", path, err)
		}
		if ok {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			f.Close()
			release()
			return nil, ctx.Err()
		}
		if wait < 2*time.Millisecond {
			wait *= 2
		}
	}
	return func() {
		// Closing the descriptor releases the flock.
		f.Close()
		release()
	}, nil
}
