package session

import (
	"context"
	"time"
)

// The manager's calls to its store, timed and reported to the Observer.

func (m *Manager) storeLoad(ctx context.Context, key string) (Record, error) {
	if m.Observer == nil {
		return m.Store.Load(ctx, key)
	}
	t := time.Now()
	rec, err := m.Store.Load(ctx, key)
	m.Observer.StoreCall(ctx, OpLoad, time.Since(t), err)
	return rec, err
}

func (m *Manager) storeSave(ctx context.Context, key string, rec Record) (uint64, error) {
	if m.Observer == nil {
		return m.Store.Save(ctx, key, rec)
	}
	t := time.Now()
	v, err := m.Store.Save(ctx, key, rec)
	m.Observer.StoreCall(ctx, OpSave, time.Since(t), err)
	return v, err
}

func (m *Manager) storeDelete(ctx context.Context, key string) error {
	if m.Observer == nil {
		return m.Store.Delete(ctx, key)
	}
	t := time.Now()
	err := m.Store.Delete(ctx, key)
	m.Observer.StoreCall(ctx, OpDelete, time.Since(t), err)
	return err
}

func (m *Manager) storeTouch(ctx context.Context, t Toucher, key string, expiry time.Time) error {
	if m.Observer == nil {
		return t.Touch(ctx, key, expiry)
	}
	start := time.Now()
	err := t.Touch(ctx, key, expiry)
	m.Observer.StoreCall(ctx, OpTouch, time.Since(start), err)
	return err
}

// event reports e to the Observer, if any.
func (m *Manager) event(ctx context.Context, e Event) {
	if m.Observer != nil {
		m.Observer.Event(ctx, e)
	}
}
