package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestDemo drives the demo over HTTP on every backend whose server is
// available: counter, favicon, login with a renewed ID, flash once, CSRF,
// the raw record, two devices and "log out my other devices", logout.
func TestDemo(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if b.Env != "" {
				testenv.Need(t, b.Env)
			}
			t.Parallel()
			srv, _ := startDemo(t, b.URL(t))
			testDemo(t, srv.URL, b)
		})
	}
}

func testDemo(t *testing.T, base string, b testenv.Backend) {
	one := newBrowser(t, base)
	counter := func(d *browser) string {
		t.Helper()
		code, body := d.get("/")
		if code != http.StatusOK {
			t.Fatalf("GET /: %d\n%s", code, body)
		}
		return find(body, `<span id="counter">(\d+)</span>`)
	}
	if got := counter(one); got != "1" {
		t.Fatalf("first visit: counter %q, want 1", got)
	}
	if code, body := one.get("/favicon.ico"); code != http.StatusOK || !strings.HasPrefix(body, "<svg") {
		t.Errorf("GET /favicon.ico: %d %q, want the icon", code, body)
	}
	if got := counter(one); got != "2" {
		t.Fatalf("second visit (after a favicon request): counter %q, want 2", got)
	}
	if !strings.Contains(one.last, `data-logged-in="false"`) {
		t.Errorf("not logged in, but the page says otherwise")
	}

	// Forms need the CSRF token of the session.
	if code, _ := one.post("/login", url.Values{"name": {"alice"}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("login with a wrong CSRF token: %d, want 403", code)
	}
	stranger := newBrowser(t, base)
	if code, _ := stranger.post("/login", url.Values{"name": {"alice"}, "csrf": {""}}); code != http.StatusForbidden {
		t.Errorf("login without a session: %d, want 403", code)
	}

	counter(one)
	before := one.cookie()
	code, body := one.post("/login", url.Values{"name": {"alice"}})
	if code != http.StatusOK {
		t.Fatalf("login: %d\n%s", code, body)
	}
	if after := one.cookie(); after == "" || after == before {
		t.Errorf("login did not renew the session ID (%q -> %q)", before, after)
	}
	if got := find(body, `<p id="flash" role="status">([^<]*)</p>`); got != "Welcome, alice" {
		t.Errorf("after login: flash %q, want Welcome, alice", got)
	}
	if got := find(body, `<span id="counter">(\d+)</span>`); got != "4" {
		t.Errorf("after login: counter %q, want 4 (the data survives the new ID)", got)
	}
	if !strings.Contains(body, `data-logged-in="true">alice</span>`) {
		t.Errorf("after login the page does not show alice")
	}
	if got := counter(one); got != "5" {
		t.Errorf("reload: counter %q, want 5", got)
	}
	if strings.Contains(one.last, `id="flash"`) {
		t.Errorf("the flash message shows twice")
	}

	// The raw record of the current session.
	code, body = one.get("/record")
	if code != http.StatusOK {
		t.Fatalf("GET /record: %d\n%s", code, body)
	}
	if !strings.Contains(body, `id="record-text"`) || !strings.Contains(body, `id="record-hex"`) {
		t.Errorf("record page lacks the encoded data:\n%s", body)
	}
	if !strings.Contains(body, "<td>user</td><td>string</td><td>alice</td>") {
		t.Errorf("record page lacks the decoded user:\n%s", body)
	}
	if b.Owners && !strings.Contains(body, `<td id="record-owner">alice</td>`) {
		t.Errorf("record page lacks the owner:\n%s", body)
	}

	// A second device of alice.
	two := newBrowser(t, base)
	counter(two)
	if code, body := two.post("/login", url.Values{"name": {"alice"}}); code != http.StatusOK {
		t.Fatalf("login on the second device: %d\n%s", code, body)
	}
	code, body = one.get("/devices")
	if code != http.StatusOK {
		t.Fatalf("GET /devices: %d\n%s", code, body)
	}
	if !b.Owners || !b.Iterator {
		if !strings.Contains(body, `id="devices-unsupported"`) {
			t.Errorf("devices page on a store without owners or listing:\n%s", body)
		}
		return
	}
	if n := strings.Count(body, "data-session="); n != 2 {
		t.Fatalf("devices: %d sessions listed, want 2\n%s", n, body)
	}
	if strings.Count(body, `id="current-device"`) != 1 {
		t.Errorf("devices: the current session is not marked once\n%s", body)
	}
	code, body = one.post("/logout-others", nil)
	if code != http.StatusOK {
		t.Fatalf("log out other devices: %d\n%s", code, body)
	}
	if got := find(body, `<p id="flash" role="status">([^<]*)</p>`); got != "Logged out 1 other session(s)." {
		t.Errorf("after logging out the other devices: flash %q", got)
	}
	if n := strings.Count(body, "data-session="); n != 1 {
		t.Errorf("devices after logging out the others: %d listed, want 1\n%s", n, body)
	}
	if got := counter(two); got != "1" || !strings.Contains(two.last, `data-logged-in="false"`) {
		t.Errorf("the other device is still logged in (counter %q)", got)
	}
	if counter(one); !strings.Contains(one.last, `data-logged-in="true">alice</span>`) {
		t.Errorf("this device was logged out too")
	}

	// Logout destroys the session and leaves a flash message in a fresh
	// one, under a new ID.
	loggedIn := one.cookie()
	code, body = one.post("/logout", nil)
	if code != http.StatusOK || !strings.Contains(body, `data-logged-in="false"`) {
		t.Errorf("logout: %d, still logged in", code)
	}
	if got := find(body, `<p id="flash" role="status">([^<]*)</p>`); got != loggedOut {
		t.Errorf("after logout: flash %q, want %q", got, loggedOut)
	}
	if after := one.cookie(); after == "" || after == loggedIn {
		t.Errorf("after logout the session ID is %q, want a new one (was %q)", after, loggedIn)
	}
	if got := counter(one); got != "2" {
		t.Errorf("after logout the counter is %q, want a new session's (2: the redirect counted 1)", got)
	}
	if strings.Contains(one.last, `id="flash"`) {
		t.Errorf("the logout flash message shows twice")
	}
	// The ID of the logged-in session is dead.
	old := newBrowser(t, base)
	old.setCookie(loggedIn)
	if got := counter(old); got != "1" || !strings.Contains(old.last, `data-logged-in="false"`) {
		t.Errorf("the ID from before logout still works (counter %q)", got)
	}
}

// TestMaxSessions: with -max-sessions 2 a third device's login logs out
// the least recently used one, and says so.
func TestMaxSessions(t *testing.T) {
	srv, a := startApp(t, "sqlite:"+filepath.Join(t.TempDir(), "s.db"), func(a *app, h http.Handler) http.Handler { return h })
	a.m.MaxSessionsPerOwner = 2
	devices := []*browser{newBrowser(t, srv.URL), newBrowser(t, srv.URL), newBrowser(t, srv.URL)}
	for i, b := range devices {
		b.get("/")
		_, page := b.post("/login", url.Values{"name": {"dana"}})
		if i == 2 && !strings.Contains(page, "has been logged out") {
			t.Fatalf("the third login does not say a device was logged out:\n%s", page)
		}
	}
	if _, page := devices[0].get("/"); strings.Contains(page, "dana") {
		t.Fatal("the least recently used device is still logged in")
	}
	for _, b := range devices[1:] {
		if _, page := b.get("/"); !strings.Contains(page, "dana") {
			t.Fatal("a recent device was logged out")
		}
	}
}
