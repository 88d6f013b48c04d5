package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestMetrics checks the /metrics endpoint: the manager's store calls and
// session events in Prometheus' text format, and scraping creates no
// session.
func TestMetrics(t *testing.T) {
	srv, _ := startApp(t, testenv.SQLite(t), func(a *app, h http.Handler) http.Handler {
		mt, err := newMetrics(a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { mt.provider.Shutdown(context.Background()) })
		return withMetrics(h, mt)
	})

	d := newBrowser(t, srv.URL)
	d.get("/") // a new session: saved once
	d.get("/") // loaded, saved (the counter changed)
	scrape := func() string {
		t.Helper()
		code, body := newBrowser(t, srv.URL).get("/metrics")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics: %d\n%s", code, body)
		}
		return body
	}
	value := func(body, name, labels string) string {
		t.Helper()
		re := regexp.MustCompile(`(?m)^` + name + `\{([^}]*)\} (\S+)$`)
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			if strings.Contains(m[1], labels) {
				return m[2]
			}
		}
		return ""
	}
	body := scrape()
	for _, c := range []struct{ name, labels, want string }{
		{"sessionkit_sessions_created_total", "", "1"},
		{"sessionkit_store_calls_total", `session_store_op="save"`, "2"},
		{"sessionkit_store_calls_total", `session_store_op="load"`, "1"},
		{"sessionkit_store_duration_seconds_count", `session_store_op="save"`, "2"},
	} {
		if got := value(body, c.name, c.labels); got != c.want {
			t.Errorf("%s{%s} = %q, want %s\n%s", c.name, c.labels, got, c.want, body)
		}
	}
	if got := value(scrape(), "sessionkit_sessions_created_total", ""); got != "1" {
		t.Errorf("after scraping twice, sessions created = %q, want still 1", got)
	}
	if code, _ := newBrowser(t, srv.URL).get("/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics: %d", code)
	}
}

// TestMetricsOff checks that /metrics is not served without -metrics.
func TestMetricsOff(t *testing.T) {
	srv, _ := startDemo(t, testenv.SQLite(t))
	if code, _ := newBrowser(t, srv.URL).get("/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics without -metrics: %d, want 404", code)
	}
}

// TestRunMetrics checks that the program with -metrics prints the
// endpoint and serves it.
func TestRunMetrics(t *testing.T) {
	t.Setenv("SESSIONDEMO_STORE", "sqlite://"+filepath.Join(t.TempDir(), "demo.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"-addr", "127.0.0.1:0", "-metrics"}, outW, io.Discard)
		outW.Close()
		done <- code
	}()
	var endpoint string
	lines := bufio.NewScanner(outR)
	for lines.Scan() {
		if e, ok := strings.CutPrefix(lines.Text(), "sessiondemo: metrics on "); ok {
			endpoint = e
		}
		if strings.Contains(lines.Text(), "Ctrl-C") {
			break
		}
	}
	go io.Copy(io.Discard, outR)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || !strings.HasSuffix(endpoint, "/metrics") {
		t.Fatalf("metrics endpoint %q not printed", endpoint)
	}
	resp, err := http.Get(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET %s: %d %s", endpoint, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not shut down")
	}
}
