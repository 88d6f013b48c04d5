package session

// The save engine: every change to a stored session goes through this file.
//
// A request's commit (before its response starts, and again when its
// handler returns) takes one of these paths, all built on the same parts:
//
//	destroy   delete every ID of the session's Renew chain        destroyChain
//	touch     push the idle expiry of an unchanged session         commitTouch → cas
//	new       store a new session under a fresh ID                 saveNew → cas
//	renew     retire the old ID, then store the new one            commitRenew → retire → cas, saveNew
//	change    save this request's changes (combined with others)   saveChanges → lead → cas
//	redirect  a change through a retired ID goes to its successor  saveChanges (redirect) → lead → cas
//
// The parts:
//
//   - One loader (loadStored) turns a store record into a stored value:
//     decoded values, lifecycle metadata, and PHP's missing creation time.
//   - One turn per store key in this process (turns). Change saves queue
//     behind it; the request whose turn it is (the leader) writes the
//     changes of every change save queued for the key, in arrival order,
//     with one compare-and-set. A retirement, and the end mark a destroy
//     puts on each record, take the turn alone. Waiting honours the
//     request's context; other keys never wait.
//   - One compare-and-set loop (cas): build the state to store on the
//     current one, save it if the version still matches, and on a conflict
//     reload and build again, at most MaxRetries times, with backoff. It
//     alone reports EventConflict and EventRetry.
//   - User code (Update functions, replays, value comparisons, codecs)
//     runs under protect: a panic fails its own request with an error
//     wrapping the panic value, and the engine goes on for everyone else.
//
// Lock order: requestState.mu, then Session.mu, then a key's turn.
// turns.mu is held only to change a queue, never while calling a store or
// user code. A request releases its Session.mu while it waits for a turn
// and while replays run, since an Update function may read the session and
// a leader reads other requests' changes under their own Session.mu.
//
// Invariants:
//
//   - A request reports success only when the write holding its change
//     was stored; when its context ended while that write was in flight,
//     it reports ErrCommitUnknown, and its changes are not saved again.
//   - Replays judge "the value this request saw" by value (sameValue).
//   - A retired ID is read-only: its record keeps the data, owner and
//     expiry it had before the Renew, and changes through it go to the
//     renewed session, while the request keeps its own view.
//   - A destroyed chain stays destroyed: a change that finds its record
//     gone is dropped and the client's ID revoked, at once.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// stored is one version of a session as the store holds it.
type stored struct {
	values map[string]any // user values (reserved keys split off into meta)
	meta   meta
	rec    Record // as stored, Data included
}

// clone returns a copy that changes can be applied to without touching s.
func (s *stored) clone() *stored {
	c := *s
	c.values = maps.Clone(s.values)
	if c.values == nil {
		c.values = newValues()
	}
	return &c
}

func (s *stored) draft() draft { return draft{values: s.values, owner: &s.rec.Owner, meta: &s.meta} }

// loadStored is the engine's one loader: it reads key and decodes it. A
// record without a creation time (written by PHP, which keeps none) gets
// created, or now when created is zero. A missing record is ErrNotFound.
func (m *Manager) loadStored(ctx context.Context, key string, created time.Time) (stored, error) {
	rec, err := m.storeLoad(ctx, key)
	if err != nil {
		return stored{}, err
	}
	return m.decodeStored(key, rec, created)
}

// reload is loadStored for the engine's loops: nil when the record is
// gone or ended by a destroy.
func (m *Manager) reload(ctx context.Context, key string, created time.Time) (*stored, error) {
	cur, err := m.loadStored(ctx, key, created)
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && cur.meta.ended:
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &cur, nil
}

// decodeStored decodes a record loaded from key (see loadStored).
func (m *Manager) decodeStored(key string, rec Record, created time.Time) (stored, error) {
	values, mt, err := m.decodeProtected(key, rec.Data)
	if err != nil {
		if !errors.Is(err, ErrDecode) {
			err = fmt.Errorf("%w: %w", ErrDecode, err)
		}
		return stored{}, err
	}
	if rec.Created.IsZero() {
		rec.Created = created
		if rec.Created.IsZero() {
			rec.Created = m.Now()
		}
	}
	return stored{values: values, meta: mt, rec: rec}, nil
}

func (m *Manager) decodeProtected(key string, data []byte) (values map[string]any, mt meta, err error) {
	defer catch(&err, "codec Decode")
	return m.decodeSession(key, data)
}

func (m *Manager) encodeProtected(key string, values map[string]any, mt meta) (data []byte, err error) {
	defer catch(&err, "codec Encode")
	return m.encodeSession(key, values, mt)
}

// encodeChecked encodes a session for key and checks it against MaxSize.
func (m *Manager) encodeChecked(key string, values map[string]any, mt meta) ([]byte, error) {
	data, err := m.encodeProtected(key, values, mt)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	if len(data) > m.MaxSize {
		return nil, fmt.Errorf("session: encoded session of %d bytes is over MaxSize %d: %w", len(data), m.MaxSize, ErrTooLarge)
	}
	return data, nil
}

// seal encodes next for key and sets its record's data and expiry.
func (m *Manager) seal(key string, next *stored, now time.Time) error {
	data, err := m.encodeChecked(key, next.values, next.meta)
	if err != nil {
		return err
	}
	next.rec.Data = data
	next.rec.Expiry = m.expiry(next.rec.Created, now)
	return nil
}

// catch, deferred around user code (codecs, Update functions, replays),
// turns a panic into an error in *err that wraps the panic value, so that
// one request's panic never takes the process down nor leaves a lock held.
func catch(err *error, what string) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("session: %s panicked: %w", what, e)
		} else {
			*err = fmt.Errorf("session: %s panicked: %v", what, r)
		}
	}
}

// Outcomes of a build that end a compare-and-set loop without a write.
var (
	errGone    = errors.New("session: record gone")    // destroyed elsewhere, or expired
	errRetired = errors.New("session: record retired") // renewed by another request
)

// cas is the engine's one compare-and-set loop. build returns the state to
// store on top of cur (nil: none stored) or nil when there is nothing to
// write; after a conflict, refresh gives the next cur (by default the
// record reloaded). It returns the state stored, with its new version.
func (m *Manager) cas(ctx context.Context, key *string, cur *stored, build func(cur *stored) (*stored, error), refresh func() (*stored, error)) (*stored, error) {
	created := time.Time{}
	if cur != nil {
		created = cur.rec.Created
	}
	for attempt := 0; ; attempt++ {
		version := uint64(0) // read first: next may be cur itself
		if cur != nil {
			version = cur.rec.Version
		}
		next, err := build(cur)
		if err != nil || next == nil {
			return nil, err
		}
		next.rec.Version = version
		v, err := m.storeSave(ctx, *key, next.rec)
		if err == nil {
			next.rec.Version = v
			next.rec.Modified = m.Now()
			return next, nil
		}
		if !errors.Is(err, ErrConflict) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("session: save: %w: %w", ErrCommitUnknown, err)
			}
			return nil, fmt.Errorf("session: save: %w", err)
		}
		if IsUnconditional(m.Store) || attempt >= m.MaxRetries {
			return nil, fmt.Errorf("session: save: %w", err)
		}
		m.event(ctx, EventConflict)
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("session: save: retrying after a conflict: %w", err)
		}
		m.event(ctx, EventRetry)
		if refresh != nil {
			cur, err = refresh()
		} else {
			cur, err = m.reload(ctx, *key, created)
		}
		if err != nil {
			return nil, fmt.Errorf("session: reload after conflict: %w", err)
		}
	}
}

// backoff waits before retry attempt+1 so that requests racing on one
// session from several processes do not collide again in lock step. The
// first retry does not wait: the turn already orders this process.
func backoff(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return ctx.Err()
	}
	limit := time.Millisecond << min(attempt-1, 6)
	t := time.NewTimer(rand.N(limit) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

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
		if err := st.m.destroyChain(ctx, s.deadKeys, "", EventDestroyed); err != nil {
			return err
		}
		s.deadKeys = nil
		if st.cookieID != "" {
			st.revoke()
		}
	}
	limit := st.m.MaxSessionsPerOwner > 0 && len(s.ops) > 0 && s.owner != "" && s.owner != s.base.Owner
	if limit && st.m.RefuseOverLimit {
		if err := st.limitOwner(ctx, s, false); err != nil {
			return err
		}
	}
	var err error
	switch {
	case s.destroyed:
	case len(s.ops) == 0:
		err = st.commitTouch(ctx, s)
	case s.renew != nil:
		err = st.commitRenew(ctx, s)
	case s.isNew:
		err = st.saveNew(ctx, s, EventCreated)
	default:
		err = st.saveChanges(ctx, s)
	}
	if err == nil && limit && !s.destroyed && s.owner != "" {
		err = st.limitOwner(ctx, s, true)
	}
	return err
}

// limitOwner keeps the live sessions of s's owner within
// MaxSessionsPerOwner. Before the save (saved false, RefuseOverLimit) it
// refuses a session that would go over the limit. After it, it counts
// again, on the store's owner index, so that concurrent logins on several
// app servers cannot together go over it: it ends the least recently used
// other sessions of the owner, or, with RefuseOverLimit, this one.
func (st *requestState) limitOwner(ctx context.Context, s *Session, saved bool) error {
	m := st.m
	var others []Info
	err := m.ownerRecords(ctx, s.owner, func(k string, rec Record, _ meta) error {
		if k != s.key {
			others = append(others, infoOf(k, rec))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("session: sessions per owner: %w", err)
	}
	excess := len(others) + 1 - m.MaxSessionsPerOwner
	switch {
	case excess <= 0:
		return nil
	case m.RefuseOverLimit:
		if saved {
			if err := m.destroyChain(ctx, []string{s.key}, "", EventEvicted); err != nil {
				return err
			}
			st.ended(s)
		}
		return fmt.Errorf("session: the owner has %d other sessions, the limit is %d: %w", len(others), m.MaxSessionsPerOwner, ErrTooManySessions)
	case !saved:
		return nil
	}
	slices.SortFunc(others, func(a, b Info) int { return a.Modified.Compare(b.Modified) })
	for _, o := range others[:excess] {
		if err := m.destroyChain(ctx, []string{o.Key}, s.key, EventEvicted); err != nil {
			return fmt.Errorf("session: sessions per owner: %w", err)
		}
	}
	return nil
}

// view is the request's session as a stored value (values not copied).
func (s *Session) view() *stored {
	rec := s.base
	rec.Owner = s.owner
	return &stored{values: s.values, meta: s.meta, rec: rec}
}

// adopt makes next, just stored, the request's base and view.
func (st *requestState) adopt(s *Session, next *stored, newID bool) {
	s.base, s.values, s.meta, s.owner = next.rec, next.values, next.meta, next.rec.Owner
	s.isNew, s.ops, s.touched = false, nil, true
	if newID || s.cookieChanged || s.persist() {
		st.issue(s.id, next.rec.Expiry, s.persist())
		s.cookieChanged = false
	}
}

// ended marks the session destroyed elsewhere (its record or its chain is
// gone): this request's changes are dropped and the client's ID revoked.
func (st *requestState) ended(s *Session) {
	st.m.Logger.Info("session: destroyed by another request; changes dropped")
	s.destroyed, s.ops, s.values, s.isNew, s.meta, s.renew, s.owner = true, nil, newValues(), true, meta{}, nil, ""
	if st.cookieID != "" {
		st.revoke()
	}
}

// commitTouch pushes the idle expiry of an unchanged session when the last
// push is older than the touch interval and the expiry would move.
func (st *requestState) commitTouch(ctx context.Context, s *Session) error {
	m := st.m
	now := m.Now()
	if s.isNew || s.touched || s.meta.retired || now.Sub(s.base.Modified) < m.TouchInterval {
		return nil
	}
	exp := m.expiry(s.base.Created, now)
	if !exp.After(s.base.Expiry) {
		return nil // no idle timeout, or nothing gained: no write
	}
	if t, ok := m.Store.(Toucher); ok {
		if err := m.storeTouch(ctx, t, s.key, exp); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil // destroyed or expired meanwhile: nothing to keep alive
			}
			return fmt.Errorf("session: touch: %w", err)
		}
		s.base.Expiry, s.base.Modified = exp, now
	} else {
		start := s.view()
		next, err := m.cas(ctx, &s.key, start, func(cur *stored) (*stored, error) {
			if cur == nil || cur.rec.Version != start.rec.Version {
				return nil, nil // saved meanwhile, which pushed the expiry; or gone
			}
			next := cur.clone()
			return next, m.seal(s.key, next, now)
		}, nil)
		if err != nil {
			return fmt.Errorf("session: touch: %w", err)
		}
		if next != nil {
			s.base = next.rec
		}
	}
	s.touched = true
	if s.persist() {
		st.issue(s.id, exp, true)
	}
	return nil
}

// saveNew stores the session under its new ID; a collision with a stored
// ID draws another. ev is the event it reports (EventCreated, or
// EventRenewed for the ID Renew made).
func (st *requestState) saveNew(ctx context.Context, s *Session, ev Event) error {
	m := st.m
	now := m.Now()
	if s.base.Created.IsZero() {
		s.base.Created = now
	}
	view := s.view()
	view.rec.Version = 0
	draws := 0
	next, err := m.cas(ctx, &s.key, nil, func(*stored) (*stored, error) {
		next := &stored{values: view.values, meta: view.meta, rec: Record{Owner: view.rec.Owner, Created: view.rec.Created}}
		return next, m.seal(s.key, next, now)
	}, func() (*stored, error) {
		if draws++; draws > 3 {
			return nil, fmt.Errorf("new IDs keep colliding: %w", ErrConflict)
		}
		s.id = m.ids.generate()
		s.key = m.key(s.id)
		return nil, nil
	})
	if err != nil {
		return err
	}
	st.adopt(s, next, true)
	if ev != 0 {
		m.event(ctx, ev)
	}
	return nil
}

// commitRenew saves a session under the ID Renew gave it, then retires the
// old ID: a compare-and-set that makes it read-only, with the data, owner
// and expiry it had, a fixed expiry and a link to the new record. The new
// record is stored first, so that the successor of a retired ID always
// exists; a write acknowledged on the old ID before its retirement is in
// the new record (the retirement conflicts, and the new record is rebuilt
// from what was written), and a write on the old ID after it goes to the
// new record.
func (st *requestState) commitRenew(ctx context.Context, s *Session) error {
	m := st.m
	r := s.renew
	if r.retired { // renewing from an ID in its grace period: a normal session
		// Unless the session was destroyed meanwhile: its data never
		// comes back, not even under a new ID.
		switch old, err := m.reload(ctx, r.key, time.Time{}); {
		case err != nil:
			return fmt.Errorf("session: renew: %w", err)
		case old == nil:
			st.ended(s)
			return nil
		}
		s.meta.ancestor = ""
		if err := st.saveNew(ctx, s, EventRenewed); err != nil {
			return err
		}
		s.renew = nil
		return nil
	}
	ops := s.ops // replayed if the old record was written meanwhile
	if err := st.saveNew(ctx, s, 0); err != nil {
		return err
	}
	linked, err := m.writeLinks(ctx, r.key, s.key, false)
	if err == nil {
		err = st.retire(ctx, s, ops)
	}
	switch {
	case errors.Is(err, errRetired):
		// Another request renewed the old ID first (a double-submitted
		// login): this one keeps a normal session of its own.
		st.abandonLinks(ctx, r.key, s.key, linked)
		s.meta.ancestor = ""
		if err := st.saveChanged(ctx, s); err != nil {
			return err
		}
	case err != nil:
		_ = m.storeDelete(ctx, s.key) // nothing links to it yet
		st.abandonLinks(ctx, r.key, s.key, linked)
		if errors.Is(err, errGone) {
			st.ended(s)
			return nil
		}
		return err
	case !linked:
		if _, err := m.writeLinks(ctx, r.key, s.key, true); err != nil {
			return err
		}
	}
	s.renew = nil
	m.event(ctx, EventRenewed)
	if m.RenewGrace < 0 {
		if err := m.destroyChain(ctx, []string{r.key}, s.key, 0); err != nil {
			return fmt.Errorf("session: renew: delete the old ID: %w", err)
		}
	}
	return nil
}

// saveChanged stores the request's view over the version it holds, the
// new record of a renewal, and sends its ID again (RememberMe's choice may
// have changed with what it was rebuilt from).
func (st *requestState) saveChanged(ctx context.Context, s *Session) error {
	next := s.view()
	next.rec.Version = s.base.Version
	if err := st.m.seal(s.key, next, st.m.Now()); err != nil {
		return err
	}
	v, err := st.m.storeSave(ctx, s.key, next.rec)
	if err != nil {
		return fmt.Errorf("session: renew: %w", err)
	}
	next.rec.Version = v
	st.adopt(s, next, true)
	return nil
}

// linkKey is where, with raw IDs, a link of a renewal is kept: away from
// the records (which PHP and the holder of an old ID can read), under a key
// no client can present (PHP refuses '_', and the manager refuses records
// holding a link). dir is "next" for the link from a retired ID to its
// successor, "prev" for the link back.
func linkKey(dir, key string) string {
	sum := sha256.Sum256([]byte("sessionkit " + dir + "\x00" + key))
	return "_sk-" + hex.EncodeToString(sum[:14])
}

// writeLinks stores, with raw IDs, the links between the retired key old
// and its successor. The forward link is inserted unless overwrite (then
// it replaces one another renewal left). It reports whether this call
// stored it. With hashed IDs the records hold the links themselves (store
// keys, the hashes of IDs, which no client can present).
func (m *Manager) writeLinks(ctx context.Context, old, successor string, overwrite bool) (bool, error) {
	if !m.RawIDs {
		return true, nil
	}
	save := func(key, to string, version uint64) error {
		data, err := m.encodeChecked(key, nil, meta{link: to})
		if err != nil {
			return err
		}
		_, err = m.storeSave(ctx, key, Record{Data: data, Expiry: m.expiry(m.Now(), m.Now()), Created: m.Now(), Version: version})
		return err
	}
	var version uint64
	if overwrite {
		if cur, err := m.storeLoad(ctx, linkKey("next", old)); err == nil {
			version = cur.Version
		}
	}
	err := save(linkKey("next", old), successor, version)
	if errors.Is(err, ErrConflict) && !overwrite {
		return false, nil // another renewal of the same ID is under way
	}
	if err == nil {
		err = save(linkKey("prev", successor), old, 0)
	}
	if err != nil {
		return false, fmt.Errorf("session: renew: link the IDs: %w", err)
	}
	return true, nil
}

// abandonLinks deletes the links of a renewal that did not retire old.
func (st *requestState) abandonLinks(ctx context.Context, old, successor string, linked bool) {
	if st.m.RawIDs && linked {
		_ = st.m.storeDelete(ctx, linkKey("next", old))
		_ = st.m.storeDelete(ctx, linkKey("prev", successor))
	}
}

// links returns the keys linked by Renew to the record of key: its
// successor (when retired) and its ancestor, "" where there is none.
func (m *Manager) links(ctx context.Context, key string, mt meta) (next, prev string, err error) {
	if !m.RawIDs {
		return mt.successor, mt.ancestor, nil
	}
	follow := func(dir string) (string, error) {
		link, err := m.loadStored(ctx, linkKey(dir, key), time.Time{})
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		return link.meta.link, err
	}
	if next, err = follow("next"); err != nil {
		return "", "", err
	}
	prev, err = follow("prev")
	return next, prev, err
}

// grace is how long a retired ID lives.
func (m *Manager) grace() time.Duration {
	if m.RenewGrace <= 0 {
		return 5 * time.Second // deleted as soon as the new ID is stored
	}
	return m.RenewGrace
}

// retire marks the old ID of a renewal as retired, under the old key's
// turn. When the old record was written meanwhile, the new record is
// rebuilt from what was written, with this request's changes applied
// again, before the retirement is tried again: nothing links to the new
// record until the retirement succeeds. It returns errGone when the
// session was destroyed meanwhile and errRetired when another request
// renewed it first.
func (st *requestState) retire(ctx context.Context, s *Session, ops []op) error {
	m := st.m
	r := s.renew
	release, err := m.turns.acquire(ctx, r.key)
	if err != nil {
		return err
	}
	defer release()
	start, err := m.decodeStored(r.key, r.base, time.Time{})
	if err != nil {
		return fmt.Errorf("session: renew: %w", err)
	}
	link := s.key
	if m.RawIDs {
		link = "" // kept away from the record: see linkKey
	}
	_, err = m.cas(ctx, &r.key, &start, func(cur *stored) (*stored, error) {
		if cur == nil {
			return nil, errGone
		}
		if cur.meta.retired {
			return nil, errRetired
		}
		next := cur.clone()
		next.meta.retired, next.meta.successor = true, link
		if exp := m.Now().Add(m.grace()); exp.Before(cur.rec.Expiry) {
			next.rec.Expiry = exp
		}
		data, err := m.encodeChecked(r.key, next.values, next.meta)
		next.rec.Data = data
		return next, err
	}, func() (*stored, error) {
		cur, err := m.reload(ctx, r.key, start.rec.Created)
		if err != nil || cur == nil || cur.meta.retired {
			return cur, err
		}
		// Written through the old ID meanwhile: the new record starts
		// from that.
		fresh := cur.clone()
		fresh.meta = meta{persist: cur.meta.persist, ancestor: s.meta.ancestor}
		s.ops = append(ops, s.ops...) // with those made while the save ran
		if err := s.replayAll(fresh); err != nil {
			return nil, err
		}
		s.values, s.owner, s.meta, s.base.Created = fresh.values, fresh.rec.Owner, fresh.meta, cur.rec.Created
		return cur, st.saveChanged(ctx, s)
	})
	return err
}

// destroyChain deletes the records under keys and every record linked to
// them by Renew, in both directions, so that a logout through any ID of a
// chain ends all of them.
// keep (if not "") is never deleted. It reports ev (if not 0): why the
// session ended.
func (m *Manager) destroyChain(ctx context.Context, keys []string, keep string, ev Event) error {
	const maxChain = 64
	seen := map[string]bool{"": true, keep: true}
	todo := append([]string(nil), keys...)
	for len(todo) > 0 && len(seen) < maxChain {
		k := todo[0]
		todo = todo[1:]
		if seen[k] {
			continue
		}
		seen[k] = true
		release, err := m.turns.acquire(ctx, k) // as every write of the key in this process
		if err != nil {
			return err
		}
		mt, err := m.endRecord(ctx, k)
		release()
		if err != nil {
			return fmt.Errorf("session: destroy: %w", err)
		}
		next, prev, err := m.links(ctx, k, mt)
		if err != nil {
			return fmt.Errorf("session: destroy: %w", err)
		}
		todo = append(todo, next, prev)
		dead := []string{k}
		if m.RawIDs {
			dead = append(dead, linkKey("next", k), linkKey("prev", k))
		}
		for _, d := range dead {
			if err := m.storeDelete(ctx, d); err != nil {
				return fmt.Errorf("session: destroy: %w", err)
			}
		}
	}
	if ev != 0 {
		m.event(ctx, ev)
	}
	return nil
}

// endRecord marks the record under key ended, with a compare-and-set on
// the version it read, and returns its lifecycle metadata, whose links the
// destroy follows. The mark is what makes a destroy and a Renew of the same
// ID at once safe: a retirement that comes first makes the mark conflict,
// and the destroy reads the link it added; a mark that comes first makes
// the retirement find the session ended. Records that cannot be read or
// are gone are passed over.
func (m *Manager) endRecord(ctx context.Context, key string) (meta, error) {
	for attempt := 0; ; attempt++ {
		rec, err := m.storeLoad(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrCorrupt), errors.Is(err, ErrDecode), errors.Is(err, ErrInvalidKey):
			return meta{}, nil
		case err != nil:
			return meta{}, err
		}
		var mt meta
		if cur, err := m.decodeStored(key, rec, time.Time{}); err == nil {
			mt = cur.meta
		}
		if mt.ended {
			return mt, nil
		}
		mark := mt
		mark.ended, mark.persist = true, nil
		data, err := m.encodeChecked(key, nil, mark)
		if err != nil {
			return mt, err
		}
		exp := m.Now().Add(5 * time.Second)
		_, err = m.storeSave(ctx, key, Record{Data: data, Expiry: earliest(exp, rec.Expiry), Version: rec.Version, Created: rec.Created})
		if err == nil || !errors.Is(err, ErrConflict) || attempt >= m.MaxRetries {
			return mt, err
		}
	}
}

// earliest returns the earlier of two times.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// replayAll applies every change of this request to d, in order, then the
// changes other goroutines of the request made meanwhile. The caller holds
// s.mu, which is released while the changes run.
func (s *Session) replayAll(d *stored) error {
	_, err := s.replayFrom(d, 0, true)
	return err
}

// replayFrom applies the request's changes from the from-th on to d and
// returns how many changes d now holds. With all, it goes on until no
// change is left (the caller holds s.mu); otherwise it applies a snapshot
// of the changes made so far (the caller does not hold s.mu).
func (s *Session) replayFrom(d *stored, from int, all bool) (int, error) {
	n := from
	for {
		if !all {
			s.mu.Lock()
		}
		ops := s.ops[n:len(s.ops):len(s.ops)]
		n = len(s.ops)
		s.mu.Unlock()
		err := runOps(ops, d.draft())
		if all {
			s.mu.Lock()
		}
		if err != nil || !all || n == len(s.ops) {
			return n, err
		}
	}
}

// runOps runs a request's changes on d.
func runOps(ops []op, d draft) (err error) {
	defer catch(&err, "Update function or replay")
	for _, o := range ops {
		o(d)
	}
	return nil
}

// turns holds, for each store key with a save in flight in this process,
// the queue of requests waiting for its turn.
type turns struct {
	mu   sync.Mutex
	keys map[string]*queue
}

type queue struct {
	waiting []*job
	busy    bool    // a job holds the turn
	last    *stored // what the last batch stored, while saves keep coming
}

// job is one request waiting for a key's turn: a change save, which a
// leader may take into its batch, or an exclusive turn (retire).
type job struct {
	ctx       context.Context
	st        *requestState
	s         *Session
	exclusive bool
	redirect  bool          // the request's view is not of this key: a write through a retired ID
	lead      chan struct{} // made when the job queues behind another
	done      chan struct{} // closed once res is set (made with lead)
	fin       bool          // res is set (read by the leader only)
	taken     bool          // in a batch (guarded by turns.mu)
	res       result
}

// result is the outcome of a change save.
type result struct {
	err       error
	state     *stored // stored: this request's copy of the stored state
	ops       int     // how many of the request's changes it holds
	gone      bool    // the record is gone: destroyed elsewhere
	successor string  // the key was retired by Renew: save there ("" with raw IDs)
	retired   bool
}

func (j *job) finish(res result) {
	j.res, j.fin = res, true
	if j.done != nil {
		close(j.done)
	}
}

// finished reports whether j has its outcome. Only the leader asks.
func (j *job) finished() bool { return j.fin }

// enqueue adds j to key's queue. It reports true when the key was free:
// j leads at once. Otherwise j waits for its lead or its outcome.
func (t *turns) enqueue(key string, j *job) (leadNow bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = make(map[string]*queue)
	}
	q := t.keys[key]
	if q == nil {
		q = &queue{}
		t.keys[key] = q
	}
	if !q.busy {
		q.busy = true
		q.waiting = append(q.waiting, j)
		return true
	}
	j.lead, j.done = make(chan struct{}, 1), make(chan struct{})
	q.waiting = append(q.waiting, j)
	return false
}

// withdraw removes a job whose context ended. It reports false when the
// job is already in a batch.
func (t *turns) withdraw(key string, j *job) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if j.taken {
		return false
	}
	q := t.keys[key]
	for i, w := range q.waiting {
		if w == j {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			break
		}
	}
	select {
	case <-j.lead: // it was to lead: pass the turn on
		t.handOffLocked(key, q)
	default:
	}
	return true
}

// take removes the leader and the change saves queued right behind it
// (up to the first exclusive turn) and returns them with the queue's last
// stored state.
func (t *turns) take(key string, leader *job) ([]*job, *stored) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.keys[key]
	n := 1
	if !leader.exclusive {
		for n < len(q.waiting) && !q.waiting[n].exclusive {
			n++
		}
	}
	batch := append([]*job(nil), q.waiting[:n]...)
	q.waiting = q.waiting[n:]
	for _, j := range batch {
		j.taken = true
	}
	return batch, q.last
}

// done ends a turn: last is what it stored (nil when unknown), kept for
// the next batch when saves are waiting, and the next waiting job leads.
// It runs on the leader's goroutine before the leader takes last into its
// session, so last is still the leader's alone.
func (t *turns) done(key string, last *stored) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.keys[key]
	q.last = nil
	if last != nil && len(q.waiting) > 0 {
		q.last = last.clone()
	}
	t.handOffLocked(key, q)
}

func (t *turns) handOffLocked(key string, q *queue) {
	if len(q.waiting) > 0 {
		q.waiting[0].lead <- struct{}{} // the next job leads
		return
	}
	q.busy, q.last = false, nil
	delete(t.keys, key)
}

// acquire waits for key's turn, alone, or for ctx to end. The returned
// function gives the turn up.
func (t *turns) acquire(ctx context.Context, key string) (func(), error) {
	j := &job{ctx: ctx, exclusive: true}
	if !t.enqueue(key, j) {
		select {
		case <-j.lead:
		case <-ctx.Done():
			t.withdraw(key, j) // exclusive jobs are never taken by a batch
			return nil, fmt.Errorf("session: waiting for another save of this session: %w", ctx.Err())
		}
	}
	t.take(key, j)
	var once sync.Once
	return func() { once.Do(func() { t.done(key, nil) }) }, nil
}

// saveChanges saves a stored session's changes through its key's queue,
// following the link of a retired ID. The caller holds s.mu; it is
// released while the request waits.
func (st *requestState) saveChanges(ctx context.Context, s *Session) error {
	m := st.m
	key, redirect := s.key, false
	if s.meta.retired {
		next, _, err := m.links(ctx, s.key, s.meta)
		switch {
		case err != nil:
			return fmt.Errorf("session: save: %w", err)
		case next == "":
			st.ended(s) // its renewed session has ended
			return nil
		}
		key, redirect = next, true
	}
	for hops := 0; ; hops++ {
		j := &job{ctx: ctx, st: st, s: s, redirect: redirect}
		leadNow := m.turns.enqueue(key, j)
		s.mu.Unlock()
		res := m.await(ctx, key, j, leadNow)
		s.mu.Lock()
		switch {
		case res.err != nil:
			if errors.Is(res.err, ErrCommitUnknown) {
				s.ops = nil // may be stored: never applied twice
			}
			return res.err
		case res.gone:
			st.ended(s)
			return nil
		case res.retired:
			if res.successor == "" {
				st.ended(s) // its renewed session has ended
				return nil
			}
			if hops >= 8 {
				return fmt.Errorf("session: save: too many renewals in a row: %w", ErrConflict)
			}
			key, redirect = res.successor, true
			continue
		}
		return st.install(s, res, redirect)
	}
}

// await waits for j's outcome, leading a batch when its turn comes.
func (m *Manager) await(ctx context.Context, key string, j *job, leadNow bool) result {
	if leadNow {
		m.lead(key, j)
		return j.res
	}
	for {
		select {
		case <-j.done:
			return j.res
		case <-j.lead:
			m.lead(key, j)
		case <-ctx.Done():
			if m.turns.withdraw(key, j) {
				return result{err: fmt.Errorf("session: save: waiting for another save of this session: %w", ctx.Err())}
			}
			select {
			case <-j.done:
				return j.res
			default:
			}
			return result{err: fmt.Errorf("session: save: %w: %w", ErrCommitUnknown, ctx.Err())}
		}
	}
}

// install takes the outcome of a save into the request's session. The
// caller holds s.mu. A request writing through a retired ID keeps its own
// view: it never sees the renewed session.
func (st *requestState) install(s *Session, res result, redirect bool) error {
	if s.destroyed || len(s.ops) < res.ops {
		return nil // destroyed meanwhile by this request: a later commit handles it
	}
	if redirect {
		s.ops = s.ops[res.ops:]
		return nil
	}
	own := res.state
	s.ops = s.ops[res.ops:]
	if err := s.replayAll(own); err != nil { // changes made while the save ran
		return err
	}
	ops := s.ops
	st.adopt(s, own, false)
	s.ops = ops
	return nil
}

// lead takes the leader and every change save queued behind it and saves
// them as one batch, then passes the turn on, also when a save panics.
func (m *Manager) lead(key string, leader *job) {
	batch, last := m.turns.take(key, leader)
	var next *stored
	defer func() {
		if r := recover(); r != nil {
			finishAll(batch, result{err: fmt.Errorf("session: save panicked: %v", r)})
		}
		m.turns.done(key, next)
	}()
	next = m.saveBatch(key, batch, last)
}

// batchContext is the context of a batch's writes: it carries the
// leader's values and ends only once every member has stopped waiting,
// so that no member's change is left half written by another's deadline.
func batchContext(batch []*job) (context.Context, context.CancelFunc) {
	if len(batch) == 1 {
		return batch[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	var mu sync.Mutex
	left := len(batch)
	stops := make([]func() bool, len(batch))
	for i, j := range batch {
		stops[i] = context.AfterFunc(j.ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if left--; left == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// saveBatch writes the changes of batch (batch[0] leads) with one
// compare-and-set and finishes every job. It returns what it stored, for
// the next batch to start from.
func (m *Manager) saveBatch(key string, batch []*job, last *stored) *stored {
	ctx, cancel := batchContext(batch)
	defer cancel()
	leader := batch[0]
	counts := make([]int, len(batch))
	var cur *stored
	ownView := false
	switch {
	case last != nil:
		cur = last
	case len(batch) == 1 && !leader.redirect:
		// Alone: the request's own view, its changes already applied.
		s := leader.s
		s.mu.Lock()
		cur = s.view()
		cur.values = maps.Clone(cur.values)
		counts[0] = len(s.ops)
		s.mu.Unlock()
		cur.rec.Data = nil
		ownView = true
	default:
		var err error
		if cur, err = m.reload(ctx, key, time.Time{}); err != nil {
			finishAll(batch, result{err: fmt.Errorf("session: save: %w", err)})
			return nil
		}
	}
	base := cur
	next, err := m.cas(ctx, &key, cur, func(cur *stored) (*stored, error) {
		switch {
		case cur == nil:
			return nil, errGone
		case cur.meta.retired:
			return nil, errRetired
		case ownView && cur == base: // a private copy already
			return cur, m.seal(key, cur, m.Now())
		}
		return m.compose(key, cur, batch, counts)
	}, nil)
	switch {
	case errors.Is(err, errGone):
		finishAll(batch, result{gone: true})
		return nil
	case errors.Is(err, errRetired):
		// Retired by a Renew meanwhile: each request follows the link.
		succ := ""
		if cur, lerr := m.loadStored(ctx, key, time.Time{}); lerr == nil {
			succ, _, _ = m.links(ctx, key, cur.meta)
		}
		finishAll(batch, result{retired: true, successor: succ})
		return nil
	case err != nil:
		finishAll(batch, result{err: err})
		return nil
	}
	for i, j := range batch {
		if j.finished() { // failed alone in compose
			continue
		}
		state := next
		if i > 0 {
			state = next.clone() // the leader's own copy is next itself
		}
		j.finish(result{state: state, ops: counts[i]})
	}
	return next
}

func finishAll(batch []*job, res result) {
	for _, j := range batch {
		if !j.finished() {
			j.finish(res)
		}
	}
}

// compose applies the changes of every job of the batch still waiting to
// a copy of cur, in arrival order, and seals it. A job whose changes panic,
// or make the session unstorable (too large, not encodable), fails alone
// and the others are composed again without it. It records in counts how
// many changes of each job the result holds.
func (m *Manager) compose(key string, cur *stored, batch []*job, counts []int) (*stored, error) {
	for {
		next, culprit, alive := cur.clone(), -1, 0
		var err error
		for i, j := range batch {
			if j.finished() {
				continue
			}
			alive++
			if counts[i], err = j.s.replayFrom(next, 0, false); err != nil {
				culprit = i
				break
			}
		}
		if alive == 0 {
			return nil, err
		}
		if culprit < 0 {
			if err = m.seal(key, next, m.Now()); err == nil {
				return next, nil
			}
			if culprit, err = m.unstorable(key, cur, batch); culprit < 0 {
				return nil, err // the stored session itself cannot be stored
			}
		}
		batch[culprit].finish(result{err: err})
	}
}

// unstorable returns the first job of the batch after whose changes the
// session cannot be stored, with the reason, or -1.
func (m *Manager) unstorable(key string, cur *stored, batch []*job) (int, error) {
	probe := cur.clone()
	for i, j := range batch {
		if j.finished() {
			continue
		}
		if _, err := j.s.replayFrom(probe, 0, false); err != nil {
			return i, err
		}
		if _, err := m.encodeChecked(key, probe.values, probe.meta); err != nil {
			return i, err
		}
	}
	_, err := m.encodeChecked(key, probe.values, probe.meta)
	return -1, err
}
