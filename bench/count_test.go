package bench

import (
	"context"
	"database/sql/driver"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
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

// countingConnector wraps a driver.Connector so that every statement that
// reaches the driver is counted.
type countingConnector struct {
	inner driver.Connector
	c     *counter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: cc.c}, nil
}

func (cc countingConnector) Driver() driver.Driver { return cc.inner.Driver() }

// dsnConnector adapts a driver without DriverContext.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (d dsnConnector) Connect(context.Context) (driver.Conn, error) { return d.drv.Open(d.dsn) }
func (d dsnConnector) Driver() driver.Driver                        { return d.drv }

func connectorFor(drv driver.Driver, dsn string) (driver.Connector, error) {
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{dsn, drv}, nil
}

type countingConn struct {
	driver.Conn
	c *counter
}

func (cn *countingConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cn.c.add()
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := cn.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = cn.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, c: cn.c, query: query}, nil
}

func (cn *countingConn) Begin() (driver.Tx, error) {
	return cn.BeginTx(context.Background(), driver.TxOptions{})
}

func (cn *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.c.add()
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := cn.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = cn.Conn.Begin() //nolint:staticcheck // fallback for old drivers
	}
	if err != nil {
		return nil, err
	}
	return countingTx{tx, cn.c}, nil
}

func (cn *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.add()
		cn.c.trace(query, args)
	}
	return res, err
}

func (cn *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if err != driver.ErrSkip {
		cn.c.add()
		cn.c.trace(query, args)
	}
	return rows, err
}

func (cn *countingConn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *countingConn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	c     *counter
	query string
}

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.c.add()
	return s.Stmt.Exec(args) //nolint:staticcheck // driver.Stmt fallback
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.c.add()
	return s.Stmt.Query(args) //nolint:staticcheck // driver.Stmt fallback
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		s.c.add()
		s.c.trace(s.query, args)
		return e.ExecContext(ctx, args)
	}
	vals, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	return s.Exec(vals)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		s.c.add()
		s.c.trace(s.query, args)
		return q.QueryContext(ctx, args)
	}
	vals, err := plainValues(args)
	if err != nil {
		return nil, err
	}
	return s.Query(vals)
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, driver.ErrSkip
		}
		out[i] = a.Value
	}
	return out, nil
}

type countingTx struct {
	driver.Tx
	c *counter
}

func (tx countingTx) Commit() error   { tx.c.add(); return tx.Tx.Commit() }
func (tx countingTx) Rollback() error { tx.c.add(); return tx.Tx.Rollback() }

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
