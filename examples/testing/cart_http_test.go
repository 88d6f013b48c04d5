package testingexample_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/session"
	testingexample "github.com/sessionkit/session/examples/testing"
	"github.com/sessionkit/session/memstore"
)

// Through HTTP: a TLS test server (the session cookie is Secure by
// default; for a plain httptest.NewServer set m.Cookie.Insecure in the
// test) and a client with a cookie jar, like a browser.
func TestCartOverHTTP(t *testing.T) {
	m := session.New(memstore.New())
	srv := httptest.NewTLSServer(testingexample.Cart{M: m}.Handler())
	t.Cleanup(srv.Close)
	client := srv.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client.Jar = jar

	get := func(method, path string) string {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %q %v", method, path, res.StatusCode, b, err)
		}
		return string(b)
	}
	if got := get(http.MethodPost, "/cart?item=book"); got != "book" {
		t.Fatalf("first add: %q", got)
	}
	if got := get(http.MethodPost, "/cart?item=pen"); got != "book, pen" {
		t.Fatalf("second add: %q (the jar must have sent the session cookie back)", got)
	}
	if got := get(http.MethodGet, "/cart"); got != "guest: book, pen" {
		t.Fatalf("GET /cart: %q", got)
	}
	if n := len(jar.Cookies(mustURL(t, srv.URL))); n != 1 {
		t.Fatalf("the jar holds %d cookies, want the one session cookie", n)
	}

	// Another client (another jar) has its own cart.
	other := srv.Client()
	other.Jar, _ = cookiejar.New(nil)
	client = other
	if got := get(http.MethodGet, "/cart"); got != "guest: " {
		t.Fatalf("another client sees %q", got)
	}
}
