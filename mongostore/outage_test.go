package mongostore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// TestServerAbsent: with no server, every operation returns an error for
// which errors.Is(err, context.DeadlineExceeded) holds, within the context's
// deadline (the client's own server-selection timeout is the default 30 s).
func TestServerAbsent(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + closedPort(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := newStore(t, client.Database("x").Collection("sessions"), mongostore.Options{})
	const deadline = 500 * time.Millisecond
	ops := map[string]func(context.Context) error{
		"Load":   func(ctx context.Context) error { _, err := s.Load(ctx, "k"); return err },
		"Save":   func(ctx context.Context) error { _, err := s.Save(ctx, "k", rec("x", time.Hour)); return err },
		"Touch":  func(ctx context.Context) error { return s.Touch(ctx, "k", time.Now().Add(time.Hour)) },
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"GC":     func(ctx context.Context) error { _, err := s.GC(ctx); return err },
		"Iterate": func(ctx context.Context) error {
			return s.Iterate(ctx, func(string, session.Record) bool { return true })
		},
		"OwnerKeys":     func(ctx context.Context) error { _, err := s.OwnerKeys(ctx, "o"); return err },
		"EnsureIndexes": s.EnsureIndexes,
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err := op(ctx)
			took := time.Since(start)
			if err == nil {
				t.Fatalf("%s with no server: no error", name)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: err = %v, want errors.Is context.DeadlineExceeded", name, err)
			}
			if took > deadline+time.Second {
				t.Errorf("%s returned after %v, deadline was %v", name, took, deadline)
			}
		})
	}
}

// proxy forwards a loopback port to the test server and can be cut and
// restored, to play a server that goes away and comes back.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen %s: %v", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	if p.conns == nil {
		p.conns = map[net.Conn]struct{}{}
	}
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
}

// stop closes the listener and every forwarded connection and waits for
// the forwarding goroutines to end.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestServerGoesAwayAndComesBack: operations fail within their deadline
// while the server is unreachable and work again, with the same client and
// store, once it is back.
func TestServerGoesAwayAndComesBack(t *testing.T) {
	uri := os.Getenv(uriVar)
	if uri == "" {
		t.Skipf("%s is not set", uriVar)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		t.Skipf("%s = %q: not a single-host mongodb:// URI", uriVar, uri)
	}
	e := newEnv(t) // database of our own, dropped at the end
	p := &proxy{target: u.Host}
	p.start(t)
	t.Cleanup(p.stop)
	pu := *u
	pu.Host = p.addr
	if pu.Path == "" {
		pu.Path = "/"
	}
	q := pu.Query()
	q.Set("directConnection", "true")
	pu.RawQuery = q.Encode()
	client, err := mongo.Connect(options.Client().ApplyURI(pu.String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	s := newStore(t, client.Database(e.coll.Database().Name()).Collection(e.coll.Name()), mongostore.Options{})
	ctx := ctxFor(t)
	key := randomHex(32)
	v, err := s.Save(ctx, key, rec("before", time.Hour))
	if err != nil {
		t.Fatalf("Save through the proxy: %v", err)
	}

	p.stop()
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	start := time.Now()
	_, err = s.Load(short, key)
	cancel()
	if err == nil {
		t.Fatal("Load with the server gone: no error")
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("Load with the server gone took %v, deadline 500ms", took)
	}
	t.Logf("server gone: %v", err)

	p.start(t) // same address
	// The driver notices the server again on its own; no new client needed.
	// Each attempt is bounded by its own deadline; the loop by ctx.
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		got, err := s.Load(attempt, key)
		cancel()
		if err == nil {
			if string(got.Data) != "before" || got.Version != v {
				t.Fatalf("after the server came back: %q version %d", got.Data, got.Version)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("store did not recover after the server came back: %v", err)
		}
	}
	got, _ := s.Load(ctx, key)
	got.Data = []byte("after")
	if _, err := s.Save(ctx, key, got); err != nil {
		t.Fatalf("Save after the server came back: %v", err)
	}
}
