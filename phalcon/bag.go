package phalcon

import "github.com/sessionkit/session/phpcodec"

// Bag is Phalcon\Session\Bag: a namespace of values stored as one PHP array
// under the bag's name. Changes go through Session.Update, so concurrent
// requests changing different entries of one bag do not lose each other's
// changes.
type Bag struct {
	p    *Session
	name string
}

// Bag returns the bag called name.
func (p *Session) Bag(name string) *Bag { return &Bag{p: p, name: name} }

func (b *Bag) array() *phpcodec.Array {
	a, _ := phpcodec.Deref(b.p.s.Get(b.p.key(b.name))).(*phpcodec.Array)
	return a
}

// Get returns the bag's value under key, or def when it is not set or null.
func (b *Bag) Get(key string, def any) any {
	if a := b.array(); a != nil {
		if v, ok := a.Get(key); ok && phpcodec.Deref(v) != nil {
			return phpcodec.Deref(v)
		}
	}
	return def
}

// Has reports whether the bag holds a non-null value under key.
func (b *Bag) Has(key string) bool {
	if a := b.array(); a != nil {
		v, ok := a.Get(key)
		return ok && phpcodec.Deref(v) != nil
	}
	return false
}

// Set stores value under key in the bag.
func (b *Bag) Set(key string, value any) {
	b.p.s.Update(b.p.key(b.name), func(old any) any {
		a := cloneArray(old)
		a.Set(key, value)
		return a
	})
}

// Remove deletes key from the bag.
func (b *Bag) Remove(key string) {
	b.p.s.Update(b.p.key(b.name), func(old any) any {
		a := cloneArray(old)
		a.Delete(key)
		return a
	})
}

// Clear empties the bag and removes it from the session.
func (b *Bag) Clear() { b.p.s.Delete(b.p.key(b.name)) }

// Len returns the number of entries in the bag.
func (b *Bag) Len() int {
	if a := b.array(); a != nil {
		return a.Len()
	}
	return 0
}
