package session

import (
	"context"
	"sync"
)

// keyLocks serialises the saves of one session within this process, one
// lock per store key: saves of unrelated sessions never wait on each other,
// and a waiter gives up when its context ends.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	turn chan struct{} // holds one token while the key is locked
	refs int           // holders and waiters
}

// lock waits for key's turn or for ctx to end. The returned function
// releases the turn; it must be called exactly once.
func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{turn: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()

	select {
	case l.turn <- struct{}{}:
		return func() {
			<-l.turn
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyLocks) release(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(k.locks, key)
	}
}
