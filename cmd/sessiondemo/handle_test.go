package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sessionkit/session/cmd/internal/testenv"
)

// TestPagesShowNoSessionID: with raw IDs (the compatibility layout, or
// raw_ids=true) a store key is the session ID, so the record and devices
// pages name sessions by a short hash of the key, never by the key: no page
// holds the ID of this browser's session or of the user's other device.
func TestPagesShowNoSessionID(t *testing.T) {
	for name, storeURL := range map[string]func(t testing.TB) string{
		"sqlite-compat":   func(t testing.TB) string { return testenv.SQLite(t) + "?layout=compat" },
		"sqlite-raw-ids":  func(t testing.TB) string { return testenv.SQLite(t) + "?raw_ids=true" },
		"files-raw-ids":   func(t testing.TB) string { return testenv.Files(t) + "?raw_ids=true" },
		"sqlite (hashed)": testenv.SQLite,
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := startDemo(t, storeURL(t))
			one, two := newBrowser(t, srv.URL), newBrowser(t, srv.URL)
			for _, b := range []*browser{one, two} {
				b.get("/")
				if code, body := b.post("/login", url.Values{"name": {"alice"}}); code != http.StatusOK {
					t.Fatalf("login: %d\n%s", code, body)
				}
			}
			ids := []string{one.cookie(), two.cookie(), idOf(one), idOf(two)}
			for _, path := range []string{"/", "/record", "/devices"} {
				code, body := one.get(path)
				if code != http.StatusOK {
					t.Fatalf("GET %s: %d\n%s", path, code, body)
				}
				for _, id := range ids {
					if id == "" || strings.Contains(body, id) {
						t.Errorf("GET %s shows the session ID %q\n%s", path, id, body)
					}
				}
				if raw := name != "sqlite (hashed)"; raw && path == "/record" && !strings.Contains(body, handle(idOf(one))) {
					t.Errorf("GET /record does not name the session by its handle %s\n%s", handle(idOf(one)), body)
				}
			}
		})
	}
}

// idOf returns the session ID in b's cookie (the demo percent-encodes a
// ',' of a PHP-style ID in the cookie, as PHP does).
func idOf(b *browser) string {
	id, err := url.QueryUnescape(b.cookie())
	if err != nil {
		return b.cookie()
	}
	return id
}
