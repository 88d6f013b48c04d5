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
	db       *sql.DB
	o        Options
	d        Dialect
	compat   bool
	hasOwner bool
	maxKey   int   // characters, 0 = unlimited
	maxOwner int   // characters, 0 = unlimited
	maxData  int64 // bytes, 0 = unlimited

	// Quoted names.
	tbl, id, data, created, modified, expires, version, owner string
	tk                                                        timeKind // kind of created/modified

	q     map[string]string
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
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
	ti, err := inspect(ctx, db, o)
	if err != nil {
		return nil, err
	}
	if ti == nil {
		return nil, fmt.Errorf("%w: table %s does not exist (create it with CreateSchema or Migrate)", ErrSchema, o.Table)
	}
	c := o.Columns
	required := []string{c.ID, c.Data, c.Created, c.Modified}
	if !compat {
		required = append(required, c.Expires, c.Version, c.Owner)
	}
	var missing []string
	for _, n := range required {
		if _, ok := ti.get(n); !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		hint := ""
		if !compat {
			hint = " (a compatibility-layout table becomes native with UpgradeToNative)"
		}
		return nil, fmt.Errorf("%w: table %s has no column %s%s", ErrSchema, o.Table, strings.Join(missing, ", "), hint)
	}
	e := &engine{db: db, o: o, d: o.Dialect, compat: compat, stmts: map[string]*sql.Stmt{}}
	dataCol, _ := ti.get(c.Data)
	createdCol, _ := ti.get(c.Created)
	if compat {
		e.tk = seedTime
		legacy := o.Dialect != SQLite && isIntegerType(createdCol.dataType)
		if o.Dialect == SQLite {
			// SQLite keeps the declared type; look at the values.
			var one int
			err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT 1 FROM %s WHERE typeof(%s) IN ('integer', 'real') OR typeof(%s) IN ('integer', 'real') LIMIT 1",
				quoteTable(SQLite, o.Table), quote(SQLite, c.Created), quote(SQLite, c.Modified))).Scan(&one)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("sqlstore: inspect table %s: %w", o.Table, err)
			}
			legacy = err == nil
		}
		if legacy {
			return nil, fmt.Errorf("%w: %s.%s holds Unix seconds (incubator 3.4 schema): run UpgradeIncubator34", ErrSchema, o.Table, c.Created)
		}
		_, e.hasOwner = ti.get(c.Owner)
	} else {
		e.tk = nativeTime
		e.hasOwner = true
		if e.d != SQLite && isTextType(dataCol.dataType) {
			return nil, fmt.Errorf("%w: %s.%s is %s, not binary: run UpgradeToNative", ErrSchema, o.Table, c.Data, dataCol.dataType)
		}
	}
	idCol, _ := ti.get(c.ID)
	e.maxKey = o.MaxKeyLength
	if e.maxKey == 0 {
		e.maxKey = int(idCol.maxChars)
	}
	if e.d == MySQL {
		e.maxData = dataCol.maxBytes
	}
	if oc, ok := ti.get(c.Owner); ok {
		e.maxOwner = int(oc.maxChars)
	}
	e.tbl = quoteTable(e.d, o.Table)
	e.id, e.data, e.created, e.modified = quote(e.d, c.ID), quote(e.d, c.Data), quote(e.d, c.Created), quote(e.d, c.Modified)
	e.expires, e.version, e.owner = quote(e.d, c.Expires), quote(e.d, c.Version), quote(e.d, c.Owner)
	e.buildQueries()
	return e, nil
}

func (e *engine) now() time.Time { return e.o.Now().UTC() }

// stmt returns the prepared statement for the named query, preparing it on
// first use. database/sql re-prepares it on each pooled connection as
// needed, so in the steady state an operation costs one round trip.
func (e *engine) stmt(ctx context.Context, name string) (*sql.Stmt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.stmts[name]; ok {
		return st, nil
	}
	q, ok := e.q[name]
	if !ok {
		panic("sqlstore: no query " + name)
	}
	st, err := e.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	e.stmts[name] = st
	return st, nil
}

func (e *engine) exec(ctx context.Context, name string, args ...any) (int64, error) {
	st, err := e.stmt(ctx, name)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (e *engine) queryRow(ctx context.Context, name string, args ...any) (*sql.Row, error) {
	st, err := e.stmt(ctx, name)
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
	for n, st := range e.stmts {
		errs = append(errs, st.Close())
		delete(e.stmts, n)
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

// isDuplicate reports whether err is MySQL's duplicate key error 1062.
func isDuplicate(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Error 1062")
}
