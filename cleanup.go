package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// DefaultGCBatch is how many expired records [Manager.Cleanup] and
// [Manager.GCBatches] remove per batch from a [BatchCollector].
const DefaultGCBatch = 1000

// GCBatches removes expired records as [Manager.GC] does, one batch of at
// most batch records at a time when the store is a [BatchCollector]
// (otherwise in one call), and calls progress (if not nil) with the running
// total after each batch. It returns the total removed.
func (m *Manager) GCBatches(ctx context.Context, batch int, progress func(removed int)) (int, error) {
	if err := m.init(); err != nil {
		return 0, err
	}
	if batch <= 0 {
		batch = DefaultGCBatch
	}
	bc, ok := m.Store.(BatchCollector)
	if !ok {
		n, err := m.GC(ctx)
		if progress != nil && err == nil {
			progress(n)
		}
		return n, err
	}
	total := 0
	for {
		n, err := m.gcCall(ctx, func() (int, error) { return bc.GCBatch(ctx, batch) })
		total += n
		if err != nil {
			return total, fmt.Errorf("session: gc: %w", err)
		}
		if progress != nil {
			progress(total)
		}
		if n < batch {
			return total, nil
		}
	}
}

func (m *Manager) gcCall(ctx context.Context, fn func() (int, error)) (n int, err error) {
	if m.Observer != nil {
		defer m.observe(ctx, OpGC, time.Now(), &err)
	}
	n, err = fn()
	for range n {
		m.event(ctx, EventExpired)
	}
	return n, err
}

// Cleanup removes expired records every interval until ctx ends, for
// stores that need it (a [Collector]; stores whose server expires records
// by itself return at once). Run it in its own goroutine:
//
//	go m.Cleanup(ctx, 5*time.Minute)
//
// Each wait is drawn at random between half and one and a half intervals,
// so that app servers started together do not collect together; running it
// on every app server at once is safe, since GC is. A BatchCollector is
// collected in batches of DefaultGCBatch with a pause as long as the batch
// took between two batches, so that collecting a large backlog leaves the
// database to the requests half of the time. What it removed, and errors,
// are logged; an error does not stop it. It returns nil when ctx ends.
func (m *Manager) Cleanup(ctx context.Context, interval time.Duration) error {
	if err := m.init(); err != nil {
		return err
	}
	if _, ok := m.Store.(Collector); !ok {
		return nil
	}
	if interval <= 0 {
		return fmt.Errorf("session: cleanup interval %v must be positive", interval)
	}
	for {
		wait := interval/2 + rand.N(interval)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		n, err := m.collectGently(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			m.Logger.Error("session: background GC failed", "err", err, "removed", n)
		case n > 0:
			m.Logger.Info("session: background GC removed expired sessions", "removed", n)
		}
	}
}

// collectGently runs one GC pass, pausing between batches.
func (m *Manager) collectGently(ctx context.Context) (int, error) {
	bc, ok := m.Store.(BatchCollector)
	if !ok {
		return m.GC(ctx)
	}
	total := 0
	for {
		start := time.Now()
		n, err := m.gcCall(ctx, func() (int, error) { return bc.GCBatch(ctx, DefaultGCBatch) })
		total += n
		if err != nil || n < DefaultGCBatch {
			return total, err
		}
		t := time.NewTimer(time.Since(start))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
	}
}
