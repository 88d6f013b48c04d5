package flowtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// CookieName is the session cookie name of the managers the suite builds.
const CookieName = "session"

// Client sends requests to a test server with an explicit session cookie,
// so that a test can replay an old ID after the server replaced it.
type Client struct {
	t   testing.TB
	srv *httptest.Server
}

// NewClient returns a client for srv.
func NewClient(t testing.TB, srv *httptest.Server) *Client { return &Client{t: t, srv: srv} }

// Response is what a request returned.
type Response struct {
	// Status is the response's status code.
	Status int
	// Body is the whole response body.
	Body string
	// Cookie is the session ID the response set, "" when it set none.
	Cookie string
	// Expired reports that the response expired the session cookie.
	Expired bool
	// SetCookies counts the response's Set-Cookie lines for the session.
	SetCookies int
	// Header holds the response headers.
	Header http.Header
}

// Do sends method path with the session cookie id ("" for none) and form
// values (sent as a form body when not nil). It is safe for concurrent use.
func (c *Client) Do(method, path, id string, form url.Values) Response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if id != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: id})
	}
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return Response{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Errorf("%s %s: reading the body: %v", method, path, err)
	}
	out := Response{Status: res.StatusCode, Body: string(b), Header: res.Header}
	for _, ck := range res.Cookies() {
		if ck.Name != CookieName {
			continue
		}
		out.SetCookies++
		if ck.MaxAge < 0 || ck.Value == "" {
			out.Expired, out.Cookie = true, ""
			continue
		}
		out.Cookie = ck.Value
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			c.t.Errorf("%s %s: session cookie lacks a secure default: %+v", method, path, ck)
		}
	}
	return out
}
