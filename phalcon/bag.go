package phalcon

import (
	"iter"
	"strconv"
	"strings"

	"github.com/sessionkit/session/phpcodec"
)

// Bag is Phalcon 5's Phalcon\Session\Bag: a namespace of values stored as
// one PHP array under the bag's name. Like Phalcon's Bag (a
// Phalcon\Support\Collection with case-insensitive keys), it finds keys
// whatever their case ("QTY" finds "qty"), Has reports true for a key
// whose value is null, and Get gives the default for it.
//
// A Bag keeps no copy of its own: every call reads the session, as a Bag
// constructed anew in PHP reads the array. When the stored array holds keys
// that differ only in case (written by other code), the last one counts and
// the others are dropped on the next Set or Remove, as Phalcon's
// Collection::init does. Changes go through Session.Update, so concurrent
// requests changing different entries of one bag do not lose each other's
// changes.
type Bag struct {
	p    *Session
	name string
}

// Bag returns the bag called name, like new Phalcon\Session\Bag($session,
// name). As in Phalcon, whose constructor stores the bag back into the
// session, a value under name that is not an array (none, or a scalar) is
// replaced by an empty array: the session then has the key, and is saved.
func (p *Session) Bag(name string) *Bag {
	if _, ok := phpcodec.Deref(p.s.Get(p.key(name))).(*phpcodec.Array); !ok {
		p.s.Update(p.key(name), func(old any) any {
			if a, ok := phpcodec.Deref(old).(*phpcodec.Array); ok {
				return a // created by a request that saved first
			}
			return &phpcodec.Array{}
		})
	}
	return &Bag{p: p, name: name}
}

// fold is Phalcon's processKey for insensitive collections: mb_strtolower.
func fold(key string) string { return strings.ToLower(key) }

// keyText is a PHP array key as the string Phalcon's methods receive.
func keyText(k any) string {
	if i, ok := k.(int64); ok {
		return strconv.FormatInt(i, 10)
	}
	s, _ := k.(string)
	return s
}

// collection is the bag's data as Phalcon's Collection holds it after
// init(): a copy of the stored array in which, of keys equal but for case,
// only the last remains; and the index from folded key to stored key.
type collection struct {
	data  *phpcodec.Array
	lower map[string]string
}

func (b *Bag) collection() *collection { return collectionOf(b.p.s.Get(b.p.key(b.name))) }

// collectionOf builds the collection of a stored value (an array, or
// anything else for an empty bag).
func collectionOf(old any) *collection {
	c := &collection{data: &phpcodec.Array{}, lower: map[string]string{}}
	if a, ok := phpcodec.Deref(old).(*phpcodec.Array); ok {
		for _, e := range a.Entries() {
			c.set(keyText(e.Key), e.Value)
		}
	}
	return c
}

// set is Collection::setData: an entry stored under another case is
// removed first, then element is set (in place when it exists as it is).
func (c *collection) set(element string, value any) {
	k := fold(element)
	if orig, ok := c.lower[k]; ok && orig != element {
		c.data.Delete(orig)
	}
	c.data.Set(element, value)
	c.lower[k] = element
}

// get returns the entry under element, whatever its case.
func (c *collection) get(element string) (any, bool) {
	orig, ok := c.lower[fold(element)]
	if !ok {
		return nil, false
	}
	return c.data.Get(orig)
}

// remove is Collection::remove.
func (c *collection) remove(element string) {
	k := fold(element)
	if orig, ok := c.lower[k]; ok {
		c.data.Delete(orig)
		delete(c.lower, k)
	}
}

// Get returns the bag's value under key (in any case), or def when the key
// is absent or its value is null, like Phalcon's get($key, $default).
func (b *Bag) Get(key string, def any) any {
	v, ok := b.collection().get(key)
	if v = phpcodec.Deref(v); !ok || v == nil {
		return def
	}
	return v
}

// Has reports whether the bag has key (in any case), even when its value is
// null: Phalcon's Bag::has() looks the key up, unlike the session manager's
// has() (see [Session.Has]).
func (b *Bag) Has(key string) bool {
	_, ok := b.collection().get(key)
	return ok
}

// Set stores value under key in the bag, like Phalcon's set($key, $value)
// and $bag->key = $value. A key already there under another case is
// replaced by key as written, at the end of the bag; a key already there as
// written keeps its position.
func (b *Bag) Set(key string, value any) {
	b.p.s.Update(b.p.key(b.name), func(old any) any {
		c := collectionOf(old)
		c.set(key, value)
		return c.data
	})
}

// Remove deletes key (in any case) from the bag, like Phalcon's
// remove($key). As in Phalcon, the bag is stored again even when it did not
// have the key.
func (b *Bag) Remove(key string) {
	b.p.s.Update(b.p.key(b.name), func(old any) any {
		c := collectionOf(old)
		c.remove(key)
		return c.data
	})
}

// Init replaces the bag's stored array with data (nil for an empty one),
// like Phalcon's init($data), which stores exactly data in the session.
func (b *Bag) Init(data *phpcodec.Array) {
	a := &phpcodec.Array{}
	for _, e := range data.Entries() {
		a.Set(e.Key, e.Value)
	}
	b.p.s.Set(b.p.key(b.name), a)
}

// Clear empties the bag and removes it from the session, like Phalcon 5's
// clear() (Phalcon 3's destroy()).
func (b *Bag) Clear() { b.p.s.Delete(b.p.key(b.name)) }

// Len returns the number of entries in the bag, like Phalcon's count().
func (b *Bag) Len() int { return b.collection().data.Len() }

// ToArray returns a copy of the bag's entries, with their keys as stored, in
// the bag's order, like Phalcon's toArray().
func (b *Bag) ToArray() *phpcodec.Array { return b.collection().data }

// All iterates over the bag's keys (int64 or string, as stored) and values
// in the bag's order, like foreach over a Phalcon Bag.
func (b *Bag) All() iter.Seq2[any, any] {
	data := b.collection().data
	return func(yield func(any, any) bool) {
		for k, v := range data.All() {
			if !yield(k, phpcodec.Deref(v)) {
				return
			}
		}
	}
}
