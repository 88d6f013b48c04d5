// Package sqlcount wraps a database/sql driver so that every call reaching
// the driver is reported: each prepare, statement execution or query, begin,
// commit and rollback, which for a network database is one round trip to the
// server. Tests use it to count the statements an operation costs, and the
// benchmarks to count and replay them.
package sqlcount

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
)

// Kind is the kind of a call that reached the driver.
type Kind int

// The kinds of calls.
const (
	Prepare Kind = iota
	Exec
	Query
	Begin
	Commit
	Rollback
	numKinds
)

var kindNames = [numKinds]string{"prepare", "exec", "query", "begin", "commit", "rollback"}

// String returns the kind's name.
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Observer is told of every call that reaches the driver, before it runs.
// query is the statement's text (empty for Begin, Commit and Rollback);
// args are the statement's arguments, valid only during the call.
// Observe must be safe for concurrent use.
type Observer interface {
	Observe(k Kind, query string, args []driver.NamedValue)
}

// Counts is an Observer that counts calls by kind. The zero value is ready
// to use and safe for concurrent use.
type Counts struct {
	n [numKinds]atomic.Int64
}

// Observe implements Observer.
func (c *Counts) Observe(k Kind, _ string, _ []driver.NamedValue) { c.n[k].Add(1) }

// Get returns the number of calls of kind k.
func (c *Counts) Get(k Kind) int64 { return c.n[k].Load() }

// Total returns the number of calls of every kind.
func (c *Counts) Total() int64 {
	var t int64
	for i := range c.n {
		t += c.n[i].Load()
	}
	return t
}

// Reset sets every count to 0.
func (c *Counts) Reset() {
	for i := range c.n {
		c.n[i].Store(0)
	}
}

// String lists the counts by kind.
func (c *Counts) String() string {
	return fmt.Sprintf("exec %d, query %d, prepare %d, begin %d, commit %d, rollback %d",
		c.Get(Exec), c.Get(Query), c.Get(Prepare), c.Get(Begin), c.Get(Commit), c.Get(Rollback))
}

// ConnectorFor returns a connector for dsn on drv: the driver's own
// (driver.DriverContext) or one that calls drv.Open.
func ConnectorFor(drv driver.Driver, dsn string) (driver.Connector, error) {
	if dc, ok := drv.(driver.DriverContext); ok {
		return dc.OpenConnector(dsn)
	}
	return dsnConnector{dsn, drv}, nil
}

// OpenDB opens a pool on drv and dsn whose calls are reported to o; a nil o
// counts nothing.
func OpenDB(drv driver.Driver, dsn string, o Observer) (*sql.DB, error) {
	c, err := ConnectorFor(drv, dsn)
	if err != nil {
		return nil, err
	}
	if o != nil {
		c = Connector(c, o)
	}
	return sql.OpenDB(c), nil
}

// Connector returns a connector whose connections report every call to o.
func Connector(inner driver.Connector, o Observer) driver.Connector {
	return connector{inner, o}
}

type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (d dsnConnector) Connect(context.Context) (driver.Conn, error) { return d.drv.Open(d.dsn) }
func (d dsnConnector) Driver() driver.Driver                        { return d.drv }

type connector struct {
	inner driver.Connector
	o     Observer
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: dc, o: c.o}, nil
}

func (c connector) Driver() driver.Driver { return c.inner.Driver() }
