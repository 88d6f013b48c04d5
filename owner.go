package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// OwnerSessions lists the live sessions of owner, most recently used first,
// through the store's owner index. Owners are compared exactly, byte for
// byte. It fails with ErrUnsupported when the store has no [OwnerIndex].
func (m *Manager) OwnerSessions(ctx context.Context, owner string) ([]Info, error) {
	var infos []Info
	err := m.ownerRecords(ctx, owner, func(k string, rec Record, _ meta) error {
		infos = append(infos, infoOf(k, rec))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("session: owner sessions: %w", err)
	}
	slices.SortFunc(infos, func(a, b Info) int { return b.Modified.Compare(a.Modified) })
	return infos, nil
}

// DestroyOwnerSessions destroys every session of owner except the one
// stored under keepKey ("" keeps none) and returns how many it destroyed.
// Pass the current session's [Session.Key] to log out a user's other
// devices. Each session ends with every ID linked to it by Renew. Owners
// are compared exactly: each record's owner is checked before it is
// deleted, whatever the store's index returned.
func (m *Manager) DestroyOwnerSessions(ctx context.Context, owner, keepKey string) (int, error) {
	n := 0
	err := m.ownerRecords(ctx, owner, func(k string, _ Record, _ meta) error {
		if k == keepKey {
			return nil
		}
		if err := m.destroyChain(ctx, []string{k}, keepKey, EventOwnerDestroyed); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("session: destroy owner sessions: %w", err)
	}
	return n, nil
}

// ownerRecords calls fn for each live session of owner found through the
// store's owner index whose stored owner is exactly owner, passing over
// IDs retired by Renew.
func (m *Manager) ownerRecords(ctx context.Context, owner string, fn func(key string, rec Record, mt meta) error) error {
	if err := m.init(); err != nil {
		return err
	}
	oi, ok := m.Store.(OwnerIndex)
	if !ok {
		return fmt.Errorf("store %T has no owner index: %w", m.Store, ErrUnsupported)
	}
	keys, err := oi.OwnerKeys(ctx, owner)
	if err != nil {
		return err
	}
	for _, k := range keys {
		rec, err := m.storeLoad(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if rec.Owner != owner {
			continue // the index is not exact (a collation): not this owner
		}
		var mt meta
		if cur, err := m.decodeStored(k, rec, time.Time{}); err == nil {
			if cur.meta.retired || cur.meta.ended {
				continue // an ID retired by Renew, in its grace period, or destroyed
			}
			mt = cur.meta
		}
		if err := fn(k, rec, mt); err != nil {
			return err
		}
	}
	return nil
}
