package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// tab is one browser context (its own cookies) of a headless Chromium.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
}

// newDevices starts a headless Chromium and returns n devices (tabs), each a
// separate browser context.
func newDevices(t *testing.T, base string, n int) []*tab {
	exe := os.Getenv("SESSION_TEST_CHROMIUM")
	if exe == "" {
		t.Skip("SESSION_TEST_CHROMIUM is not set (path to chromium; scripts/services.sh installs it and sets it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil { // start the browser
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	var ds []*tab
	for i := range n {
		dctx, cancelDev := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancelDev)
		ds = append(ds, &tab{t: t, name: "device " + strconv.Itoa(i+1), ctx: dctx, base: base})
	}
	return ds
}

// open navigates to path and waits for the page.
func (d *tab) open(path string) {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, chromedp.Navigate(d.base+path)); err != nil {
		d.t.Fatalf("%s: open %s: %v", d.name, path, err)
	}
}

// reload reloads the page and waits for it.
func (d *tab) reload() {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, chromedp.Reload()); err != nil {
		d.t.Fatalf("%s: reload: %v", d.name, err)
	}
}

// click clicks the element with id and waits for the page it leads to.
func (d *tab) click(id string) {
	d.t.Helper()
	resp, err := chromedp.RunResponse(d.ctx, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		d.t.Fatalf("%s: click #%s: %v", d.name, id, err)
	}
	if resp.Status != 200 {
		d.t.Fatalf("%s: click #%s: HTTP %d", d.name, id, resp.Status)
	}
}

// text returns the text of the element with id.
func (d *tab) text(id string) string {
	d.t.Helper()
	s, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		d.t.Fatalf("%s: text of #%s: %v", d.name, id, err)
	}
	return s
}

// eval evaluates a JavaScript expression on the page.
func evalOn[T any](d *tab, expr string) T {
	d.t.Helper()
	v, err := chromedp.Run(d.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		d.t.Fatalf("%s: evaluate %s: %v", d.name, expr, err)
	}
	return v
}

// counter returns the page counter.
func (d *tab) counter() int {
	d.t.Helper()
	n, err := strconv.Atoi(d.text("counter"))
	if err != nil {
		d.t.Fatalf("%s: counter: %v", d.name, err)
	}
	return n
}

// loggedIn reports what the page says about the login.
func (d *tab) loggedIn() bool {
	return evalOn[string](d, `document.getElementById("user").dataset.loggedIn`) == "true"
}

// hasFlash reports whether the page shows a flash message.
func (d *tab) hasFlash() bool {
	return evalOn[bool](d, `document.getElementById("flash") !== null`)
}

// sessionCookie returns the session cookie as the browser stored it.
func (d *tab) sessionCookie() *network.Cookie {
	d.t.Helper()
	res, err := chromedp.Call(d.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{d.base + "/"}})
	if err != nil {
		d.t.Fatalf("%s: get cookies: %v", d.name, err)
	}
	for _, c := range res.Cookies {
		if c.Name == "session" {
			return c
		}
	}
	return nil
}

// login fills in the login form and submits it.
func (d *tab) login(name string) {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, chromedp.SendKeys(chromedp.ID("name"), name)); err != nil {
		d.t.Fatalf("%s: type the name: %v", d.name, err)
	}
	d.click("login")
}

// TestBrowser drives the demo with headless Chromium: login, a counter that
// survives reloads, a flash message shown once, the cookie's attributes as
// the browser stored them, and two devices of one user where "log out my
// other devices" on one logs the other out; in the default mode and in the
// raw-ID mode of Phalcon's incubator table, where the pages must show no
// session ID either.
func TestBrowser(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testBrowser(t, testenv.SQLite(t), true) })
	t.Run("sqlite-compat", func(t *testing.T) { testBrowser(t, testenv.SQLite(t)+"?layout=compat", false) })
}

func testBrowser(t *testing.T, storeURL string, owners bool) {
	var favicons atomic.Int32
	srv, _ := startDemoWith(t, storeURL, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/favicon.ico" {
				favicons.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	ds := newDevices(t, srv.URL, 2)
	one, two := ds[0], ds[1]

	one.open("/")
	start := one.counter()
	if start != 1 {
		t.Errorf("first visit: counter %d, want 1", start)
	}
	one.reload()
	// Headless Chromium does not always ask for the icon by itself: ask.
	one.open("/favicon.ico")
	one.open("/")
	if got := one.counter(); got != start+2 {
		t.Errorf("after a reload, /favicon.ico and a visit: counter %d, want %d (the icon must not count)", got, start+2)
	}
	if favicons.Load() == 0 {
		t.Errorf("the browser never asked for /favicon.ico")
	}
	if one.loggedIn() {
		t.Fatal("logged in before logging in")
	}
	before := one.sessionCookie()
	if before == nil {
		t.Fatal("no session cookie after the first visits")
	}

	one.login("alice")
	if got := one.text("flash"); got != "Welcome, alice" {
		t.Errorf("flash after login: %q", got)
	}
	if !one.loggedIn() || one.text("user") != "alice" {
		t.Errorf("after login the page does not show alice")
	}
	n := one.counter()
	if n != start+3 {
		t.Errorf("after login: counter %d, want %d", n, start+3)
	}
	after := one.sessionCookie()
	if after == nil || after.Value == before.Value {
		t.Errorf("the session ID was not renewed on login")
	}
	one.reload()
	if one.hasFlash() {
		t.Errorf("the flash message shows again after a reload")
	}
	if got := one.counter(); got != n+1 {
		t.Errorf("reload after login: counter %d, want %d", got, n+1)
	}

	// The cookie as Chromium stored it.
	c := one.sessionCookie()
	if !c.HTTPOnly {
		t.Errorf("cookie not HttpOnly: %+v", c)
	}
	if c.SameSite != network.CookieSameSiteLax {
		t.Errorf("cookie SameSite %q, want Lax", c.SameSite)
	}
	if c.Path != "/" {
		t.Errorf("cookie path %q, want /", c.Path)
	}
	if c.Secure {
		t.Errorf("cookie Secure without -secure")
	}
	if !c.Session {
		t.Errorf("cookie is persistent, want a browser-session cookie (Persist is off)")
	}

	// No page shows the session's ID, whatever the mode.
	for _, page := range []string{"/", "/record", "/devices"} {
		one.open(page)
		if id, _ := url.PathUnescape(c.Value); strings.Contains(evalOn[string](one, `document.documentElement.outerHTML`), id) {
			t.Errorf("%s shows the session ID", page)
		}
	}
	if !owners {
		one.open("/")
		one.click("logout")
		if one.loggedIn() {
			t.Errorf("still logged in after logout")
		}
		return
	}

	// A second tab of alice.
	two.open("/")
	if two.counter() != 1 || two.loggedIn() {
		t.Fatalf("the second tab shares the first one's session")
	}
	two.login("alice")
	if !two.loggedIn() {
		t.Fatal("second tab: login failed")
	}

	one.open("/devices")
	if got := evalOn[int](one, `document.querySelectorAll("#devices li").length`); got != 2 {
		t.Fatalf("devices: %d listed, want 2", got)
	}
	if got := evalOn[int](one, `document.querySelectorAll("#devices li.current").length`); got != 1 {
		t.Errorf("devices: %d marked current, want 1", got)
	}
	one.click("logout-others")
	if got := one.text("flash"); got != "Logged out 1 other session(s)." {
		t.Errorf("flash after logging out the others: %q", got)
	}
	if got := evalOn[int](one, `document.querySelectorAll("#devices li").length`); got != 1 {
		t.Errorf("devices after logging out the others: %d listed, want 1", got)
	}

	two.reload()
	if two.loggedIn() {
		t.Errorf("the other tab is still logged in")
	}
	one.open("/")
	if !one.loggedIn() {
		t.Errorf("this tab was logged out as well")
	}

	one.click("logout")
	if one.loggedIn() {
		t.Errorf("still logged in after logout")
	}
}
