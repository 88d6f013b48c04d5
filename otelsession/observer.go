// Package otelsession records what a sessionkit [session.Manager] does as
// OpenTelemetry metrics: store calls by operation and outcome, their
// latency, and session lifecycle events (created, renewed, destroyed,
// conflicts, retries, decode errors).
//
//	obs, err := otelsession.New(meterProvider)
//	if err != nil { ... }
//	m := session.New(store)
//	m.Observer = obs
//
// Any MeterProvider works: the SDK's with a Prometheus, OTLP or stdout
// exporter, or a no-op one.
package otelsession

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sessionkit/session"
)

// ScopeName is the instrumentation scope under which the instruments are
// created.
const ScopeName = "github.com/sessionkit/session/otelsession"

// Instrument names, as OpenTelemetry names them. The Prometheus exporter
// turns the dots into underscores and adds _total to counters and
// _seconds to the histogram ("sessionkit_store_calls_total").
const (
	MetricStoreCalls    = "sessionkit.store.calls"
	MetricStoreDuration = "sessionkit.store.duration"
	MetricCreated       = "sessionkit.sessions.created"
	MetricRenewed       = "sessionkit.sessions.renewed"
	MetricDestroyed     = "sessionkit.sessions.destroyed"
	MetricConflicts     = "sessionkit.save.conflicts"
	MetricRetries       = "sessionkit.save.retries"
	MetricDecodeErrors  = "sessionkit.decode.errors"
	MetricEnded         = "sessionkit.sessions.ended"
)

// Attribute keys of the store call metrics.
const (
	// AttrOp is the store operation: load, save, touch, delete or gc.
	AttrOp = attribute.Key("session.store.op")
	// AttrError is the outcome of the call: "none" on success, otherwise
	// one of the classes listed on [ErrorClass].
	AttrError = attribute.Key("error.type")
	// AttrReason is why a session ended (MetricEnded): logout,
	// owner_logout, evicted, renewed or expired (session.Event.Ended).
	AttrReason = attribute.Key("session.end.reason")
)

// DurationBuckets are the histogram's bucket boundaries, in seconds: from
// half a millisecond (memory, a local Redis) to ten seconds (a server
// that times out).
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Option changes how [New] builds an Observer.
type Option func(*config)

type config struct {
	attrs []attribute.KeyValue
}

// WithAttributes adds attributes to every measurement, for example the
// store's name when one process uses several managers.
func WithAttributes(kv ...attribute.KeyValue) Option {
	return func(c *config) { c.attrs = append(c.attrs, kv...) }
}

// Observer is a [session.Observer] that records through OpenTelemetry
// instruments. It is safe for concurrent use.
type Observer struct {
	calls     metric.Int64Counter
	duration  metric.Float64Histogram
	events    map[session.Event]metric.Int64Counter
	ended     metric.Int64Counter
	endAttrs  map[session.Event][]metric.AddOption // by event, with its reason
	base      []attribute.KeyValue
	callAttrs map[callKey]callOpts // precomputed attribute sets
	eventAttr []metric.AddOption
}

// callOpts are the measurement options of one (operation, error class),
// as slices so that passing them allocates nothing.
type callOpts struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// callKey indexes the precomputed attribute sets of store calls.
type callKey struct {
	op    session.StoreOp
	class string
}

var _ session.Observer = (*Observer)(nil)

// New returns an Observer whose instruments come from mp's meter named
// [ScopeName]. A nil mp means otel.GetMeterProvider(), the global one.
func New(mp metric.MeterProvider, opts ...Option) (*Observer, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	o := &Observer{base: c.attrs, events: map[session.Event]metric.Int64Counter{}, callAttrs: map[callKey]callOpts{}}
	var err error
	if o.calls, err = meter.Int64Counter(MetricStoreCalls, metric.WithUnit("{call}"),
		metric.WithDescription("Calls of the session store, by operation and outcome.")); err != nil {
		return nil, fmt.Errorf("otelsession: %s: %w", MetricStoreCalls, err)
	}
	if o.duration, err = meter.Float64Histogram(MetricStoreDuration, metric.WithUnit("s"),
		metric.WithDescription("Latency of session store calls, by operation and outcome."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...)); err != nil {
		return nil, fmt.Errorf("otelsession: %s: %w", MetricStoreDuration, err)
	}
	for _, e := range []struct {
		ev         session.Event
		name, unit string
		desc       string
	}{
		{session.EventCreated, MetricCreated, "{session}", "Sessions stored for the first time."},
		{session.EventRenewed, MetricRenewed, "{session}", "Sessions given a new ID (Renew)."},
		{session.EventDestroyed, MetricDestroyed, "{session}", "Sessions destroyed."},
		{session.EventConflict, MetricConflicts, "{conflict}", "Saves that met a version conflict (another request saved first)."},
		{session.EventRetry, MetricRetries, "{retry}", "Saves tried again after a conflict."},
		{session.EventDecodeError, MetricDecodeErrors, "{error}", "Stored sessions that could not be decoded or were corrupt (the request got a fresh session)."},
	} {
		ctr, err := meter.Int64Counter(e.name, metric.WithUnit(e.unit), metric.WithDescription(e.desc))
		if err != nil {
			return nil, fmt.Errorf("otelsession: %s: %w", e.name, err)
		}
		o.events[e.ev] = ctr
	}
	o.eventAttr = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(c.attrs...))}
	if o.ended, err = meter.Int64Counter(MetricEnded, metric.WithUnit("{session}"),
		metric.WithDescription("Sessions that ended, by reason: logout, owner_logout, evicted, renewed (the old ID of a Renew), expired (removed by GC).")); err != nil {
		return nil, fmt.Errorf("otelsession: %s: %w", MetricEnded, err)
	}
	o.endAttrs = map[session.Event][]metric.AddOption{}
	for e := session.Event(1); e < 64; e++ {
		if reason, ok := e.Ended(); ok {
			kv := append([]attribute.KeyValue{AttrReason.String(reason)}, c.attrs...)
			o.endAttrs[e] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
		}
	}
	for _, op := range []session.StoreOp{session.OpLoad, session.OpSave, session.OpTouch, session.OpDelete, session.OpGC} {
		for _, class := range errorClasses {
			o.callAttrs[callKey{op, class}] = o.newCallAttrs(op, class)
		}
	}
	return o, nil
}

func (o *Observer) newCallAttrs(op session.StoreOp, class string) callOpts {
	kv := append([]attribute.KeyValue{AttrOp.String(string(op)), AttrError.String(class)}, o.base...)
	set := metric.WithAttributeSet(attribute.NewSet(kv...))
	return callOpts{add: []metric.AddOption{set}, record: []metric.RecordOption{set}}
}

// StoreCall records one store call: a count and its latency, with the
// operation and the error class as attributes.
func (o *Observer) StoreCall(ctx context.Context, op session.StoreOp, d time.Duration, err error) {
	class := ErrorClass(err)
	attrs, ok := o.callAttrs[callKey{op, class}]
	if !ok {
		attrs = o.newCallAttrs(op, class)
	}
	o.calls.Add(ctx, 1, attrs.add...)
	o.duration.Record(ctx, d.Seconds(), attrs.record...)
}

// Event counts one lifecycle event of a session, and each end of a session
// with its reason. Unknown events are ignored.
func (o *Observer) Event(ctx context.Context, e session.Event) {
	if c, ok := o.events[e]; ok {
		c.Add(ctx, 1, o.eventAttr...)
	}
	if attrs, ok := o.endAttrs[e]; ok {
		o.ended.Add(ctx, 1, attrs...)
	}
}
