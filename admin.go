package session

import (
	"context"
	"fmt"
	"time"
)

// Info describes a stored session without its values.
type Info struct {
	// Key is the store key (the hashed ID unless the manager uses raw IDs).
	Key string
	// Owner is the session's owner, or "".
	Owner string
	// Created, Modified and Expiry are the record's times.
	Created, Modified, Expiry time.Time
	// Size is the size of the encoded data in bytes.
	Size int
}

func infoOf(key string, rec Record) Info {
	return Info{Key: key, Owner: rec.Owner, Created: rec.Created, Modified: rec.Modified, Expiry: rec.Expiry, Size: len(rec.Data)}
}

// Iterate calls fn for each live session until fn returns false. It fails
// with ErrUnsupported when the store is not an [Iterator].
func (m *Manager) Iterate(ctx context.Context, fn func(Info) bool) error {
	it, ok := m.Store.(Iterator)
	if !ok {
		return fmt.Errorf("session: store %T cannot list sessions: %w", m.Store, ErrUnsupported)
	}
	return it.Iterate(ctx, func(key string, rec Record) bool { return fn(infoOf(key, rec)) })
}

// Inspect returns the stored session under key, with its decoded values, for
// administration tools. The manager's own lifecycle metadata (links between
// the IDs of a Renew) is never among them.
func (m *Manager) Inspect(ctx context.Context, key string) (Info, map[string]any, error) {
	if err := m.init(); err != nil {
		return Info{}, nil, err
	}
	rec, err := m.storeLoad(ctx, key)
	if err != nil {
		return Info{}, nil, fmt.Errorf("session: inspect: %w", err)
	}
	cur, err := m.decodeStored(key, rec, time.Time{})
	if err != nil {
		return infoOf(key, rec), nil, fmt.Errorf("session: inspect: %w", err)
	}
	return infoOf(key, rec), cur.values, nil
}

// DestroyKey deletes the session stored under key (an administrator's
// action), with every ID linked to it by Renew. Its IDs are dead at once.
func (m *Manager) DestroyKey(ctx context.Context, key string) error {
	if err := m.init(); err != nil {
		return err
	}
	return m.destroyChain(ctx, []string{key}, "", EventDestroyed)
}

// KeyOf returns the store key of a session ID: its SHA-256 in hex, or the ID
// itself when the manager uses raw IDs.
func (m *Manager) KeyOf(id string) string { return m.key(id) }
