package memcachestore

import (
	"sync"
	"time"
)

// hintTTL bounds how long a hint is trusted. A stale hint is never wrong
// (memcached refuses a "cas" with an outdated unique) but is useless after
// the request that loaded it; the bound also keeps the window tiny in which
// a memcached restart could reissue the same unique.
const hintTTL = time.Minute

// hint is what Load read: the item's CAS unique, the record's version and
// expiry, and the raw value (for a Touch that rewrites the header).
type hint struct {
	version uint64
	casID   uint64
	expiry  time.Time
	value   []byte
	at      time.Time
}

func (h hint) cost(key string) int { return len(key) + len(h.value) + 96 }

// hints is a small cache of hints bounded by bytes. When full, arbitrary
// entries are evicted (Go map order); a missing hint only costs a round
// trip.
type hints struct {
	mu    sync.Mutex
	max   int
	used  int
	byKey map[string]hint
}

func newHints(maxBytes int) *hints {
	return &hints{max: maxBytes, byKey: make(map[string]hint)}
}

func (c *hints) put(key string, h hint) {
	if c.max <= 0 || h.cost(key) > c.max/4 {
		c.drop(key)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.byKey[key]; ok {
		c.used -= old.cost(key)
		delete(c.byKey, key)
	}
	for k, old := range c.byKey {
		if c.used+h.cost(key) <= c.max {
			break
		}
		c.used -= old.cost(k)
		delete(c.byKey, k)
	}
	c.byKey[key] = h
	c.used += h.cost(key)
}

// take returns and removes key's hint if it is for version and fresh: a
// hint serves one write at most, since every write changes the CAS unique.
// A hint for another version is left for the caller that loaded it.
func (c *hints) take(key string, version uint64, now time.Time) (hint, bool) {
	return c.takeIf(key, now, func(h hint) bool { return h.version == version })
}

// takeAny is take for any version (Touch keeps the version it finds).
func (c *hints) takeAny(key string, now time.Time) (hint, bool) {
	return c.takeIf(key, now, func(hint) bool { return true })
}

func (c *hints) takeIf(key string, now time.Time, match func(hint) bool) (hint, bool) {
	if c.max <= 0 {
		return hint{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.byKey[key]
	if !ok || !match(h) {
		return hint{}, false
	}
	c.used -= h.cost(key)
	delete(c.byKey, key)
	if now.Sub(h.at) > hintTTL {
		return hint{}, false
	}
	return h, true
}

func (c *hints) drop(key string) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	if h, ok := c.byKey[key]; ok {
		c.used -= h.cost(key)
		delete(c.byKey, key)
	}
	c.mu.Unlock()
}

func (c *hints) size() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey), c.used
}
