package cachestore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/session"
)

// errDown is what a failing fast store answers: an outage, not a refusal.
var errDown = errors.New("fast store: connection refused")

// flaky wraps a fast store; while down is set every call fails with
// errDown. It counts the calls that reached it.
type flaky struct {
	session.Store
	down  atomic.Bool
	calls atomic.Int64
}

func (f *flaky) fail(ctx context.Context, op string) error {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("flaky: %s: %w", op, err)
	}
	if f.down.Load() {
		return fmt.Errorf("flaky: %s: %w", op, errDown)
	}
	return nil
}

func (f *flaky) Load(ctx context.Context, key string) (session.Record, error) {
	if err := f.fail(ctx, "load"); err != nil {
		return session.Record{}, err
	}
	return f.Store.Load(ctx, key)
}

func (f *flaky) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := f.fail(ctx, "save"); err != nil {
		return 0, err
	}
	return f.Store.Save(ctx, key, rec)
}

func (f *flaky) Delete(ctx context.Context, key string) error {
	if err := f.fail(ctx, "delete"); err != nil {
		return err
	}
	return f.Store.Delete(ctx, key)
}

// corrupting wraps a store and answers ErrCorrupt for the keys marked.
type corrupting struct {
	session.Store
	mu   sync.Mutex
	keys map[string]bool
}

func (c *corrupting) mark(key string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]bool{}
	}
	c.keys[key] = on
}

func (c *corrupting) Load(ctx context.Context, key string) (session.Record, error) {
	c.mu.Lock()
	bad := c.keys[key]
	c.mu.Unlock()
	if bad {
		return session.Record{}, fmt.Errorf("corrupting: load: %w", session.ErrCorrupt)
	}
	return c.Store.Load(ctx, key)
}

func (c *corrupting) Delete(ctx context.Context, key string) error {
	c.mark(key, false)
	return c.Store.Delete(ctx, key)
}

// hooked wraps a durable store and calls afterLoad / afterSave, when set,
// once the inner call returned: the tests pause a request there.
type hooked struct {
	session.Store
	afterLoad func(key string, rec session.Record)
	afterSave func(ctx context.Context, key string, v uint64)
}

func (h *hooked) Load(ctx context.Context, key string) (session.Record, error) {
	rec, err := h.Store.Load(ctx, key)
	if err == nil && h.afterLoad != nil {
		h.afterLoad(key, rec)
	}
	return rec, err
}

func (h *hooked) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	v, err := h.Store.Save(ctx, key, rec)
	if err == nil && h.afterSave != nil {
		h.afterSave(ctx, key, v)
	}
	return v, err
}

// bare hides every optional interface of a store.
type bare struct{ s session.Store }

func (b bare) Load(ctx context.Context, key string) (session.Record, error) {
	return b.s.Load(ctx, key)
}
func (b bare) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	return b.s.Save(ctx, key, rec)
}
func (b bare) Delete(ctx context.Context, key string) error { return b.s.Delete(ctx, key) }

// withToucher is a bare store that is also a session.Toucher.
type withToucher struct {
	bare
	t session.Toucher
}

func (w withToucher) Touch(ctx context.Context, key string, expiry time.Time) error {
	return w.t.Touch(ctx, key, expiry)
}

// withCollector is a bare store that is a session.Collector (not a
// BatchCollector) and a session.Iterator.
type withCollector struct {
	bare
	c session.Collector
	i session.Iterator
}

func (w withCollector) GC(ctx context.Context) (int, error) { return w.c.GC(ctx) }
func (w withCollector) Iterate(ctx context.Context, fn func(string, session.Record) bool) error {
	return w.i.Iterate(ctx, fn)
}

func rec(data string, ttl time.Duration) session.Record {
	now := time.Now()
	return session.Record{Data: []byte(data), Expiry: now.Add(ttl), Created: now}
}

// Touch forwards to the inner store, which must be a session.Toucher.
func (h *hooked) Touch(ctx context.Context, key string, expiry time.Time) error {
	return h.Store.(session.Toucher).Touch(ctx, key, expiry)
}
