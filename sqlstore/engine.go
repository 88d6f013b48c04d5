package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/session"
)

// ErrSchema means the table is missing or does not have the columns of the
// layout. Create or upgrade it with [CreateSchema], [Migrate],
// [UpgradeIncubator34] or [UpgradeToNative].
var ErrSchema = errors.New("sqlstore: table does not match the layout")

// engine holds what both layouts share: options, quoted names, the SQL of
// every operation and the prepared statements.
type engine struct {
	names
	db       *sql.DB // writes, and reads when rdb is db
	rdb      *sql.DB // reads: Options.ReadDB or db
	o        Options
	d        dialect
	compat   bool
	hasOwner bool
	maxKey   int      // characters, 0 = unlimited
	maxOwner int      // characters, 0 = unlimited
	maxData  int64    // bytes, 0 = unlimited
	tk       timeKind // kind of created/modified

	// wgate, for a dialect with one writer (SQLite), lets the store's
	// writes through one at a time: they queue here, in order and
	// honouring their contexts, instead of in the database's busy
	// handler, which sleeps and retries and turns a burst of writers into
	// seconds of latency and SQLITE_BUSY errors. nil for the others.
	wgate chan struct{}

	q     queries
	mu    sync.Mutex
	stmts [numQueries]*sql.Stmt
}

func newEngine(ctx context.Context, db *sql.DB, o Options, compat bool) (*engine, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", errOptions)
	}
	if compat {
		o.Layout = Compatibility
	} else if o.Layout != Native {
		return nil, fmt.Errorf("%w: New needs the Native layout; use NewCompat for %v", errOptions, o.Layout)
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	n := newNames(o)
	if o.ReadDB != nil && !n.d.oneWriter() {
		return nil, fmt.Errorf("%w: ReadDB is for SQLite (see OpenSQLite); on %v a replica's lag would let a request miss its own writes", errOptions, o.Dialect)
	}
	ti, err := inspect(ctx, db, n)
	if err != nil {
		return nil, err
	}
	if ti == nil {
		return nil, fmt.Errorf("%w: table %s does not exist (create it with CreateSchema or Migrate)", ErrSchema, o.Table)
	}
	c := o.Columns
	if compat && ti.native(c) {
		return nil, errNativeTable(o.Table, "NewCompat", c)
	}
	required := []string{c.ID, c.Data, c.Created, c.Modified}
	if !compat {
		required = append(required, c.Expires, c.Version, c.Owner)
	}
	var missing []string
	for _, name := range required {
		if _, ok := ti.get(name); !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		hint := ""
		if !compat {
			hint = " (a compatibility-layout table becomes native with UpgradeToNative)"
		}
		return nil, fmt.Errorf("%w: table %s has no column %s%s", ErrSchema, o.Table, strings.Join(missing, ", "), hint)
	}
	f, err := n.d.probe(ctx, db, n, ti, o.Layout)
	if err != nil {
		return nil, err
	}
	e := &engine{names: n, db: db, rdb: db, o: o, d: n.d, compat: compat, maxData: f.dataLimit}
	if o.ReadDB != nil {
		e.rdb = o.ReadDB
	}
	if n.d.oneWriter() {
		e.wgate = make(chan struct{}, 1)
	}
	dataCol, _ := ti.get(c.Data)
	if compat {
		e.tk = compatTime
		if f.secondsInTime {
			return nil, fmt.Errorf("%w: %s.%s holds Unix seconds (incubator 3.4 schema): run UpgradeIncubator34", ErrSchema, o.Table, c.Created)
		}
		_, e.hasOwner = ti.get(c.Owner)
	} else {
		e.tk = nativeTime
		e.hasOwner = true
		if o.Dialect != SQLite && isTextType(dataCol.dataType) {
			return nil, fmt.Errorf("%w: %s.%s is %s, not binary: run UpgradeToNative", ErrSchema, o.Table, c.Data, dataCol.dataType)
		}
		if !f.versionTrigger {
			return nil, fmt.Errorf("%w: table %s has no trigger %s, which gives a row a new version when another program changes its data: run Migrate or UpgradeToNative", ErrSchema, o.Table, n.triggerName())
		}
	}
	idCol, _ := ti.get(c.ID)
	e.maxKey = o.MaxKeyLength
	if e.maxKey == 0 {
		e.maxKey = int(idCol.maxChars)
	}
	if oc, ok := ti.get(c.Owner); ok {
		e.maxOwner = int(oc.maxChars)
	}
	e.q = e.buildQueries()
	return e, nil
}

func (e *engine) now() time.Time { return e.o.Now().UTC() }

// stmt returns the prepared statement of query id, preparing it on first
// use. database/sql re-prepares it on each pooled connection as needed, so
// in the steady state an operation costs one round trip.
func (e *engine) stmt(ctx context.Context, id queryID) (*sql.Stmt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st := e.stmts[id]; st != nil {
		return st, nil
	}
	text := e.q.text[id]
	if text == "" {
		return nil, fmt.Errorf("sqlstore: the %v layout on %v has no %v statement", e.o.Layout, e.o.Dialect, id)
	}
	st, err := e.pool(id).PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	e.stmts[id] = st
	return st, nil
}

// pool returns the pool that runs statement id: the read pool for the
// statements that only read, db for the others. (The read pool differs from
// db only on SQLite, whose compatibility layout reads qLock outside a
// transaction; the dialects that run qLock in a transaction on db never
// have a read pool of their own.)
func (e *engine) pool(id queryID) *sql.DB {
	switch id {
	case qLoad, qExists, qLock, qOwnerKeys, qIterate:
		return e.rdb
	}
	return e.db
}

// writeTurn waits for the write gate (dialects with one writer) and returns
// the function that lets the next writer in.
func (e *engine) writeTurn(ctx context.Context) (done func(), err error) {
	if e.wgate == nil {
		return func() {}, nil
	}
	select {
	case e.wgate <- struct{}{}:
		return func() { <-e.wgate }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// exec runs write statement id, in its turn, and returns the number of
// rows it affected.
func (e *engine) exec(ctx context.Context, id queryID, args ...any) (int64, error) {
	st, err := e.stmt(ctx, id)
	if err != nil {
		return 0, err
	}
	done, err := e.writeTurn(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (e *engine) queryRow(ctx context.Context, id queryID, args ...any) (*sql.Row, error) {
	st, err := e.stmt(ctx, id)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// close closes the prepared statements.
func (e *engine) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for i, st := range e.stmts {
		if st != nil {
			errs = append(errs, st.Close())
			e.stmts[i] = nil
		}
	}
	return errors.Join(errs...)
}

// fail wraps err for op, making sure a cancelled or expired context is
// visible to errors.Is.
func fail(ctx context.Context, op string, err error) error {
	if ce := ctx.Err(); ce != nil && !errors.Is(err, ce) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, ce, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// checkKey refuses keys the table cannot hold exactly.
func (e *engine) checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", session.ErrInvalidKey)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key is not valid UTF-8", session.ErrInvalidKey)
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: key contains control characters", session.ErrInvalidKey)
	case strings.HasSuffix(key, " "):
		return fmt.Errorf("%w: key ends with a space (equal to the trimmed key under SQL PAD SPACE collations)", session.ErrInvalidKey)
	}
	if n := utf8.RuneCountInString(key); e.maxKey > 0 && n > e.maxKey {
		return fmt.Errorf("%w: key of %d characters is longer than the %d that column %s of %s holds", session.ErrInvalidKey, n, e.maxKey, e.o.Columns.ID, e.o.Table)
	}
	return nil
}

func (e *engine) checkOwner(owner string) error {
	if owner == "" {
		return nil
	}
	if !e.hasOwner {
		return fmt.Errorf("%w: table %s has no %s column to hold Record.Owner", session.ErrUnsupported, e.o.Table, e.o.Columns.Owner)
	}
	if !utf8.ValidString(owner) || strings.IndexByte(owner, 0) >= 0 {
		return fmt.Errorf("%w: owner is not valid UTF-8 text without NUL", session.ErrUnsupported)
	}
	if n := utf8.RuneCountInString(owner); e.maxOwner > 0 && n > e.maxOwner {
		return fmt.Errorf("%w: owner of %d characters is longer than the %d that column %s holds", session.ErrUnsupported, n, e.maxOwner, e.o.Columns.Owner)
	}
	return nil
}

// newVersion returns a random version in [1, 2^62): a record created again
// under the same key does not repeat the versions of an earlier one.
func newVersion() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])%(1<<62-1) + 1
}

// nextVersion returns the version after v, never v itself.
func nextVersion(v uint64) uint64 { return v%(1<<62) + 1 }

// zeroVersion is the version Load reports for a live native row whose
// version column holds 0 (written by another program or by hand): 0 would
// mean "no record" to Save, which would then insert and conflict forever.
// Save turns it back into 0 for the compare-and-set.
const zeroVersion uint64 = 1 << 63

// versionParam is the version column's value for the version v that Load
// reported.
func versionParam(v uint64) int64 {
	if v == zeroVersion {
		return 0
	}
	return int64(v)
}
