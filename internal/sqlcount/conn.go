package sqlcount

import (
	"context"
	"database/sql/driver"
	"errors"
)

// conn reports the calls of one driver connection. It implements the
// optional interfaces of database/sql/driver by forwarding them, answering
// driver.ErrSkip where the wrapped connection lacks one, so that
// database/sql takes the same path as without the wrapper.
type conn struct {
	driver.Conn
	o Observer
}

func (cn *conn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	cn.o.Observe(Prepare, query, nil)
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
	return &stmt{Stmt: st, o: cn.o, query: query}, nil
}

func (cn *conn) Begin() (driver.Tx, error) {
	return cn.BeginTx(context.Background(), driver.TxOptions{})
}

func (cn *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	cn.o.Observe(Begin, "", nil)
	var (
		t   driver.Tx
		err error
	)
	if b, ok := cn.Conn.(driver.ConnBeginTx); ok {
		t, err = b.BeginTx(ctx, opts)
	} else {
		t, err = cn.Conn.Begin() //nolint:staticcheck // the wrapped driver's fallback
	}
	if err != nil {
		return nil, err
	}
	return tx{t, cn.o}, nil
}

// ExecContext reports the statement only when the driver ran it (not when
// it answered driver.ErrSkip, after which database/sql prepares it).
func (cn *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := cn.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		cn.o.Observe(Exec, query, args)
	}
	return res, err
}

// QueryContext reports like ExecContext.
func (cn *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := cn.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		cn.o.Observe(Query, query, args)
	}
	return rows, err
}

func (cn *conn) Ping(ctx context.Context) error {
	if p, ok := cn.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cn *conn) ResetSession(ctx context.Context) error {
	if r, ok := cn.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cn *conn) IsValid() bool {
	if v, ok := cn.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (cn *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := cn.Conn.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// stmt reports each execution of a prepared statement.
type stmt struct {
	driver.Stmt
	o     Observer
	query string
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	s.o.Observe(Exec, s.query, named(args))
	return s.Stmt.Exec(args) //nolint:staticcheck // driver.Stmt fallback
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	s.o.Observe(Query, s.query, named(args))
	return s.Stmt.Query(args) //nolint:staticcheck // driver.Stmt fallback
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		s.o.Observe(Exec, s.query, args)
		return e.ExecContext(ctx, args)
	}
	vals, err := plain(args)
	if err != nil {
		return nil, err
	}
	return s.Exec(vals)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		s.o.Observe(Query, s.query, args)
		return q.QueryContext(ctx, args)
	}
	vals, err := plain(args)
	if err != nil {
		return nil, err
	}
	return s.Query(vals)
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if c, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return c.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// plain turns positional named values into values; named ones are left to
// database/sql (driver.ErrSkip).
func plain(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, driver.ErrSkip
		}
		out[i] = a.Value
	}
	return out, nil
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// tx reports commits and rollbacks.
type tx struct {
	driver.Tx
	o Observer
}

func (t tx) Commit() error   { t.o.Observe(Commit, "", nil); return t.Tx.Commit() }
func (t tx) Rollback() error { t.o.Observe(Rollback, "", nil); return t.Tx.Rollback() }
