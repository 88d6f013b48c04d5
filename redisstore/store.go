package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
)

// Store is a session.Store on Redis. It is safe for concurrent use, also by
// several processes sharing the server. Create it with [New].
type Store struct {
	client  redis.UniversalClient
	prefix  string
	maxData int
	slack   time.Duration
	now     func() time.Time
	// waitReplicas and waitTimeout configure the WAIT sent after every
	// write (none when waitReplicas is 0).
	waitReplicas int
	waitTimeout  time.Duration
	// guarded is set when the client does not bound network waits by the
	// context (ContextTimeoutEnabled unset): calls then run in a goroutine
	// so that the store can return at the context's deadline.
	guarded bool
}

var (
	_ session.Store      = (*Store)(nil)
	_ session.Toucher    = (*Store)(nil)
	_ session.Iterator   = (*Store)(nil)
	_ session.OwnerIndex = (*Store)(nil)
)

// New returns a store using client, which may be a *redis.Client (single
// server or Sentinel failover), a *redis.ClusterClient or a *redis.Ring.
// The store does not own the client: closing it is the caller's business.
//
// New sends nothing to the server. It returns an error for a nil client and
// for options out of range: a Prefix containing '{' or '}', a negative
// MaxDataSize or one above RedisMaxDataSize, a negative IndexSlack,
// WaitReplicas or WaitTimeout, WaitReplicas with a client other than a
// *redis.Client or *redis.ClusterClient, or a WaitTimeout not below the
// client's ReadTimeout.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	s := &Store{
		client:       client,
		prefix:       opts.Prefix,
		maxData:      opts.MaxDataSize,
		slack:        opts.IndexSlack,
		now:          opts.Now,
		waitReplicas: opts.WaitReplicas,
		waitTimeout:  opts.WaitTimeout,
		guarded:      !honoursContext(client),
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if err := checkPrefix(s.prefix); err != nil {
		return nil, err
	}
	switch {
	case s.maxData < 0 || s.maxData > RedisMaxDataSize:
		return nil, fmt.Errorf("redisstore: Options.MaxDataSize %d out of range [0, %d]", s.maxData, RedisMaxDataSize)
	case s.maxData == 0:
		s.maxData = RedisMaxDataSize
	}
	if s.slack < 0 {
		return nil, fmt.Errorf("redisstore: Options.IndexSlack %v is negative", s.slack)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.checkWait(); err != nil {
		return nil, err
	}
	return s, nil
}

// Prefix returns the key prefix in use.
func (s *Store) Prefix() string { return s.prefix }

// honoursContext reports whether client bounds its network waits by the
// context's deadline.
func honoursContext(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// call runs f, returning no later than ctx's deadline or cancellation. When
// the client honours the context itself, f runs directly.
func call[T any](ctx context.Context, s *Store, f func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	if !s.guarded || ctx.Done() == nil {
		return f(ctx)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		// f ends by itself within the client's own timeouts; its result
		// is dropped.
		var zero T
		return zero, ctx.Err()
	}
}

// fail wraps err for operation op, making sure that an error caused by the
// context matches ctx.Err() with errors.Is.
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctxErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("redisstore: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// ctxErr is ctx.Err(), also when the deadline has passed but the context's
// timer has not fired yet (the client's socket deadline, set from the same
// instant, may fire first).
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Load implements session.Store with one HGETALL. A key that holds
// something other than a well-formed record (a hash with a field missing or
// not a number, a string, a list) is an error wrapping session.ErrCorrupt.
func (s *Store) Load(ctx context.Context, key string) (session.Record, error) {
	if err := validKey(key); err != nil {
		return session.Record{}, fmt.Errorf("redisstore: load: %w", err)
	}
	h, err := call(ctx, s, func(ctx context.Context) (map[string]string, error) {
		return s.client.HGetAll(ctx, s.sessionKey(key)).Result()
	})
	if isWrongType(err) {
		return session.Record{}, fmt.Errorf("redisstore: load: %w", corrupt(key, "not a hash (%v)", err))
	}
	if err != nil {
		return session.Record{}, fail(ctx, "load", err)
	}
	rec, ok, err := decodeRecord(key, h, s.now())
	if err != nil {
		return session.Record{}, fmt.Errorf("redisstore: load: %w", err)
	}
	if !ok {
		return session.Record{}, fmt.Errorf("redisstore: load: %w", session.ErrNotFound)
	}
	return rec, nil
}

// Save implements session.Store: one script run checks the stored version
// and writes the record. When the record has an owner and the owner's index
// set must learn the key or be kept alive longer (new record, new owner, or
// an expiry beyond what the set was extended to), a second command updates
// the set.
//
// If the record was written but the index could not be updated, or (with
// Options.WaitReplicas) fewer replicas than asked acknowledged the write,
// Save returns the new version together with an error. A key holding a
// corrupt record is refused with an error wrapping session.ErrCorrupt and
// left as it is (Delete removes it).
func (s *Store) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	if err := validKey(key); err != nil {
		return 0, fmt.Errorf("redisstore: save: %w", err)
	}
	if len(rec.Data) > s.maxData {
		return 0, fmt.Errorf("redisstore: save: data of %d bytes, at most %d allowed: %w", len(rec.Data), s.maxData, session.ErrTooLarge)
	}
	now := s.now()
	next := rec.Version + 1
	if rec.Version == 0 {
		// A fresh record starts at a random version, so that a client
		// holding the version of a deleted record cannot overwrite a
		// new record under the same key.
		next = rand.Uint64N(1<<62) + 1
	}
	target := s.indexTarget(now, rec.Expiry)
	w, err := s.runScript(ctx, saveScript, s.sessionKey(key), true,
		strconv.FormatUint(rec.Version, 10),
		strconv.FormatUint(next, 10),
		rec.Data,
		rec.Owner,
		ms(rec.Created),
		ms(now),
		ms(rec.Expiry),
		target,
	)
	if isWrongType(err) {
		return 0, fmt.Errorf("redisstore: save: %w", corrupt(key, "not a hash (%v)", err))
	}
	if err != nil {
		return 0, fail(ctx, "save", err)
	}
	res, err := w.cmd.Slice()
	if err != nil || len(res) != 2 {
		return 0, fmt.Errorf("redisstore: save: unexpected script reply %v (%v)", res, err)
	}
	switch status, _ := res[0].(int64); status {
	case statusRefused:
		return 0, fmt.Errorf("redisstore: save: stored version %v, expected %d: %w", res[1], rec.Version, session.ErrConflict)
	case statusCorrupt:
		return 0, fmt.Errorf("redisstore: save: %w", corrupt(key, "%v", res[1]))
	}
	// The record is written: its owner's index must follow even when the
	// replicas lag, since the record now claims the index is up to date.
	// (Not waiting for the index's replication then: the error says so.)
	replErr := w.wait.check()
	if push, _ := res[1].(int64); push == 1 {
		if err := s.index(ctx, key, rec.Owner, target, now, replErr == nil); err != nil {
			return next, fmt.Errorf("redisstore: save: record saved as version %d, but %w", next, err)
		}
	}
	if replErr != nil {
		return next, fail(ctx, "save", fmt.Errorf("record saved as version %d on the primary, but %w", next, replErr))
	}
	return next, nil
}

// Delete implements session.Store with one DEL (followed by WAIT with
// Options.WaitReplicas). It removes whatever the key holds, corrupt records
// included. The key's entry in its owner's index set is pruned by the next
// OwnerKeys.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	redisKey := s.sessionKey(key)
	w, err := call(ctx, s, func(ctx context.Context) (written[*redis.IntCmd], error) {
		if s.waitReplicas == 0 {
			cmd := s.client.Del(ctx, redisKey)
			return written[*redis.IntCmd]{cmd: cmd}, cmd.Err()
		}
		return waited(ctx, s, redisKey, func(ctx context.Context, p redis.Pipeliner) *redis.IntCmd {
			return p.Del(ctx, redisKey)
		})
	})
	if err != nil {
		return fail(ctx, "delete", err)
	}
	if w.cmd.Val() == 0 {
		return nil // nothing was deleted: nothing to replicate
	}
	if err := w.wait.check(); err != nil {
		return fail(ctx, "delete", fmt.Errorf("record deleted on the primary, but %w", err))
	}
	return nil
}

// Touch implements session.Toucher: one script run moves the expiry of the
// live record (a past expiry deletes it). Like Save, it extends the owner's
// index set with a second command when the new expiry passes what the set
// was extended to. A corrupt record is refused with an error wrapping
// session.ErrCorrupt and left as it is.
func (s *Store) Touch(ctx context.Context, key string, expiry time.Time) error {
	if err := validKey(key); err != nil {
		return fmt.Errorf("redisstore: touch: %w", err)
	}
	now := s.now()
	target := s.indexTarget(now, expiry)
	w, err := s.runScript(ctx, touchScript, s.sessionKey(key), true, ms(expiry), ms(now), target)
	if isWrongType(err) {
		return fmt.Errorf("redisstore: touch: %w", corrupt(key, "not a hash (%v)", err))
	}
	if err != nil {
		return fail(ctx, "touch", err)
	}
	res, err := w.cmd.Slice()
	if err != nil || len(res) == 0 {
		return fmt.Errorf("redisstore: touch: unexpected script reply %v (%v)", res, err)
	}
	switch status, _ := res[0].(int64); status {
	case statusRefused:
		return fmt.Errorf("redisstore: touch: %w", session.ErrNotFound)
	case statusCorrupt:
		var reason any
		if len(res) > 1 {
			reason = res[1]
		}
		return fmt.Errorf("redisstore: touch: %w", corrupt(key, "%v", reason))
	}
	replErr := w.wait.check()
	if len(res) == 2 {
		owner, _ := res[1].(string)
		if err := s.index(ctx, key, owner, target, now, replErr == nil); err != nil {
			return fmt.Errorf("redisstore: touch: record touched, but %w", err)
		}
	}
	if replErr != nil {
		return fail(ctx, "touch", fmt.Errorf("record touched on the primary, but %w", replErr))
	}
	return nil
}

// LoadScripts loads the store's Lua scripts into the server's script cache
// (every node's, on a Cluster), so that the first Save or Touch on a node
// does not pay the fallback from EVALSHA to EVAL. Calling it is optional:
// the store loads scripts on demand, also after a server restart.
func (s *Store) LoadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{saveScript, touchScript, indexScript, unindexScript} {
		if _, err := call(ctx, s, func(ctx context.Context) (string, error) {
			return sc.Load(ctx, s.client).Result()
		}); err != nil {
			return fail(ctx, "load scripts", err)
		}
	}
	return nil
}
