package memcachestore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachestore"
	"github.com/sessionkit/session/storetest"
)

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A server that is not there is an error, quickly, for every method; not a
// panic, not ErrNotFound.
func TestServerDown(t *testing.T) {
	c := memcache.New(closedAddr(t))
	c.Timeout = 300 * time.Millisecond
	s, err := memcachestore.New(c, memcachestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := storetest.Key()
	check := func(op string, err error) {
		t.Helper()
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrConflict) {
			t.Errorf("%s against a closed port: err = %v, want a connection error", op, err)
		}
	}
	start := time.Now()
	_, err = s.Load(ctx, key)
	check("Load", err)
	_, err = s.Save(ctx, key, rec("x", time.Hour))
	check("Save", err)
	_, err = s.Save(ctx, key, session.Record{Version: 1, Expiry: time.Now().Add(time.Hour)})
	check("Save(version 1)", err)
	check("Delete", s.Delete(ctx, key))
	check("Touch", s.Touch(ctx, key, time.Now().Add(time.Hour)))
	if d := time.Since(start); d > 5*c.Timeout {
		t.Fatalf("5 calls took %v against a closed port, want well under %v", d, 5*c.Timeout)
	}
}

// proxy forwards TCP connections to a backend and can be stopped and
// started again on the same address, standing for a server that goes away
// and comes back.
type proxy struct {
	addr, backend string
	mu            sync.Mutex
	l             net.Listener
	conns         map[net.Conn]struct{}
	wg            sync.WaitGroup
}

func startProxy(t *testing.T, backend string) *proxy {
	p := &proxy{addr: "127.0.0.1:0", backend: backend}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.l, p.addr, p.conns = l, l.Addr().String(), map[net.Conn]struct{}{}
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.backend)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

// stop closes the listener and every connection, as a crashed server would.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	p.wg.Wait()
}

// When the server goes away the store returns errors; when it is back the
// same store works again, without a restart.
func TestReconnect(t *testing.T) {
	p := startProxy(t, serverAddr(t))
	c := memcache.New(p.addr)
	c.Timeout = time.Second
	s, err := memcachestore.New(c, memcachestore.Options{Prefix: uniquePrefix()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := storetest.Key()
	t.Cleanup(func() { _ = s.Delete(context.Background(), key) })
	v, err := s.Save(ctx, key, rec("before", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, key); err != nil {
		t.Fatal(err)
	}

	p.stop() // pooled connections die, new ones are refused
	if _, err := s.Load(ctx, key); err == nil || errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load while the server is away: err = %v, want a connection error", err)
	}
	upd := rec("during", time.Hour)
	upd.Version = v
	if _, err := s.Save(ctx, key, upd); err == nil {
		t.Fatal("Save while the server is away: no error")
	}

	p.start(t)
	got, err := s.Load(ctx, key)
	if err != nil {
		t.Fatalf("Load after the server came back: %v", err)
	}
	if string(got.Data) != "before" || got.Version != v {
		t.Fatalf("after reconnect: %q version %d, want %q version %d", got.Data, got.Version, "before", v)
	}
	upd = rec("after", time.Hour)
	upd.Version = v
	if _, err := s.Save(ctx, key, upd); err != nil {
		t.Fatalf("Save after the server came back: %v", err)
	}
}

// A context that is already done stops the call before any round trip.
func TestContextCheckedBeforeRoundTrip(t *testing.T) {
	s, _, rt := newStore(t, memcachestore.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	key := storetest.Key()
	if _, err := s.Load(ctx, key); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load: %v", err)
	}
	if _, err := s.Save(ctx, key, rec("x", time.Hour)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Save: %v", err)
	}
	if err := s.Touch(ctx, key, time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Touch: %v", err)
	}
	if err := s.Delete(ctx, key); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Delete: %v", err)
	}
	if n := rt.get(); n != 0 {
		t.Fatalf("%d round trips with a done context, want 0", n)
	}
}
