package otelsession_test

import (
	"context"
	"net/url"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// reader collects what an Observer recorded, through the SDK's
// ManualReader.
type reader struct {
	t *testing.T
	r *sdkmetric.ManualReader
	p *sdkmetric.MeterProvider
}

// newBenchProvider returns a meter provider with a reader, for benchmarks.
func newBenchProvider(b *testing.B) *sdkmetric.MeterProvider {
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { p.Shutdown(context.Background()) })
	return p
}

func newReader(t *testing.T) *reader {
	r := sdkmetric.NewManualReader()
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	return &reader{t: t, r: r, p: p}
}

// collect returns every metric recorded so far, by name.
func (r *reader) collect() map[string]metricdata.Metrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.r.Collect(context.Background(), &rm); err != nil {
		r.t.Fatalf("collect: %v", err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// has reports whether set holds every attribute of want.
func has(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// sum adds the values of the counter name's data points that carry every
// attribute of want (0 when nothing was recorded).
func sum(t *testing.T, ms map[string]metricdata.Metrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return 0
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is a %T, want a cumulative int64 sum", name, m.Data)
	}
	if !s.IsMonotonic {
		t.Errorf("%s is not monotonic", name)
	}
	var n int64
	for _, dp := range s.DataPoints {
		if has(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

// histogram returns the count and sum of the histogram name's data points
// that carry every attribute of want.
func histogram(t *testing.T, ms map[string]metricdata.Metrics, name string, want ...attribute.KeyValue) (uint64, float64) {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return 0, 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is a %T, want a float64 histogram", name, m.Data)
	}
	var n uint64
	var total float64
	for _, dp := range h.DataPoints {
		if has(dp.Attributes, want) {
			n += dp.Count
			total += dp.Sum
		}
	}
	return n, total
}

// mustParse parses a URL or fails the test.
func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
