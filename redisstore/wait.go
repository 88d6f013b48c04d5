package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// checkWait validates the WAIT options and applies their default.
func (s *Store) checkWait() error {
	switch {
	case s.waitReplicas < 0:
		return fmt.Errorf("redisstore: Options.WaitReplicas %d is negative", s.waitReplicas)
	case s.waitTimeout < 0:
		return fmt.Errorf("redisstore: Options.WaitTimeout %v is negative", s.waitTimeout)
	case s.waitReplicas == 0:
		return nil
	}
	if s.waitTimeout == 0 {
		s.waitTimeout = DefaultWaitTimeout
	}
	if s.waitTimeout < time.Millisecond {
		return fmt.Errorf("redisstore: Options.WaitTimeout %v is below WAIT's resolution of one millisecond", s.waitTimeout)
	}
	var readTimeout time.Duration
	switch c := s.client.(type) {
	case *redis.Client:
		readTimeout = c.Options().ReadTimeout
	case *redis.ClusterClient:
		readTimeout = c.Options().ReadTimeout
	default:
		return fmt.Errorf("redisstore: Options.WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", s.client)
	}
	if readTimeout > 0 && s.waitTimeout >= readTimeout {
		return fmt.Errorf("redisstore: Options.WaitTimeout %v must be below the client's ReadTimeout %v", s.waitTimeout, readTimeout)
	}
	return nil
}

// written is a write command as sent, and what the WAIT after it said.
type written[C redis.Cmder] struct {
	cmd  C
	wait waitResult
}

// waitResult is the outcome of the WAIT sent after a write.
type waitResult struct {
	waited  bool
	acked   int64
	want    int
	timeout time.Duration
	err     error // the WAIT itself failed
}

// check returns an error wrapping ErrNotReplicated when WAIT was sent and
// fewer replicas than wanted acknowledged the write.
func (w waitResult) check() error {
	switch {
	case !w.waited:
		return nil
	case w.err != nil:
		return fmt.Errorf("%w: WAIT %d failed: %w", ErrNotReplicated, w.want, w.err)
	case w.acked < int64(w.want):
		return fmt.Errorf("%w: %d of %d replica(s) acknowledged within %v; a failover may lose the write", ErrNotReplicated, w.acked, w.want, w.timeout)
	}
	return nil
}

// runScript runs sc on redisKey: with Script.Run (EVALSHA, falling back to
// EVAL) when no WAIT is configured or wait is false, else in a pipeline with
// WAIT on the primary holding the key.
func (s *Store) runScript(ctx context.Context, sc *redis.Script, redisKey string, wait bool, args ...any) (written[*redis.Cmd], error) {
	keys := []string{redisKey}
	return call(ctx, s, func(ctx context.Context) (written[*redis.Cmd], error) {
		if s.waitReplicas == 0 || !wait {
			cmd := sc.Run(ctx, s.client, keys, args...)
			return written[*redis.Cmd]{cmd: cmd}, cmd.Err()
		}
		w, err := waited(ctx, s, redisKey, func(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
			return sc.EvalSha(ctx, p, keys, args...)
		})
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			w, err = waited(ctx, s, redisKey, func(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
				return sc.Eval(ctx, p, keys, args...)
			})
		}
		return w, err
	})
}

// waited sends the write built by build and WAIT in one pipeline, on one
// connection to the primary that holds redisKey: WAIT counts the replicas
// that acknowledged that connection's writes. A Cluster client would send a
// keyless WAIT to any node, and WAIT inside MULTI never blocks, hence the
// pipeline on the key's node client.
func waited[C redis.Cmder](ctx context.Context, s *Store, redisKey string, build func(context.Context, redis.Pipeliner) C) (written[C], error) {
	var node redis.Cmdable = s.client
	cluster, isCluster := s.client.(*redis.ClusterClient)
	if isCluster {
		c, err := cluster.MasterForKey(ctx, redisKey)
		if err != nil {
			var zero written[C]
			return zero, err
		}
		node = c
	}
	timeout := s.waitTimeout
	if d, ok := ctx.Deadline(); ok {
		// Leave a tenth of the time left for WAIT's reply to arrive
		// before the deadline cuts the connection's read.
		left := time.Until(d)
		timeout = min(timeout, left-left/10)
	}
	// WAIT's timeout is in whole milliseconds, and 0 would block forever.
	timeout = max(timeout.Truncate(time.Millisecond), time.Millisecond)
	pipe := node.Pipeline()
	cmd := build(ctx, pipe)
	// Pipeliner has no Wait method; the command is built by hand.
	wait := redis.NewIntCmd(ctx, "wait", s.waitReplicas, timeout.Milliseconds())
	_ = pipe.Process(ctx, wait)
	_, _ = pipe.Exec(ctx)
	w := written[C]{cmd: cmd}
	if err := cmd.Err(); err != nil {
		if isCluster && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
			// The slot moved (resharding): the next call asks the
			// refreshed slot map.
			cluster.ReloadState(ctx)
			err = fmt.Errorf("slot of %s moved, try again: %w", redisKey, err)
		}
		return w, err
	}
	w.wait = waitResult{waited: true, acked: wait.Val(), want: s.waitReplicas, timeout: timeout, err: wait.Err()}
	if errors.Is(w.wait.err, redis.Nil) {
		w.wait.err = nil
	}
	return w, nil
}
