package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// OwnerSessions lists the live sessions of owner, most recently used first,
// through the store's owner index. It fails with ErrUnsupported when the
// store has no [OwnerIndex].
func (m *Manager) OwnerSessions(ctx context.Context, owner string) ([]Info, error) {
	if err := m.init(); err != nil {
		return nil, err
	}
	oi, ok := m.Store.(OwnerIndex)
	if !ok {
		return nil, fmt.Errorf("session: store %T has no owner index: %w", m.Store, ErrUnsupported)
	}
	keys, err := oi.OwnerKeys(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("session: owner sessions: %w", err)
	}
	infos := make([]Info, 0, len(keys))
	for _, k := range keys {
		rec, err := m.Store.Load(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("session: owner sessions: %w", err)
		}
		if rec.Owner != owner {
			continue
		}
		if values, err := m.decode(k, rec.Data); err == nil {
			if b, _ := values[retiredKey].(bool); b {
				continue // an ID retired by Renew, in its grace period
			}
		}
		infos = append(infos, infoOf(k, rec))
	}
	slices.SortFunc(infos, func(a, b Info) int { return b.Modified.Compare(a.Modified) })
	return infos, nil
}

// DestroyOwnerSessions destroys every session of owner except the one
// stored under keepKey ("" keeps none) and returns how many it destroyed.
// Pass the current session's [Session.Key] to log out a user's other
// devices.
func (m *Manager) DestroyOwnerSessions(ctx context.Context, owner, keepKey string) (int, error) {
	if err := m.init(); err != nil {
		return 0, err
	}
	oi, ok := m.Store.(OwnerIndex)
	if !ok {
		return 0, fmt.Errorf("session: store %T has no owner index: %w", m.Store, ErrUnsupported)
	}
	keys, err := oi.OwnerKeys(ctx, owner)
	if err != nil {
		return 0, fmt.Errorf("session: destroy owner sessions: %w", err)
	}
	n := 0
	for _, k := range keys {
		if k == keepKey {
			continue
		}
		if err := m.Store.Delete(ctx, k); err != nil {
			return n, fmt.Errorf("session: destroy owner sessions: %w", err)
		}
		n++
	}
	return n, nil
}
