package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestRun runs the program as main does: it prints where it listens and
// where the data lives, serves, and shuts down cleanly when its context
// ends (what Ctrl-C does), exiting 0.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SESSIONDEMO_STORE", "sqlite://"+filepath.Join(dir, "demo.db"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"-addr", "127.0.0.1:0"}, outW, &stderr)
		outW.Close()
		done <- code
	}()
	lines := bufio.NewScanner(outR)
	var addr, where string
	for lines.Scan() {
		l := lines.Text()
		if a, ok := strings.CutPrefix(l, "sessiondemo: listening on "); ok {
			addr = a
		}
		if w, ok := strings.CutPrefix(l, "sessiondemo: sessions stored in "); ok {
			where = w
		}
		if strings.Contains(l, "Ctrl-C") {
			break
		}
	}
	if addr == "" || !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("no listening address printed (stderr: %s)", stderr.String())
	}
	if !strings.Contains(where, filepath.Join(dir, "demo.db")) {
		t.Errorf("data location %q does not name the SQLite file", where)
	}
	go io.Copy(io.Discard, outR)

	resp, err := http.Get(addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `<span id="counter">1</span>`) {
		t.Errorf("GET /: %d\n%s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, not Secure (plain HTTP), SameSite=Lax, Path=/", cookie)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after shutdown, want 0 (stderr: %s)", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not shut down")
	}
	if _, err := http.Get(addr + "/"); err == nil {
		t.Errorf("the server still answers after shutdown")
	}
}

// TestRunSecure checks that -secure sets the Secure attribute.
func TestRunSecure(t *testing.T) {
	srv, a := startDemo(t, testenv.SQLite(t))
	a.m.Cookie.Insecure = false // what -secure does (through config)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "session" && !c.Secure {
			t.Errorf("cookie not Secure: %+v", c)
		}
	}
	cfg := config{Secure: true}
	if m := newApp(a.target, cfg).m; m.Cookie.Insecure {
		t.Errorf("config.Secure does not reach the manager")
	}
}

// TestRunUsage checks the exit codes of help and of bad flags or URLs.
func TestRunUsage(t *testing.T) {
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "Usage: sessiondemo") {
		t.Errorf("-help: exit %d\n%s", code, errb.String())
	}
	errb.Reset()
	if code := run(ctx, []string{"-bogus"}, &out, &errb); code != 2 {
		t.Errorf("-bogus: exit %d, want 2", code)
	}
	errb.Reset()
	if code := run(ctx, []string{"-store", "oracle://x"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown scheme "oracle"`) {
		t.Errorf("-store oracle://x: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(ctx, []string{"-store", "redis://127.0.0.1:1/0"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "connect to") {
		t.Errorf("unreachable store: exit %d, stderr %q", code, errb.String())
	}
}
