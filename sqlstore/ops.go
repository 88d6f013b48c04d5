package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/sessionkit/session"
)

// scanRecord reads the columns of [engine.recordCols]. A row it cannot read
// (a time or version of the wrong type or out of range, a missing creation
// or expiry time) is an error wrapping session.ErrCorrupt.
func (e *engine) scanRecord(scan func(...any) error) (session.Record, error) {
	// One allocation holds every destination, which scan's interface
	// arguments would otherwise move to the heap one by one.
	sc := new(recordScan)
	raw, c, m, x, ver, owner := &sc.raw, &sc.c, &sc.m, &sc.x, &sc.ver, &sc.owner
	dest := sc.dest[:0]
	if !e.compat {
		dest = append(dest, raw, ver, owner, c, m, x)
	} else {
		dest = append(dest, raw, c, m)
		if e.hasOwner {
			dest = append(dest, owner)
		}
	}
	var rec session.Record
	if err := scan(dest...); err != nil {
		return rec, err
	}
	if !c.valid {
		return rec, corrupt("%s is NULL", e.o.Columns.Created)
	}
	rec.Owner = owner.String
	rec.Created = c.t
	if !e.compat {
		if !x.valid {
			return rec, corrupt("%s is NULL", e.o.Columns.Expires)
		}
		rec.Data, rec.Version, rec.Modified, rec.Expiry = *raw, ver.v, m.t, x.t
		if rec.Data == nil {
			rec.Data = []byte{}
		}
		return rec, nil
	}
	stored := c.t
	if m.valid {
		stored = m.t
	}
	rec.Modified = stored
	rec.Expiry = stored.Add(e.o.MaxLifetime)
	rec.Version = textVersion(*raw)
	data, err := e.decodeText(*raw)
	if err != nil {
		return rec, err
	}
	rec.Data = data
	return rec, nil
}

// recordScan holds the destinations of [engine.scanRecord]. database/sql
// copies the data column into raw (a *[]byte destination gets a copy of
// the driver's bytes): that is the record's only copy in this package.
type recordScan struct {
	raw     []byte
	c, m, x scanTime
	ver     scanVersion
	owner   sql.NullString
	dest    [6]any
}

// textVersion derives a compatibility-layout version from the stored text:
// FNV-64a, never 0.
func textVersion(text []byte) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	v := uint64(offset64) // hash/fnv's New64a, without its allocation
	for _, c := range text {
		v ^= uint64(c)
		v *= prime64
	}
	if v != 0 {
		return v
	}
	return 1
}

// encodeText turns data into what the compatibility layout's text column
// holds, or refuses it.
func (e *engine) encodeText(data []byte) (string, error) {
	var s string
	if e.o.Base64 {
		s = base64.StdEncoding.EncodeToString(data)
	} else {
		if !utf8.Valid(data) {
			return "", fmt.Errorf("%w: data is not valid UTF-8 and the %s column is text (set Options.Base64 or use the native layout)", session.ErrUnsupported, e.o.Columns.Data)
		}
		if e.o.Dialect == Postgres {
			for _, b := range data {
				if b == 0 {
					return "", fmt.Errorf("%w: PostgreSQL text cannot hold NUL bytes (set Options.Base64 or use the native layout)", session.ErrUnsupported)
				}
			}
		}
		s = string(data)
	}
	if e.maxData > 0 && int64(len(s)) > e.maxData {
		return "", fmt.Errorf("%w: %d bytes of data, column %s holds %d", session.ErrTooLarge, len(s), e.o.Columns.Data, e.maxData)
	}
	return s, nil
}

func (e *engine) decodeText(raw []byte) ([]byte, error) {
	if !e.o.Base64 {
		if raw == nil {
			return []byte{}, nil
		}
		return raw, nil
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
	n, err := base64.StdEncoding.Decode(out, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: stored data is not base64: %w", session.ErrDecode, err)
	}
	return out[:n], nil
}

// maxDataSize is the largest Record.Data a save accepts, 0 when unknown.
func (e *engine) maxDataSize() int {
	if e.maxData <= 0 {
		return 0
	}
	if e.compat && e.o.Base64 {
		return int(e.maxData / 4 * 3)
	}
	return int(e.maxData)
}

func (e *engine) load(ctx context.Context, key string) (session.Record, error) {
	if err := ctx.Err(); err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	if err := e.checkKey(key); err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	row, err := e.queryRow(ctx, qLoad, key)
	if err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	rec, err := e.scanRecord(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return session.Record{}, fmt.Errorf("sqlstore: load: %w", session.ErrNotFound)
	}
	if err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	if !rec.Expiry.After(e.now()) {
		return session.Record{}, fmt.Errorf("sqlstore: load: %w", session.ErrNotFound)
	}
	return rec, nil
}

func (e *engine) save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fail(ctx, "save", err)
	}
	if err := e.checkKey(key); err != nil {
		return 0, fail(ctx, "save", err)
	}
	if err := e.checkOwner(rec.Owner); err != nil {
		return 0, fail(ctx, "save", err)
	}
	now := e.now()
	created := rec.Created
	if created.IsZero() {
		created = now
	}
	var (
		data     any
		ver      uint64
		modified = now
	)
	if e.compat {
		text, err := e.encodeText(rec.Data)
		if err != nil {
			return 0, fail(ctx, "save", err)
		}
		data, ver = text, textVersion([]byte(text))
		// PHP computes the expiry as COALESCE(modified_at, created_at) +
		// gc_maxlifetime: store the modification time that gives Expiry.
		modified = rec.Expiry.Add(-e.o.MaxLifetime)
	} else {
		if e.maxData > 0 && int64(len(rec.Data)) > e.maxData {
			return 0, fail(ctx, "save", fmt.Errorf("%w: %d bytes of data, column %s holds %d", session.ErrTooLarge, len(rec.Data), e.o.Columns.Data, e.maxData))
		}
		b := rec.Data
		if b == nil {
			b = []byte{}
		}
		data = b
		if rec.Version == 0 || rec.Version == zeroVersion {
			ver = newVersion()
		} else {
			ver = nextVersion(rec.Version)
		}
	}
	args, err := e.writeArgs(data, created, modified, rec.Expiry, ver, rec.Owner)
	if err != nil {
		return 0, fail(ctx, "save", err)
	}
	switch {
	case rec.Version == 0:
		err = e.d.create(ctx, e, key, args, ver, now)
	case !e.compat:
		var n int64
		n, err = e.exec(ctx, qUpdate, append(args, key, versionParam(rec.Version), e.cutoff(now))...)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: no live record at version %d", session.ErrConflict, rec.Version)
		}
	default:
		err = e.d.compatUpdate(ctx, e, key, args, rec.Version, now)
	}
	if err != nil {
		return 0, fail(ctx, "save", e.d.classify(err))
	}
	return ver, nil
}

// writeArgs returns the parameters of [engine.writeCols].
func (e *engine) writeArgs(data any, created, modified, expiry time.Time, ver uint64, owner string) ([]any, error) {
	c, err := writeTime(e.d, e.tk, created)
	if err != nil {
		return nil, fmt.Errorf("%w: created: %w", session.ErrUnsupported, err)
	}
	m, err := writeTime(e.d, e.tk, modified)
	if err != nil {
		return nil, fmt.Errorf("%w: expiry %v - MaxLifetime: %w", session.ErrUnsupported, expiry, err)
	}
	args := []any{data, c, m}
	if !e.compat {
		x, err := writeTime(e.d, nativeTime, expiry)
		if err != nil {
			return nil, fmt.Errorf("%w: expiry: %w", session.ErrUnsupported, err)
		}
		args = append(args, x, int64(ver))
	}
	if e.hasOwner {
		args = append(args, owner)
	}
	return args, nil
}

// upsert is the single-statement insert of a new record (PostgreSQL and
// SQLite): 0 rows means a live record is in the way.
func (e *engine) upsert(ctx context.Context, key string, args []any, now time.Time) error {
	n, err := e.exec(ctx, qInsert, append(append([]any{key}, args...), e.cutoff(now))...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: a live record exists (version 0 expected none)", session.ErrConflict)
	}
	return nil
}

// compatRead scans the compatibility row read by qLock, checks that it is
// live and holds version want, and returns its data.
func (e *engine) compatRead(row *sql.Row, want uint64, now time.Time) ([]byte, error) {
	var (
		raw  []byte
		c, m scanTime
	)
	err := row.Scan(&raw, &c, &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no record", session.ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	stored := c.t
	if m.valid {
		stored = m.t
	}
	if !stored.Add(e.o.MaxLifetime).After(now) {
		return nil, fmt.Errorf("%w: the record has expired", session.ErrConflict)
	}
	if got := textVersion(raw); got != want {
		return nil, fmt.Errorf("%w: stored data changed (version %d, expected %d)", session.ErrConflict, got, want)
	}
	return raw, nil
}

// compatUpdateLocked is the incubator Database adapter's write(), made a compare-and-set: in a
// transaction, SELECT ... FOR UPDATE the row, compare the version derived
// from its data, update.
func (e *engine) compatUpdateLocked(ctx context.Context, key string, args []any, want uint64, now time.Time) error {
	lock, err := e.stmt(ctx, qLock)
	if err != nil {
		return err
	}
	upd, err := e.stmt(ctx, qUpdate)
	if err != nil {
		return err
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := e.compatRead(tx.StmtContext(ctx, lock).QueryRowContext(ctx, key), want, now); err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, upd).ExecContext(ctx, append(args, key)...); err != nil {
		return err
	}
	return tx.Commit()
}

// compatUpdateIfData is the compare-and-set for SQLite, where a deferred
// transaction cannot be upgraded to a write under concurrency: read the
// row, then update it only if its data is still what was read.
func (e *engine) compatUpdateIfData(ctx context.Context, key string, args []any, want uint64, now time.Time) error {
	row, err := e.queryRow(ctx, qLock, key)
	if err != nil {
		return err
	}
	raw, err := e.compatRead(row, want, now)
	if err != nil {
		return err
	}
	n, err := e.exec(ctx, qUpdateIfData, append(args, key, string(raw), e.cutoff(now))...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: the record changed", session.ErrConflict)
	}
	return nil
}

func (e *engine) delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "delete", err)
	}
	if err := e.checkKey(key); err != nil {
		return fail(ctx, "delete", err)
	}
	if _, err := e.exec(ctx, qDelete, key); err != nil {
		return fail(ctx, "delete", err)
	}
	return nil
}

func (e *engine) touch(ctx context.Context, key string, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return fail(ctx, "touch", err)
	}
	if err := e.checkKey(key); err != nil {
		return fail(ctx, "touch", err)
	}
	now := e.now()
	var args []any
	if e.compat {
		m, err := writeTime(e.d, compatTime, expiry.Add(-e.o.MaxLifetime))
		if err != nil {
			return fail(ctx, "touch", fmt.Errorf("%w: %w", session.ErrUnsupported, err))
		}
		args = []any{m}
	} else {
		x, err := writeTime(e.d, nativeTime, expiry)
		if err != nil {
			return fail(ctx, "touch", fmt.Errorf("%w: %w", session.ErrUnsupported, err))
		}
		args = []any{x, e.d.timeParam(nativeTime, now)}
	}
	cut := e.cutoff(now)
	n, err := e.exec(ctx, qTouch, append(args, key, cut)...)
	if err != nil {
		return fail(ctx, "touch", err)
	}
	if n > 0 {
		return nil
	}
	if e.q.touchExists {
		row, err := e.queryRow(ctx, qExists, key, cut)
		if err != nil {
			return fail(ctx, "touch", err)
		}
		var one int
		err = row.Scan(&one)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fail(ctx, "touch", err)
		}
	}
	return fmt.Errorf("sqlstore: touch: %w", session.ErrNotFound)
}
