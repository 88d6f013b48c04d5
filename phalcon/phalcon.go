// Package phalcon makes a session.Manager share sessions with a Phalcon
// (PHP) application: the PHPSESSID cookie, IDs of the shape PHP generates
// (session.sid_length and session.sid_bits_per_character), raw IDs in the
// store, PHP's session serialization, and Phalcon's session API on top of a
// session: the manager's uniqueId prefix ("uniqueId#key"), Bags, flash
// messages under "_flashMessages", get-with-remove, and has() that treats a
// stored null as absent.
//
// Point the Go service at the same store as the PHP application — a
// sqlstore in the compatibility layout on the session_data table of
// Phalcon's incubator Database adapter, or a mongostore in compatibility
// mode on the incubator Mongo adapter's collection — and each reads what the
// other wrote.
package phalcon

import (
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/phpcodec"
)

const (
	// CookieName is PHP's default session cookie name.
	CookieName = "PHPSESSID"
	// FlashKey is where Phalcon\Flash\Session keeps its messages.
	FlashKey = "_flashMessages"
	// MaxLifetime is PHP's default session.gc_maxlifetime.
	MaxLifetime = 1440 * time.Second
)

// Session offers Phalcon\Session\Manager's API on a session. Create it with
// [Wrap] for each request.
type Session struct {
	s      *session.Session
	prefix string
}

// Wrap returns Phalcon's view of s. uniqueID is the Phalcon manager's
// uniqueId option ("" for none): keys are then stored as "uniqueId#key".
func Wrap(s *session.Session, uniqueID string) *Session {
	p := &Session{s: s}
	if uniqueID != "" {
		p.prefix = uniqueID + "#"
	}
	return p
}

func (p *Session) key(k string) string { return p.prefix + k }

// Get returns the value under key, or def when it is not set or null, like
// Phalcon's get($key, $defaultValue).
func (p *Session) Get(key string, def any) any {
	v := phpcodec.Deref(p.s.Get(p.key(key)))
	if v == nil {
		return def
	}
	return v
}

// GetRemove returns the value under key (or def) and removes it, like
// Phalcon's get($key, $defaultValue, true).
func (p *Session) GetRemove(key string, def any) any {
	v := phpcodec.Deref(p.s.Pop(p.key(key)))
	if v == nil {
		return def
	}
	return v
}

// Has reports whether key holds a non-null value: Phalcon's has() uses
// isset(), so a stored null counts as absent.
func (p *Session) Has(key string) bool {
	return phpcodec.Deref(p.s.Get(p.key(key))) != nil
}

// Set stores value under key.
func (p *Session) Set(key string, value any) { p.s.Set(p.key(key), value) }

// Remove deletes key.
func (p *Session) Remove(key string) { p.s.Delete(p.key(key)) }

// Session returns the underlying session.
func (p *Session) Session() *session.Session { return p.s }

// cloneArray copies v when it is a PHP array, or returns a new empty one,
// so that Update functions never modify a value another request may share.
func cloneArray(v any) *phpcodec.Array {
	out := &phpcodec.Array{}
	if a, ok := phpcodec.Deref(v).(*phpcodec.Array); ok {
		for _, e := range a.Entries() {
			out.Set(e.Key, e.Value)
		}
	}
	return out
}
