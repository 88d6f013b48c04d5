// Package storeurl opens a session store described by a URL, for the
// programs of the cmd module (sessiondemo and sessionctl).
//
// Supported forms:
//
//	sqlite:///abs/path.db  sqlite:./rel.db            modernc.org/sqlite, no cgo
//	mysql://user:pass@host:3306/db                    MySQL or MariaDB (go-sql-driver/mysql)
//	postgres://user:pass@host:5432/db?sslmode=disable PostgreSQL (pgx)
//	mongodb://host:27017/db?collection=sessions       MongoDB or FerretDB
//	redis://host:6379/0  rediss://...                 Redis (one server)
//	redis-cluster://host:7000,host:7001               Redis Cluster
//	redis-sentinel://host:26379/0?master=mymaster     Redis behind Sentinel
//	memcache://host:11211[,host2:11211]               memcached
//	file:///abs/dir  file:./rel/dir                   one file per session
//	memory:                                           in memory (lost at exit)
//
// Query parameters common to all forms (removed before the URL reaches a
// driver):
//
//	codec=binary|gob|json|php|php_binary|php_serialize  how session values are encoded
//	raw_ids=true                                   store raw session IDs, not their SHA-256
//	layout=native|compat                           SQL table / Mongo document layout
//	table=NAME  collection=NAME  prefix=PREFIX     where records live
//	max_lifetime=DURATION                          PHP's gc_maxlifetime (compat layouts)
//
// layout=compat implies raw_ids=true and, unless codec is given, codec=php:
// that is what sharing sessions with a PHP application needs.
package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/session"
)

// ErrUsage is wrapped by errors about a malformed or unsupported URL.
var ErrUsage = errors.New("bad store URL")

// Options change how Open prepares a store.
type Options struct {
	// Setup creates what the store needs when missing (SQL table, Mongo
	// indexes), as a demo does at start-up. Administration tools leave it
	// false and create schemas with Target.Migrate.
	Setup bool
	// SchemaOnly connects for Target.Migrate without opening the store
	// itself, which would fail on a missing or old table: Target.Store may
	// then be nil.
	SchemaOnly bool
	// ReadOnly opens the store for reading only, for commands that change
	// nothing: a SQLite file is opened read-only (and must exist).
	ReadOnly bool
}

// defaultMaxLifetime is PHP's session.gc_maxlifetime default, which the
// compatibility layouts use when the URL sets no max_lifetime.
const defaultMaxLifetime = 1440 * time.Second

// MigrateOptions describe a schema change for Target.Migrate.
type MigrateOptions struct {
	// Layout is "native" or "compat" (default: the URL's layout).
	Layout string
	// Upgrade is "", "incubator34" (the incubator 3.4 table to the
	// compatibility layout) or "native" (the compatibility layout to native).
	Upgrade string
}

// Target is an opened store with what the programs need to know about it.
type Target struct {
	// Store is the opened store.
	Store session.Store
	// Scheme is the URL scheme that selected the store ("sqlite", "mysql",
	// ...).
	Scheme string
	// Where says, for people, where the records live (a file's absolute
	// path, a server address and table ...). It never holds a password.
	Where string
	// Codec is the codec named by the URL's codec parameter, or nil for the
	// manager's default (binary).
	Codec session.Codec
	// CodecName is the codec parameter's value, or "".
	CodecName string
	// RawIDs reports whether records are stored under raw session IDs.
	RawIDs bool
	// Layout is "native" or "compat".
	Layout string
	// NoOwners reports that the store cannot keep a record's owner (the
	// session_data table of Phalcon's incubator Database adapter, without an owner column): a save with an
	// owner would fail.
	NoOwners bool
	// MaxLifetime is, for the compatibility layouts, PHP's
	// session.gc_maxlifetime that the store assumes (the URL's max_lifetime,
	// default 1440 s): a PHP application expires a record that long after
	// its modification time. A manager sharing the records with PHP sets
	// its IdleTimeout to it, so that the stored modification time is the
	// time of the last save. 0 for the other layouts.
	MaxLifetime time.Duration

	closers      []func() error
	migrate      func(ctx context.Context, o MigrateOptions) (string, error)
	selfExpiring bool
}

// Close releases the store's connections. It is safe to call more than once.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		if err := t.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	t.closers = nil
	return errors.Join(errs...)
}

// Migrate creates or upgrades the store's schema and returns a sentence
// saying where and what it did ("SQLite file ..., table ... (native
// layout): created"). It fails with session.ErrUnsupported for stores
// without a schema.
func (t *Target) Migrate(ctx context.Context, o MigrateOptions) (string, error) {
	if t.migrate == nil {
		return "", fmt.Errorf("%s store has no schema to migrate: %w", t.Scheme, session.ErrUnsupported)
	}
	return t.migrate(ctx, o)
}

// SelfExpiring reports whether the server removes expired records by itself
// (Redis, memcached): there is then nothing to collect and nothing expired
// to count.
func (t *Target) SelfExpiring() bool { return t.selfExpiring }

// CountExpired counts the records that are expired but still stored
// (what a garbage collection would delete), with the store's own query
// ([session.ExpiredCounter]). Self-expiring stores report 0. It fails with
// session.ErrUnsupported when the store cannot count.
func (t *Target) CountExpired(ctx context.Context) (int, error) {
	if t.selfExpiring {
		return 0, nil
	}
	ec, ok := t.Store.(session.ExpiredCounter)
	if !ok {
		return 0, fmt.Errorf("%s store cannot count expired records: %w", t.Scheme, session.ErrUnsupported)
	}
	return ec.CountExpired(ctx)
}

// opener opens one kind of store from a parsed URL.
type opener func(ctx context.Context, u *url.URL, p *params, o Options) (*Target, error)

// backend is one kind of store: its opener and the parameters of ours it
// takes besides codec and raw_ids.
type backend struct {
	open   opener
	params []string
}

// openers maps URL schemes to their backend.
var openers = map[string]backend{}

// register adds a backend for schemes. Each backend's file registers itself
// in an init function.
func register(o opener, params []string, schemes ...string) {
	for _, s := range schemes {
		openers[s] = backend{o, params}
	}
}

// Schemes returns the supported URL schemes, sorted.
func Schemes() []string {
	s := make([]string, 0, len(openers))
	for k := range openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// Open opens the store that rawURL describes. No error it returns, and
// no field of the Target, repeats a password or other credential of the
// URL, even one the URL parser cannot read.
func Open(ctx context.Context, rawURL string, o Options) (*Target, error) {
	secrets := credentials(rawURL)
	t, err := open(ctx, rawURL, o)
	if err != nil {
		return nil, scrubError(err, secrets)
	}
	t.Where = scrub(t.Where, secrets)
	return t, nil
}

// open is Open, with errors that may repeat a credential.
func open(ctx context.Context, rawURL string, o Options) (*Target, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, fmt.Errorf("%w: empty URL", ErrUsage)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUsage, redactErr(err, rawURL))
	}
	scheme := strings.ToLower(u.Scheme)
	be, ok := openers[scheme]
	if !ok {
		return nil, fmt.Errorf("%w: unknown scheme %q in %q (supported: %s)", ErrUsage, u.Scheme, Redact(rawURL), strings.Join(Schemes(), ", "))
	}
	p, err := takeParams(u)
	if err != nil {
		return nil, err
	}
	if err := p.check(be.params); err != nil {
		return nil, err
	}
	if _, err := Codec(p.codec); err != nil {
		return nil, err
	}
	t, err := be.open(ctx, u, p, o)
	if err != nil {
		return nil, err
	}
	t.Scheme = scheme
	return t, nil
}

// params are the query parameters of ours, taken out of the URL.
type params struct {
	codec       string
	rawIDs      bool
	layout      string // "native" or "compat"
	values      url.Values
	maxLifetime time.Duration
}

// ours lists the parameters that never reach a driver.
var ours = []string{"codec", "raw_ids", "layout", "table", "collection", "prefix", "max_lifetime", "base64", "master"}

func takeParams(u *url.URL) (*params, error) {
	q := u.Query()
	p := &params{values: url.Values{}, layout: "native"}
	for _, k := range ours {
		if v, ok := q[k]; ok {
			p.values[k] = v
			delete(q, k)
		}
	}
	u.RawQuery = q.Encode()
	switch l := p.values.Get("layout"); l {
	case "", "native":
	case "compat", "compatibility", "phalcon":
		p.layout = "compat"
	default:
		return nil, fmt.Errorf("%w: layout=%q (want native or compat)", ErrUsage, l)
	}
	p.codec = p.values.Get("codec")
	if p.layout == "compat" {
		p.rawIDs = true
		if p.codec == "" {
			p.codec = "php"
		}
	}
	if v := p.values.Get("raw_ids"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: raw_ids=%q: %v", ErrUsage, v, err)
		}
		p.rawIDs = b
	}
	if v := p.values.Get("max_lifetime"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%w: max_lifetime=%q: %v", ErrUsage, v, err)
		}
		p.maxLifetime = d
	}
	return p, nil
}

// get returns parameter k.
func (p *params) get(k string) string { return p.values.Get(k) }

// bool returns boolean parameter k (false when absent).
func (p *params) bool(k string) (bool, error) {
	v := p.get(k)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q: %v", ErrUsage, k, v, err)
	}
	return b, nil
}

// check refuses parameters of ours that the chosen store does not take,
// so that a typo such as table= on a Redis URL is not silently ignored.
func (p *params) check(accepted []string) error {
	var bad []string
	for k := range p.values {
		if k != "codec" && k != "raw_ids" && !slices.Contains(accepted, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("%w: parameter(s) %s do not apply to this store", ErrUsage, strings.Join(bad, ", "))
}

// parseDuration accepts Go durations ("24m") and plain seconds ("1440").
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(v)
}

// pathOf returns the file system path of a sqlite: or file: URL:
// "scheme:rel/path", "scheme:///abs/path" or "scheme://./rel/path".
func pathOf(u *url.URL) (string, error) {
	var p string
	switch {
	case u.Opaque != "":
		p = u.Opaque
	default:
		p = u.Host + u.Path
	}
	if p == "" {
		return "", fmt.Errorf("%w: %s: URL names no path (%s:///abs/path or %s:./rel/path)", ErrUsage, u.Scheme, u.Scheme, u.Scheme)
	}
	if un, err := url.PathUnescape(p); err == nil {
		p = un
	}
	return p, nil
}

// Redact returns rawURL with any password (of the userinfo, or of a query
// parameter such as password=) replaced by "xxxxx".
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return scrub(u.Redacted(), credentials(rawURL))
}

// redactErr formats a url.Parse error without repeating any part of the
// URL: net/url's messages quote pieces of it (`invalid port ":<password>"`
// for a password with an unencoded '/', '?' or '#').
func redactErr(err error, rawURL string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := "the URL cannot be parsed"
	if strings.Contains(rawURL, "@") {
		msg += " (a password with '/', '?', '#', '@' or '%' must be percent-encoded)"
	}
	if strings.Contains(err.Error(), "invalid URL escape") {
		msg += ": a '%' is not followed by two hex digits"
	}
	return msg
}
