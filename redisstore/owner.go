package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// repairTimeout bounds the background repair after a failed index update.
const repairTimeout = 5 * time.Second

// indexTarget is how long an owner's set must live when a record of that
// owner gets expiry: the expiry plus the slack, in Unix milliseconds.
func (s *Store) indexTarget(now, expiry time.Time) string {
	slack := s.slack
	if slack <= 0 {
		slack = max(expiry.Sub(now), time.Minute)
	}
	return ms(expiry.Add(slack))
}

// index adds key to owner's set and keeps the set alive until target. If
// that fails, it tells the record so that the next Save or Touch retries.
// With wait (and Options.WaitReplicas), the update is followed by WAIT; an
// update made on the primary but not acknowledged by enough replicas is an
// error wrapping ErrNotReplicated, and needs no repair.
func (s *Store) index(ctx context.Context, key, owner, target string, now time.Time, wait bool) error {
	w, err := s.runScript(ctx, indexScript, s.ownerKey(owner), wait, key, target, ms(now))
	if err == nil {
		if err := w.wait.check(); err != nil {
			return fail(ctx, fmt.Sprintf("owner index of %q updated on the primary", owner), err)
		}
		return nil
	}
	// Best effort: within the caller's deadline when time is left, else in
	// the background with a timeout of its own (the caller must not wait
	// past its deadline).
	repair := func(ctx context.Context) {
		_, _ = call(ctx, s, func(ctx context.Context) (any, error) {
			return unindexScript.Run(ctx, s.client, []string{s.sessionKey(key)}, target).Result()
		})
	}
	if ctxErr(ctx) == nil {
		repair(ctx)
	} else {
		go func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), repairTimeout)
			defer cancel()
			repair(rctx)
		}()
	}
	return fail(ctx, fmt.Sprintf("owner index of %q not updated", owner), err)
}

// OwnerKeys implements session.OwnerIndex. It reads the owner's set
// (SMEMBERS), checks the members' records in one pipeline, and removes the
// members that are no longer live records of the owner (SREM) — rechecking
// those afterwards, so that a record saved for the owner meanwhile stays
// indexed.
func (s *Store) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	members, err := call(ctx, s, func(ctx context.Context) ([]string, error) {
		return s.client.SMembers(ctx, s.ownerKey(owner)).Result()
	})
	if err != nil {
		return nil, fail(ctx, "owner keys", err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	live, stale, err := s.checkOwned(ctx, owner, members)
	if err != nil {
		return nil, err
	}
	if len(stale) == 0 {
		return keysOf(live), nil
	}
	_, err = call(ctx, s, func(ctx context.Context) (int64, error) {
		return s.client.SRem(ctx, s.ownerKey(owner), toAny(stale)...).Result()
	})
	if err != nil {
		return nil, fail(ctx, "owner keys: prune", err)
	}
	// A record may have been saved for owner between the check and the
	// SREM; its Save added it to the set before our SREM removed it.
	back, _, err := s.checkOwned(ctx, owner, stale)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for key, expiry := range back {
		if err := s.index(ctx, key, owner, s.indexTarget(now, expiry), now, true); err != nil {
			return nil, fmt.Errorf("redisstore: owner keys: %w", err)
		}
		live[key] = expiry
	}
	return keysOf(live), nil
}

// checkOwned reads the owner and expiry of the records under keys in one
// pipeline and splits the keys into live records of owner (with their
// expiry) and the rest.
func (s *Store) checkOwned(ctx context.Context, owner string, keys []string) (map[string]time.Time, []string, error) {
	live := make(map[string]time.Time, len(keys))
	var stale, check []string
	for _, k := range keys {
		if validKey(k) != nil {
			stale = append(stale, k)
		} else {
			check = append(check, k)
		}
	}
	if len(check) == 0 {
		return live, stale, nil
	}
	cmds, err := call(ctx, s, func(ctx context.Context) ([]*redis.SliceCmd, error) {
		pipe := s.client.Pipeline()
		cmds := make([]*redis.SliceCmd, len(check))
		for i, k := range check {
			cmds[i] = pipe.HMGet(ctx, s.sessionKey(k), fieldOwner, fieldExpiry)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && allWrongType(cmds) {
			err = nil // keys that are not hashes: not live records of owner
		}
		return cmds, err
	})
	if err != nil {
		return nil, nil, fail(ctx, "owner keys", err)
	}
	now := s.now()
	for i, k := range check {
		vals := cmds[i].Val()
		if len(vals) != 2 {
			stale = append(stale, k)
			continue
		}
		if o, _ := vals[0].(string); o == owner && owner != "" {
			x, _ := vals[1].(string)
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && time.UnixMilli(n).After(now) {
				live[k] = time.UnixMilli(n)
				continue
			}
		}
		stale = append(stale, k)
	}
	return live, stale, nil
}

func keysOf(m map[string]time.Time) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
