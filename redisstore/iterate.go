package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
)

// scanCount is the COUNT hint of each SCAN call.
const scanCount = 256

// Iterate implements session.Iterator. It runs SCAN with a MATCH pattern of
// the store's session keys (owner index sets and other applications' keys
// are skipped) on every node that holds data — every primary of a Cluster,
// every shard of a Ring — one node after the other, and reads each batch of
// keys with one pipeline. fn is never called concurrently.
//
// Keys of the session shape that do not hold a well-formed record (not a
// hash, or a hash with a field missing or malformed: see Load) are skipped
// without failing the iteration; Delete removes them, and Redis does when
// they carry an expiry.
func (s *Store) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	nodes, err := call(ctx, s, s.nodes)
	if err != nil {
		return fail(ctx, "iterate", err)
	}
	for _, node := range nodes {
		more, err := s.iterateNode(ctx, node, fn)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	return nil
}

// nodes returns the clients to scan: the primaries of a Cluster, the shards
// of a Ring, or the client itself.
func (s *Store) nodes(ctx context.Context) ([]redis.UniversalClient, error) {
	var (
		mu    sync.Mutex
		nodes []redis.UniversalClient
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	}
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			return nil, err
		}
	case *redis.Ring:
		if err := c.ForEachShard(ctx, collect); err != nil {
			return nil, err
		}
	default:
		nodes = append(nodes, s.client)
	}
	return nodes, nil
}

type scanBatch struct {
	keys   []string // store keys
	cmds   []*redis.MapStringStringCmd
	cursor uint64
}

// iterateNode scans one node; more is false once fn asked to stop.
func (s *Store) iterateNode(ctx context.Context, node redis.UniversalClient, fn func(string, session.Record) bool) (more bool, err error) {
	pattern := s.scanPattern()
	var cursor uint64
	for {
		b, err := call(ctx, s, func(ctx context.Context) (scanBatch, error) {
			return s.scanBatch(ctx, node, cursor, pattern)
		})
		if err != nil {
			return false, fail(ctx, "iterate", err)
		}
		now := s.now()
		for i, key := range b.keys {
			if b.cmds[i].Err() != nil {
				continue // not a hash: not a record
			}
			rec, ok, err := decodeRecord(key, b.cmds[i].Val(), now)
			if err != nil {
				continue // corrupt: skipped
			}
			if ok && !fn(key, rec) {
				return false, nil
			}
		}
		if b.cursor == 0 {
			return true, nil
		}
		cursor = b.cursor
	}
}

// scanBatch runs one SCAN step and reads the records found with one
// pipeline.
func (s *Store) scanBatch(ctx context.Context, node redis.UniversalClient, cursor uint64, pattern string) (scanBatch, error) {
	found, next, err := node.Scan(ctx, cursor, pattern, scanCount).Result()
	if err != nil {
		return scanBatch{}, err
	}
	b := scanBatch{cursor: next}
	if len(found) == 0 {
		return b, nil
	}
	pipe := node.Pipeline()
	for _, rk := range found {
		key, ok := s.storeKey(rk)
		if !ok {
			continue
		}
		b.keys = append(b.keys, key)
		b.cmds = append(b.cmds, pipe.HGetAll(ctx, rk))
	}
	if len(b.keys) == 0 {
		return b, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && !allWrongType(b.cmds) {
		return scanBatch{}, err
	}
	return b, nil
}

// allWrongType reports whether every failed command failed with WRONGTYPE.
func allWrongType[C redis.Cmder](cmds []C) bool {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !isWrongType(err) {
			return false
		}
	}
	return true
}
