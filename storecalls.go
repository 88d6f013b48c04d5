package session

import (
	"context"
	"time"
)

// The manager's calls to its store, timed and reported to the Observer.

func (m *Manager) storeLoad(ctx context.Context, key string) (rec Record, err error) {
	if m.Observer != nil {
		defer m.observe(ctx, OpLoad, time.Now(), &err)
	}
	return m.Store.Load(ctx, key)
}

func (m *Manager) storeSave(ctx context.Context, key string, rec Record) (v uint64, err error) {
	if m.Observer != nil {
		defer m.observe(ctx, OpSave, time.Now(), &err)
	}
	return m.Store.Save(ctx, key, rec)
}

func (m *Manager) storeDelete(ctx context.Context, key string) (err error) {
	if m.Observer != nil {
		defer m.observe(ctx, OpDelete, time.Now(), &err)
	}
	return m.Store.Delete(ctx, key)
}

func (m *Manager) storeTouch(ctx context.Context, t Toucher, key string, expiry time.Time) (err error) {
	if m.Observer != nil {
		defer m.observe(ctx, OpTouch, time.Now(), &err)
	}
	return t.Touch(ctx, key, expiry)
}

// observe reports a store call that started at start to the Observer;
// callers defer it only when there is one, so that no clock is read on a
// request's path otherwise.
func (m *Manager) observe(ctx context.Context, op StoreOp, start time.Time, err *error) {
	m.Observer.StoreCall(ctx, op, time.Since(start), *err)
}

// event reports e to the Observer, if any.
func (m *Manager) event(ctx context.Context, e Event) {
	if m.Observer != nil {
		m.Observer.Event(ctx, e)
	}
}
