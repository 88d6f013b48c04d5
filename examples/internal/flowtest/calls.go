package flowtest

import (
	"context"
	"sync"
	"time"

	"github.com/sessionkit/session"
)

// Calls is a session.Observer that counts the manager's store calls, so
// that a test can check how many round trips a request cost.
type Calls struct {
	mu  sync.Mutex
	ops map[session.StoreOp]int
}

// StoreCall implements session.Observer.
func (c *Calls) StoreCall(_ context.Context, op session.StoreOp, _ time.Duration, _ error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = make(map[session.StoreOp]int)
	}
	c.ops[op]++
}

// Event implements session.Observer.
func (c *Calls) Event(context.Context, session.Event) {}

// Take returns the calls counted since the last Take and resets the count.
func (c *Calls) Take() map[session.StoreOp]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	if ops == nil {
		ops = map[session.StoreOp]int{}
	}
	return ops
}

// Total returns the number of calls in ops.
func Total(ops map[session.StoreOp]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}
