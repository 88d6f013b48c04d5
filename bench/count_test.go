package bench

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session/internal/sqlcount"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Store calls are counted where they leave the process: at the database/sql
// driver (each statement, prepare, begin, commit and rollback), in the Mongo
// driver's command monitor (each command), in a go-redis hook (each command,
// or each pipeline as one), and for clients without hooks (redigo,
// gomemcache) as write calls on the network connection, which those clients
// make once per flushed request.

// counter counts store calls of one backend. While tracing, it also keeps
// the SQL statements executed, so that the ceiling can replay them.
type counter struct {
	n       atomic.Int64
	tracing atomic.Bool
	mu      sync.Mutex
	traced  []traced
}

// traced is one SQL statement as it reached the driver.
type traced struct {
	query string
	args  []driver.NamedValue
}

func (c *counter) add()                { c.n.Add(1) }
func (c *counter) load() int64         { return c.n.Load() }
func (c *counter) since(n int64) int64 { return c.n.Load() - n }

func (c *counter) trace(query string, args []driver.NamedValue) {
	if !c.tracing.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traced = append(c.traced, traced{query, append([]driver.NamedValue(nil), args...)})
}

// capture returns the statements executed while fn runs.
func (c *counter) capture(fn func()) []traced {
	c.mu.Lock()
	c.traced = nil
	c.mu.Unlock()
	c.tracing.Store(true)
	fn()
	c.tracing.Store(false)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.traced
}

// ---- database/sql ----

// Observe implements sqlcount.Observer: every call that reaches the
// database/sql driver counts, and statements are traced.
func (c *counter) Observe(k sqlcount.Kind, query string, args []driver.NamedValue) {
	c.add()
	if k == sqlcount.Exec || k == sqlcount.Query {
		c.trace(query, args)
	}
}

// countingConnector wraps a driver.Connector so that every call that
// reaches the driver counts on c.
type countingConnector struct {
	inner driver.Connector
	c     *counter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	return sqlcount.Connector(cc.inner, cc.c).Connect(ctx)
}

func (cc countingConnector) Driver() driver.Driver { return cc.inner.Driver() }

// connectorFor returns the driver's connector for dsn.
func connectorFor(drv driver.Driver, dsn string) (driver.Connector, error) {
	return sqlcount.ConnectorFor(drv, dsn)
}

// ---- MongoDB ----

// mongoMonitor counts every command the driver sends (handshakes and
// heartbeats are not commands and are not counted).
func mongoMonitor(c *counter) *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { c.add() }}
}

// ---- go-redis ----

// redisHook counts each command, and each pipeline or transaction as one
// round trip.
type redisHook struct{ c *counter }

func (redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.c.add()
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.c.add()
		return next(ctx, cmds)
	}
}

// ---- network connections (redigo, gomemcache) ----

// countingNetConn counts Write calls: redigo and gomemcache buffer a request
// (or a pipeline) and flush it with one write, then wait for the answer, so
// writes are round trips for the small values used here.
type countingNetConn struct {
	net.Conn
	c *counter
}

func (cn countingNetConn) Write(p []byte) (int, error) {
	cn.c.add()
	return cn.Conn.Write(p)
}

// countingDial returns a dial function whose connections count writes.
func countingDial(c *counter) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingNetConn{conn, c}, nil
	}
}
