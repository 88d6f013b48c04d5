package session

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// renewedKey marks the record of an ID retired by Renew: it lives only
// until its grace period ends and is never extended.
const renewedKey = reservedPrefix + "renewed"

// commit saves what the request changed and sets the cookie when the
// headers have not gone out yet. It is called before the headers are sent
// and again when the handler returns.
func (st *requestState) commit(ctx context.Context) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.sess
	if s == nil {
		return nil // never loaded: no store call at all
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.destroyed:
		return st.commitDestroy(ctx, s)
	case len(s.ops) > 0:
		return st.commitChanges(ctx, s)
	default:
		return st.commitTouch(ctx, s)
	}
}

func (st *requestState) setCookie(c *http.Cookie) {
	if st.headersSent() {
		return
	}
	h := st.w.Header()
	// Replace a cookie set earlier in this request rather than add a second.
	h.Del("Set-Cookie")
	http.SetCookie(st.w, c)
}

func (st *requestState) commitDestroy(ctx context.Context, s *Session) error {
	m := st.m
	for _, key := range []string{s.renewedFrom, s.keyIfStored()} {
		if key == "" {
			continue
		}
		if err := m.Store.Delete(ctx, key); err != nil {
			return fmt.Errorf("session: destroy: %w", err)
		}
	}
	s.renewedFrom = ""
	s.isNew = true
	if st.cookieID != "" {
		st.setCookie(m.expiredCookie())
	}
	return nil
}

// keyIfStored returns the session's key when a record may exist under it.
func (s *Session) keyIfStored() string {
	if s.isNew {
		return ""
	}
	return s.key
}

// graceUntil returns the fixed expiry of a record retired by Renew, or the
// zero time.
func (s *Session) graceUntil() time.Time {
	if b, _ := s.values[renewedKey].(bool); b {
		return s.rec.Expiry
	}
	return time.Time{}
}

func (st *requestState) expiryFor(s *Session, now time.Time) time.Time {
	exp := st.m.expiry(s.rec.Created, now)
	if g := s.graceUntil(); !g.IsZero() && g.Before(exp) {
		exp = g
	}
	return exp
}

// commitTouch pushes the idle expiry of an unchanged session when the last
// push is older than the touch interval.
func (st *requestState) commitTouch(ctx context.Context, s *Session) error {
	m := st.m
	now := m.Now()
	if s.isNew || s.touched || !s.graceUntil().IsZero() || now.Sub(s.rec.Modified) < m.TouchInterval {
		return nil
	}
	exp := st.expiryFor(s, now)
	if t, ok := m.Store.(Toucher); ok {
		if err := t.Touch(ctx, s.key, exp); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil // destroyed or expired meanwhile: nothing to keep alive
			}
			return fmt.Errorf("session: touch: %w", err)
		}
	} else {
		data, err := m.encode(s.key, s.values)
		if err != nil {
			return fmt.Errorf("session: encode: %w", err)
		}
		rec := s.rec
		rec.Data, rec.Expiry = data, exp
		v, err := m.Store.Save(ctx, s.key, rec)
		switch {
		case errors.Is(err, ErrConflict):
			return nil // another request saved it, which pushed the expiry
		case err != nil:
			return fmt.Errorf("session: touch: %w", err)
		}
		s.rec.Version = v
	}
	s.touched = true
	s.rec.Modified, s.rec.Expiry = now, exp
	if s.persist() {
		st.setCookie(m.cookie(s.id, exp, true))
	}
	return nil
}

// commitChanges saves the session with compare-and-set, re-applying this
// request's changes on the fresh record after a conflict.
func (st *requestState) commitChanges(ctx context.Context, s *Session) error {
	m := st.m
	unconditional := IsUnconditional(m.Store)
	if !s.isNew {
		// Saves of one session within this process take turns, so that
		// requests racing here conflict at most once each; conflicts
		// with other processes are retried with a random backoff.
		mu := m.saveLock(s.key)
		mu.Lock()
		defer mu.Unlock()
	}
	for attempt := 0; ; attempt++ {
		now := m.Now()
		data, err := m.encode(s.key, s.values)
		if err != nil {
			return fmt.Errorf("session: encode: %w", err)
		}
		if len(data) > m.MaxSize {
			return fmt.Errorf("session: encoded session of %d bytes is over MaxSize %d: %w", len(data), m.MaxSize, ErrTooLarge)
		}
		if s.rec.Created.IsZero() {
			s.rec.Created = now
		}
		rec := Record{
			Data:    data,
			Expiry:  st.expiryFor(s, now),
			Version: s.rec.Version,
			Owner:   s.rec.Owner,
			Created: s.rec.Created,
		}
		if s.isNew {
			rec.Version = 0
		}
		v, err := m.Store.Save(ctx, s.key, rec)
		if err == nil {
			wasNew := s.isNew
			s.rec = rec
			s.rec.Data = nil
			s.rec.Version, s.rec.Modified = v, now
			s.isNew, s.ops, s.touched = false, nil, true
			if wasNew || s.cookieChanged || s.persist() {
				st.setCookie(m.cookie(s.id, rec.Expiry, s.persist()))
				s.cookieChanged = false
			}
			return st.retireRenewed(ctx, s, now)
		}
		if !errors.Is(err, ErrConflict) || unconditional || attempt >= m.MaxRetries {
			return fmt.Errorf("session: save: %w", err)
		}
		if s.isNew {
			// The new ID collided with a stored one: draw another.
			s.id = m.ids.generate()
			s.key = m.key(s.id)
			continue
		}
		if err := st.reload(ctx, s); err != nil {
			return err
		}
		if s.destroyed {
			return nil
		}
		// The first conflict is this process's own staleness (the record
		// was loaded before the save lock was taken) and the reload under
		// the lock resolved it: retry at once. Later conflicts come from
		// other processes: back off so as not to collide in lock step.
		if attempt > 0 {
			if err := backoff(ctx, attempt-1); err != nil {
				return fmt.Errorf("session: save: %w", err)
			}
		}
	}
}

// reload replaces the session's values and metadata with the stored ones
// and applies this request's changes again.
func (st *requestState) reload(ctx context.Context, s *Session) error {
	m := st.m
	rec, err := m.Store.Load(ctx, s.key)
	if errors.Is(err, ErrNotFound) {
		// Destroyed by another request (a logout elsewhere): this
		// request's changes must not bring it back.
		m.Logger.Info("session: destroyed by another request; changes dropped")
		s.destroyed, s.ops, s.values, s.isNew = true, nil, newValues(), true
		if st.cookieID != "" {
			st.setCookie(m.expiredCookie())
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: reload after conflict: %w", err)
	}
	values, err := m.decode(s.key, rec.Data)
	if err != nil {
		return fmt.Errorf("session: reload after conflict: %w", err)
	}
	rec.Data = nil
	s.rec, s.values = rec, values
	for _, o := range s.ops {
		o(s.values, &s.rec)
	}
	return nil
}

// retireRenewed ends the ID a session had before Renew: it keeps the data
// for the grace period, marked so that it is never extended, or deletes it.
func (st *requestState) retireRenewed(ctx context.Context, s *Session, now time.Time) error {
	if s.renewedFrom == "" {
		return nil
	}
	m := st.m
	old, version := s.renewedFrom, s.renewedVersion
	s.renewedFrom = ""
	if m.RenewGrace > 0 {
		values := make(map[string]any, len(s.values)+1)
		for k, v := range s.values {
			values[k] = v
		}
		values[renewedKey] = true
		data, err := m.encode(old, values)
		if err == nil {
			rec := Record{Data: data, Expiry: now.Add(m.RenewGrace), Version: version, Created: s.rec.Created}
			if _, err = m.Store.Save(ctx, old, rec); err == nil {
				return nil
			}
		}
		// Another request changed the old record meanwhile: end it now.
	}
	if err := m.Store.Delete(ctx, old); err != nil {
		return fmt.Errorf("session: retire renewed ID: %w", err)
	}
	return nil
}

// saveLock returns the in-process lock that saves of key take.
func (m *Manager) saveLock(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &m.saveLocks[h.Sum32()%uint32(len(m.saveLocks))]
}

// backoff waits a short random time before retry attempt+1, so that
// requests racing on one session do not collide again in lock step.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 6)
	t := time.NewTimer(rand.N(limit) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
