package session

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Session is one request's view of a session: its values, held in memory
// during the request and saved by the manager before the response starts.
// Its methods do no I/O and are safe for concurrent use by the request's
// goroutines. Obtain it with [Manager.Load].
//
// Changes follow one error policy: a change that cannot be applied (its
// cookie can no longer be sent) is not applied, is logged, and is reported
// by [Session.Err]; Renew and RememberMe, which exist to change the cookie,
// also return it.
type Session struct {
	mu    sync.Mutex
	state *requestState

	id      string
	key     string
	base    Record         // the record as loaded or last saved, Data included; Created only while new
	values  map[string]any // this request's view: base's values with its changes applied
	owner   string         // this request's view of the owner
	meta    meta
	isNew   bool // not stored yet
	ops     []op // changes not yet saved, replayed on a conflict
	touched bool // the idle expiry was pushed (or saved) in this request

	renew         *renewal // set by Renew until the renewal is saved
	destroyed     bool
	deadKeys      []string // store keys to delete at commit (Destroy)
	cookieChanged bool     // the cookie must be sent again (RememberMe)
	err           error
}

// renewal is what Renew remembers of the ID it retires.
type renewal struct {
	key     string // store key of the old ID
	base    Record // its record as stored, Data included
	retired bool   // it was already retired (Renew from an ID in its grace period)
}

// draft is what an op changes: the values, owner and lifecycle metadata of
// one version of the session.
type draft struct {
	values map[string]any
	owner  *string
	meta   *meta
}

// op is one change of this request, kept so that it can be applied again
// on freshly loaded values after a version conflict. Ops run without the
// session's lock held, under the engine's recover.
type op func(d draft)

func newValues() map[string]any { return make(map[string]any) }

func (s *Session) draft() draft { return draft{values: s.values, owner: &s.owner, meta: &s.meta} }

// apply applies a change now (now) and records it for replay (replay).
func (s *Session) apply(now func(d draft), replay op) {
	if s.destroyed {
		if s.state.headersSent() {
			s.fail(ErrHeadersWritten)
			return
		}
		// A change after Destroy (a "logged out" flash message) starts a
		// fresh session; the destroyed ID stays dead.
		s.restart()
	}
	if s.isNew && len(s.ops) == 0 && s.state.headersSent() {
		// The first change of a new session needs a Set-Cookie header
		// that can no longer be sent.
		s.fail(ErrHeadersWritten)
		return
	}
	now(s.draft())
	s.ops = append(s.ops, replay)
}

// restart turns a destroyed session into a fresh one with a new ID, keeping
// the keys still to delete.
func (s *Session) restart() {
	m := s.state.m
	s.id = m.ids.generate()
	s.key = m.key(s.id)
	s.isNew, s.destroyed = true, false
	s.values, s.meta, s.ops, s.owner = newValues(), meta{}, nil, ""
	s.base = Record{Created: m.Now()}
	s.renew = nil
}

func (s *Session) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.state.m.Logger.Error("session: change not applied", "err", err)
}

// ID returns the session ID, the value of the cookie.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Key returns the store key of the session: the SHA-256 of its ID, or the
// ID itself when the manager uses raw IDs.
func (s *Session) Key() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// IsNew reports whether the session has not been stored yet.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// Created returns when the session was created.
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base.Created
}

// Owner returns the owner set with SetOwner, or "".
func (s *Session) Owner() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.owner
}

// Err returns the first change this request could not apply (for example
// ErrHeadersWritten), or nil.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Get returns the value stored under key, or nil.
func (s *Session) Get(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(key, reservedPrefix) {
		return nil
	}
	return s.values[key]
}

// Has reports whether a value is stored under key.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(key, reservedPrefix) {
		return false
	}
	_, ok := s.values[key]
	return ok
}

// Keys returns the keys of the stored values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.values))
	for k := range s.values {
		if !strings.HasPrefix(k, reservedPrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Values returns a copy of the stored values.
func (s *Session) Values() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := maps.Clone(s.values)
	maps.DeleteFunc(out, func(k string, _ any) bool { return strings.HasPrefix(k, reservedPrefix) })
	return out
}

// Set stores value under key. Keys starting with "_sessionkit." are the
// manager's own and are refused (see Err).
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.HasPrefix(key, reservedPrefix) {
		s.fail(ErrInvalidKey)
		return
	}
	set := func(d draft) { d.values[key] = value }
	s.apply(set, set)
}

// Delete removes the value under key. If another request changed that value
// meanwhile, its value is kept: a delete is replayed after a conflict only
// on the value this request saw.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remove(key)
}

// Pop returns the value under key and removes it: a flash message, shown
// once. Like Delete, it never removes a value saved meanwhile by another
// request that this request did not see.
func (s *Session) Pop(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	val, _ := s.remove(key)
	return val
}

// remove deletes key and records a conditional replay.
func (s *Session) remove(key string) (any, bool) {
	if strings.HasPrefix(key, reservedPrefix) {
		return nil, false
	}
	seen, ok := s.values[key]
	if !ok || s.destroyed {
		return nil, false
	}
	s.apply(func(d draft) { delete(d.values, key) }, func(d draft) { deleteIfSeen(d.values, key, seen) })
	return seen, true
}

// Clear removes every value; the session itself lives on (see Destroy).
// Values saved meanwhile by another request that this request did not see
// are kept.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	seen := make(map[string]any, len(s.values))
	for k, v := range s.values {
		if !strings.HasPrefix(k, reservedPrefix) {
			seen[k] = v
		}
	}
	if len(seen) == 0 {
		return // nothing to clear: no change, no write
	}
	s.apply(func(d draft) {
		for k := range seen {
			delete(d.values, k)
		}
	}, func(d draft) {
		for k, v := range seen {
			deleteIfSeen(d.values, k, v)
		}
	})
}

// deleteIfSeen deletes key from values if it still holds seen.
func deleteIfSeen(values map[string]any, key string, seen any) {
	if cur, ok := values[key]; ok && sameValue(cur, seen) {
		delete(values, key)
	}
}

// sameValue reports whether two values are equal as values, never by
// address: a pointer, a PHP array or a struct holding a slice is the same
// value when what it holds is deeply equal, or when it encodes to the same
// bytes (a value this request set and the same value decoded from the
// store). It never panics.
func sameValue(a, b any) (same bool) {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	if reflect.DeepEqual(a, b) {
		return true
	}
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	ea, err := BinaryCodec{}.Encode(map[string]any{"": a})
	if err != nil {
		return false
	}
	eb, err := BinaryCodec{}.Encode(map[string]any{"": b})
	return err == nil && bytes.Equal(ea, eb)
}

// Update replaces the value under key with fn(old), where old is nil when
// there is none. If another request saved the session meanwhile, fn runs
// again on the value that request saved, so that increments and appends are
// never lost. fn must be safe to call more than once. It runs without the
// session's lock, so it may read the session (Get, Has), but it must not
// change it.
func (s *Session) Update(key string, fn func(old any) any) {
	if strings.HasPrefix(key, reservedPrefix) {
		s.mu.Lock()
		s.fail(ErrInvalidKey)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	old := s.values[key]
	if s.destroyed {
		old = nil
	}
	s.mu.Unlock()
	nv := fn(old)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(func(d draft) { d.values[key] = nv }, func(d draft) { d.values[key] = fn(d.values[key]) })
}

// SetOwner tags the session with a user identifier, so that the manager can
// list and destroy the sessions of that user. An empty owner removes the
// tag. Setting the owner the session already has changes nothing and costs
// no write.
func (s *Session) SetOwner(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner == s.owner && !s.destroyed {
		return
	}
	set := func(d draft) { *d.owner = owner }
	s.apply(set, set)
}

// RememberMe chooses, for this session only, between a persistent cookie
// (true) and a browser-session cookie (false). It needs a new cookie, so it
// fails with ErrHeadersWritten once the response has started.
func (s *Session) RememberMe(persist bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.headersSent() {
		return ErrHeadersWritten
	}
	set := func(d draft) { d.meta.persist = &persist }
	s.apply(set, set)
	s.cookieChanged = true
	return nil
}

// persist reports whether the cookie is persistent for this session.
func (s *Session) persist() bool {
	if s.meta.persist != nil {
		return *s.meta.persist
	}
	return s.state.m.Cookie.Persist
}

// Renew gives the session a new ID and keeps its data, as a login must to
// prevent fixation. It fails with ErrHeadersWritten once the response has
// started.
//
// The old ID stays valid for the manager's RenewGrace so that requests
// already in flight are not logged out, with the data and owner as stored
// before this request: it never sees what is written after the Renew (a
// planted pre-login ID never becomes a login), it dies when the session is
// destroyed through any ID of its chain, and its grace is never extended.
// A change saved through the old ID during the grace period goes to the
// renewed session (it is never acknowledged and lost). Nothing reachable
// through the old ID holds the new one: with [Manager.RawIDs], where the
// store key is the ID, the links live in records of their own that no
// client can open. Renewing from an ID that is itself in its grace period
// (a double-submitted login) gives a normal session.
func (s *Session) Renew() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.headersSent() {
		return ErrHeadersWritten
	}
	if s.destroyed {
		s.restart()
	}
	m := s.state.m
	if !s.isNew && s.renew == nil {
		s.renew = &renewal{key: s.key, base: s.base, retired: s.meta.retired}
	}
	s.id = m.ids.generate()
	s.key = m.key(s.id)
	s.isNew = true
	s.meta.retired, s.meta.successor, s.meta.ancestor = false, "", ""
	if s.renew != nil && !s.renew.retired && !m.RawIDs {
		// The link that lets a logout through the new ID kill the old
		// one. With raw IDs the record is shared with PHP, which would
		// see the link among its values: there the old ID is left to
		// its grace period (read-only, with the data before the login).
		s.meta.ancestor = s.renew.key
	}
	// Renewing is a change: the data must be written under the new key.
	s.ops = append(s.ops, func(draft) {})
	return nil
}

// Destroy deletes the session from the store when the request's response
// starts, and expires the cookie. Its ID is dead at once, and so is every ID
// linked to it by Renew (the old ID in its grace period, or the renewed
// one). Values read afterwards are empty; a change made afterwards in the
// same request (a "you have been logged out" message) starts a fresh
// session with a new ID.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.destroyed {
		return
	}
	for _, k := range []string{s.keyIfStored(), s.meta.successor, s.meta.ancestor} {
		if k != "" {
			s.deadKeys = append(s.deadKeys, k)
		}
	}
	if s.renew != nil {
		s.deadKeys = append(s.deadKeys, s.renew.key)
	}
	s.destroyed = true
	s.values, s.meta, s.ops, s.renew = newValues(), meta{}, nil, nil
}

// keyIfStored returns the session's key when a record may exist under it.
func (s *Session) keyIfStored() string {
	if s.isNew {
		return ""
	}
	return s.key
}
