package ginsession_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/session"
	ginsession "github.com/sessionkit/session/examples/gin"
	"github.com/sessionkit/session/memstore"
)

// A browser's visit through gin: a counter, a login that renews the session
// ID, and a logout that leaves a message shown once.
func Example() {
	gin.SetMode(gin.ReleaseMode) // no debug lines on stdout
	m := session.New(memstore.New())
	srv := httptest.NewTLSServer(ginsession.NewEngine(m)) // the cookie is Secure: serve HTTPS
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)

	send := func(method, path string, form url.Values) string {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := client.Do(req)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	sessionID := func() string {
		u, _ := url.Parse(srv.URL)
		for _, c := range client.Jar.Cookies(u) {
			if c.Name == "session" {
				return c.Value
			}
		}
		return ""
	}

	fmt.Println(send("POST", "/count", nil))
	fmt.Println(send("POST", "/count", nil))
	before := sessionID()
	fmt.Println(send("POST", "/login", url.Values{"user": {"alice"}}))
	fmt.Println("new ID at login:", sessionID() != before)
	fmt.Println(send("GET", "/", nil))
	fmt.Println(send("GET", "/count", nil))
	fmt.Println(send("POST", "/logout", nil))
	fmt.Println(send("GET", "/", nil))
	fmt.Println(send("GET", "/", nil))
	// Output:
	// count 1
	// count 2
	// welcome alice
	// new ID at login: true
	// hello alice
	// count 2
	// bye
	// hello guest | You have been logged out.
	// hello guest
}
