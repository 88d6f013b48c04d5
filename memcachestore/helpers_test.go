package memcachestore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session/memcachestore"
)

const addrEnv = "SESSION_TEST_MEMCACHED_ADDR"

func serverAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv(addrEnv)
	if addr == "" {
		t.Skipf("%s is not set: no memcached to test against", addrEnv)
	}
	return addr
}

// roundTrips counts request/response turns on the client's connections: a
// turn starts with the first write after a read (or the first write on a
// new connection). Connection setup is not counted.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) get() int64 { return r.n.Load() }

type countingConn struct {
	net.Conn
	rt      *roundTrips
	writing bool // only used by the goroutine holding the connection
}

func (c *countingConn) Write(p []byte) (int, error) {
	if !c.writing {
		c.writing = true
		c.rt.n.Add(1)
	}
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.writing = false
	return c.Conn.Read(p)
}

// newClient returns a gomemcache client for addr whose round trips are
// counted.
func newClient(addr string) (*memcache.Client, *roundTrips) {
	rt := &roundTrips{}
	c := memcache.New(addr)
	c.Timeout = 2 * time.Second
	c.MaxIdleConns = 16
	c.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, rt: rt}, nil
	}
	return c, rt
}

// uniquePrefix returns a prefix of this test run only, so parallel runs and
// reruns do not see each other's items.
func uniquePrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "sktest-" + hex.EncodeToString(b[:]) + "-"
}

func newStore(t *testing.T, opts memcachestore.Options) (*memcachestore.Store, *memcache.Client, *roundTrips) {
	t.Helper()
	c, rt := newClient(serverAddr(t))
	if opts.Prefix == "" {
		opts.Prefix = uniquePrefix()
	}
	s, err := memcachestore.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return s, c, rt
}
