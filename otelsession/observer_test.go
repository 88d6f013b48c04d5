package otelsession_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/otelsession"
)

// TestStoreCalls checks that each store call is counted and timed under
// its operation and error class.
func TestStoreCalls(t *testing.T) {
	r := newReader(t)
	obs, err := otelsession.New(r.p, otelsession.WithAttributes(attribute.String("store", "test")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := []struct {
		op  session.StoreOp
		d   time.Duration
		err error
	}{
		{session.OpLoad, 2 * time.Millisecond, nil},
		{session.OpLoad, 3 * time.Millisecond, nil},
		{session.OpLoad, time.Millisecond, fmt.Errorf("sqlstore: load: %w", session.ErrNotFound)},
		{session.OpSave, 4 * time.Millisecond, fmt.Errorf("wrapped: %w", session.ErrConflict)},
		{session.OpSave, 5 * time.Millisecond, nil},
		{session.OpTouch, time.Second, context.DeadlineExceeded},
		{session.OpDelete, time.Millisecond, errors.New("connection refused")},
		{session.OpGC, 20 * time.Millisecond, nil},
		{session.StoreOp("iterate"), time.Millisecond, nil}, // an operation added later
	}
	for _, c := range calls {
		obs.StoreCall(ctx, c.op, c.d, c.err)
	}
	ms := r.collect()
	op := func(s string) attribute.KeyValue { return otelsession.AttrOp.String(s) }
	class := func(s string) attribute.KeyValue { return otelsession.AttrError.String(s) }
	for _, c := range []struct {
		op, class string
		want      int64
	}{
		{"load", "none", 2}, {"load", "not_found", 1}, {"save", "conflict", 1}, {"save", "none", 1},
		{"touch", "timeout", 1}, {"delete", "other", 1}, {"gc", "none", 1}, {"iterate", "none", 1},
	} {
		if got := sum(t, ms, otelsession.MetricStoreCalls, op(c.op), class(c.class)); got != c.want {
			t.Errorf("%s{op=%s, error.type=%s} = %d, want %d", otelsession.MetricStoreCalls, c.op, c.class, got, c.want)
		}
	}
	if got := sum(t, ms, otelsession.MetricStoreCalls, attribute.String("store", "test")); got != int64(len(calls)) {
		t.Errorf("calls with the attribute of WithAttributes: %d, want %d", got, len(calls))
	}
	n, total := histogram(t, ms, otelsession.MetricStoreDuration, op("load"))
	if n != 3 || total < 0.0059 || total > 0.0061 {
		t.Errorf("load latency: %d observations summing to %vs, want 3 summing to 0.006s", n, total)
	}
	if m := ms[otelsession.MetricStoreDuration]; m.Unit != "s" {
		t.Errorf("latency unit %q, want s", m.Unit)
	}
}

// TestEvents checks that each lifecycle event has its counter and that an
// unknown event is ignored.
func TestEvents(t *testing.T) {
	r := newReader(t)
	obs, err := otelsession.New(r.p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want := map[string]int64{
		otelsession.MetricCreated:      3,
		otelsession.MetricRenewed:      1,
		otelsession.MetricDestroyed:    2,
		otelsession.MetricConflicts:    4,
		otelsession.MetricRetries:      5,
		otelsession.MetricDecodeErrors: 1,
	}
	events := map[session.Event]string{
		session.EventCreated: otelsession.MetricCreated, session.EventRenewed: otelsession.MetricRenewed,
		session.EventDestroyed: otelsession.MetricDestroyed, session.EventConflict: otelsession.MetricConflicts,
		session.EventRetry: otelsession.MetricRetries, session.EventDecodeError: otelsession.MetricDecodeErrors,
	}
	for e, name := range events {
		for range want[name] {
			obs.Event(ctx, e)
		}
	}
	obs.Event(ctx, session.Event(99))
	ms := r.collect()
	for name, n := range want {
		if got := sum(t, ms, name); got != n {
			t.Errorf("%s = %d, want %d", name, got, n)
		}
	}
	for reason, n := range map[string]int64{"logout": 2, "renewed": 1, "expired": 0} {
		if got := sum(t, ms, otelsession.MetricEnded, otelsession.AttrReason.String(reason)); got != n {
			t.Errorf("%s{reason=%s} = %d, want %d", otelsession.MetricEnded, reason, got, n)
		}
	}
	if len(ms) != len(want)+1 {
		t.Errorf("%d metrics recorded, want %d: %v", len(ms), len(want), ms)
	}
}

// TestErrorClass checks the classes of the error attribute.
func TestErrorClass(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "none"},
		{fmt.Errorf("x: %w", session.ErrNotFound), "not_found"},
		{fmt.Errorf("x: %w", session.ErrConflict), "conflict"},
		{session.ErrTooLarge, "too_large"},
		{session.ErrUnsupported, "unsupported"},
		{session.ErrInvalidKey, "invalid_key"},
		{fmt.Errorf("redis: %w", session.ErrCorrupt), "corrupt"},
		{fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("dial tcp: connection refused"), "other"},
	} {
		if got := otelsession.ErrorClass(c.err); got != c.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestNoop checks that a no-op provider works (nothing recorded, no
// error), as does the global provider.
func TestNoop(t *testing.T) {
	obs, err := otelsession.New(noop.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	obs.StoreCall(context.Background(), session.OpLoad, time.Millisecond, nil)
	obs.Event(context.Background(), session.EventCreated)
	if _, err := otelsession.New(nil); err != nil {
		t.Fatalf("New(nil): %v", err)
	}
}

// TestNoAllocations checks that recording a store call or an event
// allocates nothing, since the manager calls the observer on every
// request.
func TestNoAllocations(t *testing.T) {
	r := newReader(t)
	obs, err := otelsession.New(r.p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obs.StoreCall(ctx, session.OpLoad, time.Millisecond, nil) // the data point exists
	obs.Event(ctx, session.EventCreated)
	if n := testing.AllocsPerRun(1000, func() {
		obs.StoreCall(ctx, session.OpLoad, time.Millisecond, nil)
		obs.Event(ctx, session.EventCreated)
	}); n != 0 {
		t.Errorf("%v allocations per store call and event, want 0", n)
	}
}

// BenchmarkStoreCall measures the cost the observer adds to a store call.
func BenchmarkStoreCall(b *testing.B) {
	obs, err := otelsession.New(newBenchProvider(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		obs.StoreCall(ctx, session.OpLoad, time.Millisecond, nil)
	}
}
