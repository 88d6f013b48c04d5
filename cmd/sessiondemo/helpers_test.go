package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// startDemo serves the demo's handler on a loopback test server over the
// store at storeURL (created when missing, as the program does).
func startDemo(t testing.TB, storeURL string) (*httptest.Server, *app) {
	t.Helper()
	return startDemoWith(t, storeURL, nil)
}

// startDemoWith is startDemo with a middleware around the demo's handler.
func startDemoWith(t testing.TB, storeURL string, wrap func(http.Handler) http.Handler) (*httptest.Server, *app) {
	t.Helper()
	return startApp(t, storeURL, func(_ *app, h http.Handler) http.Handler {
		if wrap != nil {
			h = wrap(h)
		}
		return h
	})
}

// startApp is startDemo with setup, which may change the app before it
// serves and returns the handler to serve.
func startApp(t testing.TB, storeURL string, setup func(*app, http.Handler) http.Handler) (*httptest.Server, *app) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tgt, err := storeurl.Open(ctx, storeURL, storeurl.Options{Setup: true})
	if err != nil {
		t.Fatalf("open %s: %v", storeURL, err)
	}
	a := newApp(tgt, config{Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	h := setup(a, a.handler())
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		tgt.Close()
	})
	return srv, a
}

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is a plain HTTP client with its own cookie jar: one device.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	last string // body of the last page
}

func newBrowser(t testing.TB, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// get loads path and returns the status and the body.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

// post submits a form with the CSRF token of the last page (unless form
// sets one) and follows the redirect.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", find(b.last, `name="csrf" value="([^"]*)"`))
	}
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

// cookie returns the session cookie's value, or "".
func (b *browser) cookie() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

// setCookie gives the browser a session cookie with value.
func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: value, Path: "/"}})
}

// find returns the first group of pattern in s, or "".
func find(s, pattern string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
