package session

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

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
	if len(s.deadKeys) > 0 {
		if err := st.deleteDead(ctx, s); err != nil {
			return err
		}
	}
	switch {
	case s.destroyed:
		return nil
	case len(s.ops) == 0:
		return st.commitTouch(ctx, s)
	case s.renew != nil:
		return st.commitRenew(ctx, s)
	case s.isNew:
		return st.saveNew(ctx, s, EventCreated)
	case s.meta.retired:
		return st.commitRedirect(ctx, s)
	default:
		return st.commitJoined(ctx, s)
	}
}

// deleteDead deletes the records of a destroyed session and of every ID
// linked to it by Renew, and expires the cookie.
func (st *requestState) deleteDead(ctx context.Context, s *Session) error {
	m := st.m
	for len(s.deadKeys) > 0 {
		if err := m.storeDelete(ctx, s.deadKeys[0]); err != nil {
			return fmt.Errorf("session: destroy: %w", err)
		}
		s.deadKeys = s.deadKeys[1:]
	}
	m.event(ctx, EventDestroyed)
	if st.cookieID != "" {
		st.revoke()
	}
	return nil
}

// encodeChecked encodes a session and checks it against MaxSize.
func (st *requestState) encodeChecked(key string, values map[string]any, mt meta) ([]byte, error) {
	data, err := st.m.encodeSession(key, values, mt)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	if len(data) > st.m.MaxSize {
		return nil, fmt.Errorf("session: encoded session of %d bytes is over MaxSize %d: %w", len(data), st.m.MaxSize, ErrTooLarge)
	}
	return data, nil
}

// saved records a successful save of rec at version v.
func (st *requestState) saved(s *Session, rec Record, v uint64, now time.Time, newID bool) {
	s.loadedData = rec.Data
	s.rec = rec
	s.rec.Data = nil
	s.rec.Version, s.rec.Modified = v, now
	s.isNew, s.ops, s.touched = false, nil, true
	if newID || s.cookieChanged || s.persist() {
		st.issue(s.id, rec.Expiry, s.persist())
		s.cookieChanged = false
	}
}

// commitTouch pushes the idle expiry of an unchanged session when the last
// push is older than the touch interval and the expiry would move.
func (st *requestState) commitTouch(ctx context.Context, s *Session) error {
	m := st.m
	now := m.Now()
	if s.isNew || s.touched || s.meta.retired || now.Sub(s.rec.Modified) < m.TouchInterval {
		return nil
	}
	exp := m.expiry(s.rec.Created, now)
	if !exp.After(s.rec.Expiry) {
		return nil // no idle timeout, or nothing gained: no write
	}
	if t, ok := m.Store.(Toucher); ok {
		if err := m.storeTouch(ctx, t, s.key, exp); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil // destroyed or expired meanwhile: nothing to keep alive
			}
			return fmt.Errorf("session: touch: %w", err)
		}
	} else {
		data, err := m.encodeSession(s.key, s.values, s.meta)
		if err != nil {
			return fmt.Errorf("session: encode: %w", err)
		}
		rec := s.rec
		rec.Data, rec.Expiry = data, exp
		v, err := m.storeSave(ctx, s.key, rec)
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
		st.issue(s.id, exp, true)
	}
	return nil
}

// saveNew stores a session under a new ID. ev is the event it reports
// (EventCreated, or EventRenewed for the ID Renew made).
func (st *requestState) saveNew(ctx context.Context, s *Session, ev Event) error {
	m := st.m
	now := m.Now()
	if s.rec.Created.IsZero() {
		s.rec.Created = now
	}
	for attempt := 0; ; attempt++ {
		data, err := st.encodeChecked(s.key, s.values, s.meta)
		if err != nil {
			return err
		}
		rec := Record{Data: data, Expiry: m.expiry(s.rec.Created, now), Owner: s.rec.Owner, Created: s.rec.Created}
		v, err := m.storeSave(ctx, s.key, rec)
		if err == nil {
			st.saved(s, rec, v, now, true)
			m.event(ctx, ev)
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= 3 {
			return fmt.Errorf("session: save: %w", err)
		}
		// The new ID collided with a stored one: draw another.
		s.id = m.ids.generate()
		s.key = m.key(s.id)
	}
}

// turn holds the in-process turn of one store key for a save.
type turn struct {
	m      *Manager
	key    string
	unlock func()
}

func (st *requestState) take(ctx context.Context, key string) (*turn, error) {
	unlock, err := st.m.locks.lock(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("session: save: waiting for another save of this session: %w", err)
	}
	return &turn{m: st.m, key: key, unlock: unlock}, nil
}

// release gives the turn up; it is safe to call more than once.
func (t *turn) release() {
	if t != nil && t.unlock != nil {
		t.unlock()
		t.unlock = nil
	}
}

// pause backs off before retry attempt+1 without holding the turn, so
// that other saves of the key, and requests racing from other processes, go
// on meanwhile. The first retry does not wait: the reload under the turn
// resolves conflicts within this process.
func (t *turn) pause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	t.release()
	if err := backoff(ctx, attempt-1); err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	unlock, err := t.m.locks.lock(ctx, t.key)
	if err != nil {
		return fmt.Errorf("session: save: %w", err)
	}
	t.unlock = unlock
	return nil
}

// commitChanges saves the session with compare-and-set, re-applying this
// request's changes on the fresh record after a conflict. The caller holds
// the key's turn t (pause may give it up and take it again) and s.mu.
func (st *requestState) commitChanges(ctx context.Context, s *Session, t *turn) error {
	m := st.m
	unconditional := IsUnconditional(m.Store)
	for attempt := 0; ; attempt++ {
		now := m.Now()
		data, err := st.encodeChecked(s.key, s.values, s.meta)
		if err != nil {
			return err
		}
		rec := Record{Data: data, Expiry: m.expiry(s.rec.Created, now), Version: s.rec.Version, Owner: s.rec.Owner, Created: s.rec.Created}
		v, err := m.storeSave(ctx, s.key, rec)
		if err == nil {
			st.saved(s, rec, v, now, false)
			return nil
		}
		if !errors.Is(err, ErrConflict) || unconditional || attempt >= m.MaxRetries {
			return fmt.Errorf("session: save: %w", err)
		}
		m.event(ctx, EventConflict)
		if err := t.pause(ctx, attempt); err != nil {
			return err
		}
		m.event(ctx, EventRetry)
		fresh, err := st.reload(ctx, s, s.key)
		if err != nil || fresh == nil {
			return err // nil: destroyed by another request
		}
		if fresh.meta.retired {
			// Renewed meanwhile by another request (a login): this
			// request's changes go to the renewed session, and this
			// request keeps its own view.
			t.release()
			s.meta.retired, s.meta.successor = true, fresh.meta.successor
			return st.commitRedirect(ctx, s)
		}
		s.values, s.rec, s.meta, s.loadedData = fresh.values, fresh.rec, fresh.meta, fresh.data
	}
}

// loaded is a record read again after a conflict.
type loaded struct {
	values map[string]any
	rec    Record // Data unused
	meta   meta
	data   []byte
}

func (l *loaded) draft() draft { return draft{values: l.values, rec: &l.rec, meta: &l.meta} }

// reload reads the record under key again and, unless it is an ID retired
// by Renew, applies this request's changes to it. It returns nil when the
// record is gone (destroyed by another request: a logout elsewhere), after
// marking the session destroyed so that this request's changes do not
// bring it back.
func (st *requestState) reload(ctx context.Context, s *Session, key string) (*loaded, error) {
	m := st.m
	rec, err := m.storeLoad(ctx, key)
	if errors.Is(err, ErrNotFound) {
		m.Logger.Info("session: destroyed by another request; changes dropped")
		s.destroyed, s.ops, s.values, s.isNew, s.meta, s.renew = true, nil, newValues(), true, meta{}, nil
		if st.cookieID != "" {
			st.revoke()
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: reload after conflict: %w", err)
	}
	values, mt, err := m.decodeSession(key, rec.Data)
	if err != nil {
		return nil, fmt.Errorf("session: reload after conflict: %w", err)
	}
	l := &loaded{values: values, rec: rec, meta: mt, data: rec.Data}
	l.rec.Data = nil
	if l.rec.Created.IsZero() {
		// Written by another system (PHP keeps no creation time): keep
		// the creation time this request gave it at load.
		l.rec.Created = s.rec.Created
		if l.rec.Created.IsZero() {
			l.rec.Created = m.Now()
		}
	}
	if !mt.retired {
		s.replayOn(l.draft(), 0)
	}
	return l, nil
}

// replayOn applies the changes of this request from the from-th on to d,
// in order, without the session's lock held (an Update function may read
// the session), then the changes other goroutines of the request made
// meanwhile. The caller holds s.mu.
func (s *Session) replayOn(d draft, from int) {
	for n := from; n < len(s.ops); {
		ops := s.ops[n:len(s.ops):len(s.ops)]
		n = len(s.ops)
		s.mu.Unlock()
		for _, o := range ops {
			o(d)
		}
		s.mu.Lock()
	}
}

// commitRenew saves a session under the ID Renew gave it. The old ID is
// retired first (a compare-and-set that marks it read-only with a fixed
// expiry and a link to the new key), so that every write acknowledged on
// the old ID before then is in the data the new ID starts from, and every
// write on the old ID after then goes to the new ID.
func (st *requestState) commitRenew(ctx context.Context, s *Session) error {
	m := st.m
	r := s.renew
	var retiredVersion uint64
	if !r.retired {
		// Fail before the old ID is touched when the renewed session
		// cannot be saved at all.
		if _, err := st.encodeChecked(s.key, s.values, s.meta); err != nil {
			return err
		}
		v, gone, err := st.retire(ctx, s)
		if err != nil || gone {
			return err
		}
		retiredVersion = v
	}
	if err := st.saveNew(ctx, s, EventRenewed); err != nil {
		if retiredVersion != 0 {
			st.unretire(ctx, r, retiredVersion)
		}
		return err
	}
	s.renew = nil
	if m.RenewGrace < 0 && !r.retired {
		if err := m.storeDelete(ctx, r.key); err != nil {
			return fmt.Errorf("session: renew: delete the old ID: %w", err)
		}
	}
	return nil
}

// retire marks the old ID of a renewal as retired. It reports gone when
// the session was destroyed meanwhile by another request.
func (st *requestState) retire(ctx context.Context, s *Session) (version uint64, gone bool, err error) {
	m := st.m
	r := s.renew
	t, err := st.take(ctx, r.key)
	if err != nil {
		return 0, false, err
	}
	defer t.release()
	grace := m.RenewGrace
	if grace <= 0 {
		grace = 5 * time.Second // deleted as soon as the new ID is stored
	}
	for attempt := 0; ; attempt++ {
		now := m.Now()
		values, mt, err := m.decodeSession(r.key, r.data)
		if err != nil {
			return 0, false, fmt.Errorf("session: renew: %w", err)
		}
		mt.retired, mt.successor = true, s.key
		data, err := m.encodeSession(r.key, values, mt)
		if err != nil {
			return 0, false, fmt.Errorf("session: renew: %w", err)
		}
		exp := now.Add(grace)
		if r.rec.Expiry.Before(exp) {
			exp = r.rec.Expiry
		}
		rec := Record{Data: data, Expiry: exp, Version: r.rec.Version, Owner: r.rec.Owner, Created: r.rec.Created}
		v, err := m.storeSave(ctx, r.key, rec)
		if err == nil {
			return v, false, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= m.MaxRetries {
			return 0, false, fmt.Errorf("session: renew: retire the old ID: %w", err)
		}
		m.event(ctx, EventConflict)
		if err := t.pause(ctx, attempt); err != nil {
			return 0, false, err
		}
		fresh, err := st.reload(ctx, s, r.key)
		if err != nil || fresh == nil {
			return 0, false, err
		}
		if fresh.meta.retired {
			// Another request renewed it first (a double-submitted
			// login): this one makes a normal session of its own.
			r.retired = true
			return 0, false, nil
		}
		// Written meanwhile through the old ID: start the new ID from
		// that, with this request's changes applied again.
		r.rec, r.data = fresh.rec, fresh.data
		s.values, s.rec = fresh.values, fresh.rec
		s.meta = meta{persist: fresh.meta.persist}
		if !m.RawIDs {
			s.meta.ancestor = r.key
		}
	}
}

// unretire puts back the old ID of a renewal whose new ID could not be
// stored, so that the user keeps the session. It is best effort.
func (st *requestState) unretire(ctx context.Context, r *renewal, version uint64) {
	rec := r.rec
	rec.Data, rec.Version = r.data, version
	if _, err := st.m.storeSave(ctx, r.key, rec); err != nil {
		st.m.Logger.Error("session: renew failed and the old ID could not be restored", "err", err)
	}
}

// commitRedirect saves the changes of a request that carries an ID retired
// by Renew: they go to the renewed session (the ID's successor), applied on
// its latest record, while this request keeps its own view of the data.
func (st *requestState) commitRedirect(ctx context.Context, s *Session) error {
	m := st.m
	target := s.meta.successor
	if target == "" {
		return fmt.Errorf("session: save: the session ID was renewed and has no successor: %w", ErrConflict)
	}
	t, err := st.take(ctx, target)
	if err != nil {
		return err
	}
	defer func() { t.release() }()
	for attempt := 0; ; attempt++ {
		if err := t.pause(ctx, attempt); err != nil {
			return err
		}
		rec, err := m.storeLoad(ctx, target)
		if errors.Is(err, ErrNotFound) {
			if attempt >= m.MaxRetries {
				return fmt.Errorf("session: save: the renewed session is gone: %w", err)
			}
			continue // the renewal may be storing it right now
		}
		if err != nil {
			return fmt.Errorf("session: save: %w", err)
		}
		values, mt, err := m.decodeSession(target, rec.Data)
		if err != nil {
			return fmt.Errorf("session: save: %w", err)
		}
		if mt.retired && mt.successor != "" {
			// Renewed again since: follow the link.
			t.release()
			target = mt.successor
			if t, err = st.take(ctx, target); err != nil {
				return err
			}
			continue
		}
		rec.Data = nil
		now := m.Now()
		if rec.Created.IsZero() {
			rec.Created = now // written by another system (PHP)
		}
		s.replayOn(draft{values: values, rec: &rec, meta: &mt}, 0)
		data, err := st.encodeChecked(target, values, mt)
		if err != nil {
			return err
		}
		out := Record{Data: data, Expiry: m.expiry(rec.Created, now), Version: rec.Version, Owner: rec.Owner, Created: rec.Created}
		_, err = m.storeSave(ctx, target, out)
		if err == nil {
			s.ops = nil
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= m.MaxRetries {
			return fmt.Errorf("session: save: %w", err)
		}
		m.event(ctx, EventConflict)
	}
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
