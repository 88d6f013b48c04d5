package main

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/sessionkit/session/otelsession"
)

// metrics is the optional /metrics endpoint: the manager's observer
// records through OpenTelemetry, whose Prometheus exporter fills a registry
// of its own that the endpoint serves.
type metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler
}

// newMetrics returns the metrics of a, and sets a's manager to report to
// them.
func newMetrics(a *app) (*metrics, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	obs, err := otelsession.New(provider)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	a.m.Observer = obs
	return &metrics{provider: provider, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, nil
}

// withMetrics serves /metrics from m and everything else from next. The
// endpoint does not pass through the session manager: scraping it creates
// no session.
func withMetrics(next http.Handler, m *metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.handler)
	mux.Handle("/", next)
	return mux
}
