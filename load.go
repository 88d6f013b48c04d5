package session

import (
	"context"
	"errors"
	"fmt"
)

// Load returns the request's session, reading it from the store on the
// first call of the request (one round trip when the request carries a
// session cookie, none otherwise). Later calls return the same Session.
//
// A missing, malformed or unknown session cookie gives a fresh, empty
// session with a new ID: an ID chosen by a client is never adopted. A record
// that cannot be decoded is logged and also gives a fresh session; the
// record itself is left untouched.
func (m *Manager) Load(ctx context.Context) (*Session, error) {
	st, ok := ctx.Value(ctxKey{m}).(*requestState)
	if !ok {
		return nil, ErrNoSession
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sess != nil {
		return st.sess, nil
	}
	s, err := m.load(ctx, st)
	if err != nil {
		return nil, err
	}
	st.sess = s
	return s, nil
}

func (m *Manager) load(ctx context.Context, st *requestState) (*Session, error) {
	now := m.Now()
	s := &Session{state: st}
	if st.cookieID != "" {
		key := m.key(st.cookieID)
		cur, err := m.loadStored(ctx, key, now)
		switch {
		case err == nil:
			if !now.Before(cur.rec.Created.Add(m.Lifetime)) || cur.meta.link != "" || cur.meta.ended {
				break // past its absolute lifetime, a link record, or destroyed: never a session
			}
			s.id, s.key, s.base, s.values, s.meta, s.owner = st.cookieID, key, cur.rec, cur.values, cur.meta, cur.rec.Owner
			return s, nil
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrDecode):
			// A record that cannot be read or decoded: a fresh session
			// rather than an error on every request until it expires.
			// The record itself is left as it is.
			m.Logger.Error("session: stored record cannot be decoded; starting a fresh session", "err", err)
			m.event(ctx, EventDecodeError)
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidKey):
			// Unknown, or an ID the store cannot even hold (longer than
			// its key column): a fresh session, never an error the
			// client could provoke.
		default:
			return nil, fmt.Errorf("session: load: %w", err)
		}
	}
	s.id = m.ids.generate()
	s.key = m.key(s.id)
	s.isNew = true
	s.values = newValues()
	s.base.Created = now
	return s, nil
}
