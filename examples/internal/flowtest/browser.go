package flowtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
)

// Browser is a cookie-keeping HTTP client of one test server, as the
// examples use it.
type Browser struct {
	srv    *httptest.Server
	client *http.Client
}

// NewBrowser returns a browser for srv with an empty cookie jar.
func NewBrowser(srv *httptest.Server) *Browser {
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	return &Browser{srv: srv, client: c}
}

// Send sends a request (a form body when form is not nil) and returns the
// response body, or the error text.
func (b *Browser) Send(method, path string, form url.Values) string {
	req, _ := http.NewRequest(method, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return string(body)
}

// SessionID returns the session cookie the browser holds, or "".
func (b *Browser) SessionID() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

// Tour visits the example app the way the examples show it: a counter, a
// login that renews the session ID, and a logout that leaves a message
// shown once. It prints what the browser sees.
func Tour(srv *httptest.Server) {
	b := NewBrowser(srv)
	fmt.Println(b.Send("POST", "/count", nil))
	fmt.Println(b.Send("POST", "/count", nil))
	before := b.SessionID()
	fmt.Println(b.Send("POST", "/login", url.Values{"user": {"alice"}}))
	fmt.Println("new ID at login:", b.SessionID() != before)
	fmt.Println(b.Send("GET", "/", nil))
	fmt.Println(b.Send("GET", "/count", nil))
	fmt.Println(b.Send("POST", "/logout", nil))
	fmt.Println(b.Send("GET", "/", nil))
	fmt.Println(b.Send("GET", "/", nil))
}
