package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/storetest"
)

// hookFunc runs before matching commands; an error fails the command
// without sending it.
type hookFunc func(ctx context.Context, cmd redis.Cmder) error

func (h hookFunc) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hookFunc) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h(ctx, cmd); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h hookFunc) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// touchesOwnerSet reports whether cmd is a script run on an owner set.
func touchesOwnerSet(cmd redis.Cmder) bool {
	args := cmd.Args()
	if len(args) < 4 || (cmd.Name() != "evalsha" && cmd.Name() != "eval") {
		return false
	}
	key, _ := args[3].(string)
	return strings.Contains(key, "owner:{")
}

// TestIndexFailureIsRepaired: when the owner's set cannot be updated after
// the record was written, Save says so (returning the new version), and the
// next Touch adds the record to the set.
func TestIndexFailureIsRepaired(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	s := newStore(t, c, redisstore.Options{Prefix: uniquePrefix(t, c)})
	var failIndex atomic.Bool
	injected := errors.New("injected failure")
	c.AddHook(hookFunc(func(_ context.Context, cmd redis.Cmder) error {
		if failIndex.Load() && touchesOwnerSet(cmd) {
			return injected
		}
		return nil
	}))

	owner := "user-" + randomHex(4)
	key := storetest.Key()
	now := time.Now()
	failIndex.Store(true)
	v, err := s.Save(ctx, key, session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now, Owner: owner})
	if !errors.Is(err, injected) || v == 0 {
		t.Fatalf("Save with a failing index = %d, %v; want a version and the injected error", v, err)
	}
	failIndex.Store(false)
	if rec, err := s.Load(ctx, key); err != nil || rec.Version != v {
		t.Fatalf("the record was not saved: %+v, %v", rec, err)
	}
	if keys, err := s.OwnerKeys(ctx, owner); err != nil || len(keys) != 0 {
		t.Fatalf("OwnerKeys = %v, %v; want none (the index update failed)", keys, err)
	}
	if err := s.Touch(ctx, key, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.OwnerKeys(ctx, owner); err != nil || !slices.Equal(keys, []string{key}) {
		t.Fatalf("after Touch: OwnerKeys = %v, %v; want [%s]", keys, err, key)
	}
}

// TestPruneRace: a record that becomes the owner's again while OwnerKeys
// prunes it (between its check and its SREM) stays indexed.
func TestPruneRace(t *testing.T) {
	c := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	ctx := shortCtx(t)
	prefix := uniquePrefix(t, c)
	other := singleClient(t, redis.Options{ContextTimeoutEnabled: true})
	s := newStore(t, c, redisstore.Options{Prefix: prefix})
	s2 := newStore(t, other, redisstore.Options{Prefix: prefix})

	alice, bob := "alice-"+randomHex(4), "bob-"+randomHex(4)
	key := storetest.Key()
	now := time.Now()
	rec := session.Record{Data: []byte("x"), Expiry: now.Add(time.Hour), Created: now, Owner: alice}
	var err error
	if rec.Version, err = s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	rec.Owner = bob // key is now a stale member of alice's set
	if rec.Version, err = s.Save(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	var raced atomic.Bool
	c.AddHook(hookFunc(func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "srem" && raced.CompareAndSwap(false, true) {
			// Another process gives the record back to alice just
			// before the prune.
			back := rec
			back.Owner = alice
			if _, err := s2.Save(ctx, key, back); err != nil {
				return fmt.Errorf("racing save: %w", err)
			}
		}
		return nil
	}))
	keys, err := s.OwnerKeys(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !raced.Load() {
		t.Fatal("OwnerKeys did not prune: the race was not exercised")
	}
	if !slices.Equal(keys, []string{key}) {
		t.Fatalf("OwnerKeys = %v, want [%s]", keys, key)
	}
	if ok, err := c.SIsMember(ctx, prefix+"owner:{"+alice+"}", key).Result(); err != nil || !ok {
		t.Fatalf("the record is not in alice's set after the race: %v, %v", ok, err)
	}
}
