package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// allOps calls every store method once with ctx and returns their errors.
func allOps(ctx context.Context, s *redisstore.Store) map[string]error {
	key := storetest.Key()
	rec := session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Owner: "someone"}
	errs := map[string]error{}
	_, errs["Load"] = s.Load(ctx, key)
	_, errs["Save"] = s.Save(ctx, key, rec)
	errs["Touch"] = s.Touch(ctx, key, time.Now().Add(time.Hour))
	errs["Delete"] = s.Delete(ctx, key)
	_, errs["OwnerKeys"] = s.OwnerKeys(ctx, "someone")
	errs["Iterate"] = s.Iterate(ctx, func(string, session.Record) bool { return true })
	return errs
}

// TestClosedPort points the store at a port where nothing listens: every
// call fails, and returns no later than the context's deadline.
func TestClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, ctxTimeouts := range []bool{false, true} {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: ctxTimeouts})
		t.Cleanup(func() { _ = c.Close() })
		s := newStore(t, c, redisstore.Options{})
		const limit = 2 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		start := time.Now()
		errs := allOps(ctx, s)
		elapsed := time.Since(start)
		cancel()
		for op, err := range errs {
			if err == nil {
				t.Errorf("ContextTimeoutEnabled=%v: %s against a closed port succeeded", ctxTimeouts, op)
			}
		}
		if elapsed > limit+500*time.Millisecond {
			t.Errorf("ContextTimeoutEnabled=%v: the calls took %v, past the %v deadline", ctxTimeouts, elapsed, limit)
		}
		t.Logf("ContextTimeoutEnabled=%v: 6 calls failed in %v; Load: %v", ctxTimeouts, elapsed, errs["Load"])
	}
}

// blackhole accepts connections and never answers.
type blackhole struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func newBlackhole(t *testing.T) *blackhole {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{l: l, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-b.done
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
	})
	return b
}

// TestUnresponsiveServer points the store at a server that accepts
// connections and never answers: every call returns at the context's
// deadline with an error matching context.DeadlineExceeded, also when the
// client itself would wait for its 5 s read timeout.
func TestUnresponsiveServer(t *testing.T) {
	b := newBlackhole(t)
	for _, ctxTimeouts := range []bool{false, true} {
		c := redis.NewClient(&redis.Options{Addr: b.l.Addr().String(), ContextTimeoutEnabled: ctxTimeouts, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		s := newStore(t, c, redisstore.Options{})
		const limit = 300 * time.Millisecond
		for op, call := range map[string]func(context.Context) error{
			"Load": func(ctx context.Context) error { _, err := s.Load(ctx, storetest.Key()); return err },
			"Save": func(ctx context.Context) error {
				_, err := s.Save(ctx, storetest.Key(), session.Record{Expiry: time.Now().Add(time.Hour)})
				return err
			},
			"Touch":     func(ctx context.Context) error { return s.Touch(ctx, storetest.Key(), time.Now().Add(time.Hour)) },
			"Delete":    func(ctx context.Context) error { return s.Delete(ctx, storetest.Key()) },
			"OwnerKeys": func(ctx context.Context) error { _, err := s.OwnerKeys(ctx, "someone"); return err },
			"Iterate": func(ctx context.Context) error {
				return s.Iterate(ctx, func(string, session.Record) bool { return true })
			},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			start := time.Now()
			err := call(ctx)
			elapsed := time.Since(start)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("ContextTimeoutEnabled=%v: %s: err = %v, want context.DeadlineExceeded", ctxTimeouts, op, err)
			}
			if elapsed > limit+time.Second {
				t.Errorf("ContextTimeoutEnabled=%v: %s returned after %v, deadline was %v", ctxTimeouts, op, elapsed, limit)
			}
		}
	}
}

// proxy forwards TCP connections to a Redis server and can be stopped and
// started again on the same address: a server that goes away and comes
// back.
type proxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, addr: "127.0.0.1:0", target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.l = l
	p.addr = l.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and every connection, and waits for the
// forwarding goroutines.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// TestServerGoesAwayAndComesBack: while the server is unreachable the store
// returns errors within the deadline; once it is back the same store works
// again, at the latest on the second call.
func TestServerGoesAwayAndComesBack(t *testing.T) {
	admin := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	p := newProxy(t, env(t, envAddr))
	c := redis.NewClient(&redis.Options{Addr: p.addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, admin)})
	ctx := shortCtx(t)
	key := storetest.Key()
	v := mustSave(t, ctx, s, key, "before")

	p.stop()
	down, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	start := time.Now()
	_, err := s.Load(down, key)
	cancel()
	if err == nil {
		t.Fatal("Load succeeded while the server was away")
	}
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Fatalf("Load took %v while the server was away, deadline 2s", d)
	}
	t.Logf("while away: %v", err)

	p.start()
	recoverAfterOutage(t, ctx, s, key, v)
}

// TestClientKill kills the store's connections on the server (CLIENT KILL):
// the next call works or fails cleanly, and the one after works.
func TestClientKill(t *testing.T) {
	admin := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	name := "sktest-" + randomHex(6)
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true, ClientName: name})
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, admin)})
	ctx := shortCtx(t)
	key := storetest.Key()
	v := mustSave(t, ctx, s, key, "before")

	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		fields := strings.Fields(line)
		var id string
		mine := false
		for _, f := range fields {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			mine = mine || f == "name="+name
		}
		if mine && id != "" {
			if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed == 0 {
		t.Fatalf("no connection named %s in CLIENT LIST", name)
	}
	t.Logf("killed %d connection(s)", killed)
	recoverAfterOutage(t, ctx, s, key, v)
}

func mustSave(t *testing.T, ctx context.Context, s *redisstore.Store, key, data string) uint64 {
	t.Helper()
	v, err := s.Save(ctx, key, session.Record{Data: []byte(data), Expiry: time.Now().Add(time.Hour), Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// recoverAfterOutage checks that the record saved before an outage is
// intact: the first Load may fail (cleanly), the second must work, and so
// must a Save.
func recoverAfterOutage(t *testing.T, ctx context.Context, s *redisstore.Store, key string, v uint64) {
	t.Helper()
	rec, err := s.Load(ctx, key)
	if err != nil {
		t.Logf("first call after the outage failed: %v", err)
		if rec, err = s.Load(ctx, key); err != nil {
			t.Fatalf("second call after the outage: %v", err)
		}
	}
	if string(rec.Data) != "before" || rec.Version != v {
		t.Fatalf("after the outage: %q version %d, want %q version %d", rec.Data, rec.Version, "before", v)
	}
	rec.Data = []byte("after")
	if _, err := s.Save(ctx, key, rec); err != nil {
		t.Fatalf("Save after the outage: %v", err)
	}
}
