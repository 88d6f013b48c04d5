package cachestore

import (
	"context"
	"time"

	"github.com/sessionkit/session"
)

// Mixins forwarding one optional interface each; the wrappers in
// capabilities.go embed the ones their durable store has.

type toucherCap struct{ t *tier }

// Touch implements session.Toucher: the durable record's expiry, then the
// entry is deleted (the next Load fills it again).
func (c toucherCap) Touch(ctx context.Context, key string, expiry time.Time) error {
	return c.t.touch(ctx, key, expiry)
}

type collectorCap struct{ t *tier }

// GC implements session.Collector: the durable store's, then the fast
// store's if it is a Collector.
func (c collectorCap) GC(ctx context.Context) (int, error) { return c.t.gc(ctx) }

type batchCap struct{ t *tier }

// GC implements session.Collector: the durable store's, then the fast
// store's if it is a Collector.
func (c batchCap) GC(ctx context.Context) (int, error) { return c.t.gc(ctx) }

// GCBatch implements session.BatchCollector with the durable store's
// batches; after the last one, the fast store's GC if it has one.
func (c batchCap) GCBatch(ctx context.Context, limit int) (int, error) {
	return c.t.gcBatch(ctx, limit)
}

type iteratorCap struct{ t *tier }

// Iterate implements session.Iterator on the durable store.
func (c iteratorCap) Iterate(ctx context.Context, fn func(key string, rec session.Record) bool) error {
	return c.t.iterator.Iterate(ctx, fn)
}

type ownerCap struct{ t *tier }

// OwnerKeys implements session.OwnerIndex on the durable store.
func (c ownerCap) OwnerKeys(ctx context.Context, owner string) ([]string, error) {
	return c.t.owners.OwnerKeys(ctx, owner)
}

type counterCap struct{ t *tier }

// CountExpired implements session.ExpiredCounter on the durable store.
func (c counterCap) CountExpired(ctx context.Context) (int, error) {
	return c.t.counter.CountExpired(ctx)
}
