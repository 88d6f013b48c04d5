package session

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// reservedPrefix marks values the manager keeps for itself inside the
// session data; Keys and Clear leave them out.
const reservedPrefix = "_sessionkit."

// persistKey holds a per-session RememberMe choice.
const persistKey = reservedPrefix + "persist"

// Session is one request's view of a session: its values, held in memory
// during the request and saved by the manager before the response starts.
// Its methods do no I/O and are safe for concurrent use by the request's
// goroutines. Obtain it with [Manager.Load].
type Session struct {
	mu    sync.Mutex
	state *requestState

	id      string
	key     string
	rec     Record // metadata as loaded or last saved; Data unused
	values  map[string]any
	isNew   bool // not stored yet
	ops     []op // changes not yet saved, replayed on a conflict
	touched bool // an operation asked to push the idle expiry

	renewedFrom    string // store key of the ID before Renew, until saved
	renewedVersion uint64
	destroyed      bool
	cookieChanged  bool // the cookie must be sent again (RememberMe)
	err            error
}

// op is one change of this request, kept so that it can be applied again
// on the freshly loaded values after a version conflict.
type op func(values map[string]any, rec *Record)

func newValues() map[string]any { return make(map[string]any) }

// apply records op and applies it now.
func (s *Session) apply(o op) {
	if s.destroyed {
		s.fail(ErrDestroyed)
		return
	}
	if s.isNew && len(s.ops) == 0 && s.state.headersSent() {
		// The first change of a new session needs a Set-Cookie header
		// that can no longer be sent.
		s.fail(ErrHeadersWritten)
		return
	}
	o(s.values, &s.rec)
	s.ops = append(s.ops, o)
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
	return s.rec.Created
}

// Owner returns the owner set with SetOwner, or "".
func (s *Session) Owner() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Owner
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
	return s.values[key]
}

// Has reports whether a value is stored under key.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
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

// Set stores value under key.
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(func(v map[string]any, _ *Record) { v[key] = value })
}

// Delete removes the value under key.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; !ok {
		return
	}
	s.apply(func(v map[string]any, _ *Record) { delete(v, key) })
}

// Pop returns the value under key and removes it: a flash message, shown
// once.
func (s *Session) Pop(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	val, ok := s.values[key]
	if !ok {
		return nil
	}
	s.apply(func(v map[string]any, _ *Record) { delete(v, key) })
	return val
}

// Clear removes every value; the session itself lives on (see Destroy).
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(func(v map[string]any, _ *Record) {
		for k := range v {
			if !strings.HasPrefix(k, reservedPrefix) {
				delete(v, k)
			}
		}
	})
}

// Update replaces the value under key with fn(old), where old is nil when
// there is none. If another request saved the session meanwhile, fn runs
// again on the value that request saved, so that increments and appends are
// never lost. fn must be safe to call more than once.
func (s *Session) Update(key string, fn func(old any) any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(func(v map[string]any, _ *Record) { v[key] = fn(v[key]) })
}

// SetOwner tags the session with a user identifier, so that the manager can
// list and destroy the sessions of that user. An empty owner removes the
// tag.
func (s *Session) SetOwner(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner == s.rec.Owner && len(s.ops) > 0 {
		return
	}
	s.apply(func(_ map[string]any, rec *Record) { rec.Owner = owner })
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
	if s.destroyed {
		return ErrDestroyed
	}
	s.apply(func(v map[string]any, _ *Record) { v[persistKey] = persist })
	s.cookieChanged = true
	return nil
}

// persist reports whether the cookie is persistent for this session.
func (s *Session) persist() bool {
	if p, ok := s.values[persistKey].(bool); ok {
		return p
	}
	return s.state.m.Cookie.Persist
}

// Renew gives the session a new ID and keeps its data, as a login must to
// prevent fixation. The old ID stays valid for the manager's RenewGrace so
// that requests already in flight are not logged out; after that it is dead.
// It fails with ErrHeadersWritten once the response has started.
func (s *Session) Renew() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.headersSent() {
		return ErrHeadersWritten
	}
	if s.destroyed {
		return ErrDestroyed
	}
	m := s.state.m
	if !s.isNew && s.renewedFrom == "" {
		s.renewedFrom, s.renewedVersion = s.key, s.rec.Version
	}
	s.id = m.ids.generate()
	s.key = m.key(s.id)
	s.isNew = true
	// Renewing is a change: the data must be written under the new key.
	s.ops = append(s.ops, func(map[string]any, *Record) {})
	return nil
}

// Destroy deletes the session from the store when the request's response
// starts, and expires the cookie. Its ID is dead at once. Values read
// afterwards are empty.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroyed = true
	s.values = newValues()
	s.ops = nil
}
