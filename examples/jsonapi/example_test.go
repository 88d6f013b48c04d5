package jsonapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/examples/jsonapi"
	"github.com/sessionkit/session/memstore"
)

// A client logs in, keeps the token from Session-Token, sends it as a
// bearer token, and logs out.
func Example() {
	m := session.New(memstore.New())
	jsonapi.Configure(m)
	srv := httptest.NewServer(jsonapi.NewHandler(m))
	defer srv.Close()

	call := func(method, path, token, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, strings.TrimSpace(string(b))
	}

	res, body := call("POST", "/login", "", `{"user": "alice"}`)
	token := res.Header.Get("Session-Token")
	fmt.Println(res.StatusCode, body, "token:", len(token), "characters")
	_, body = call("GET", "/me", token, "")
	fmt.Println(body)
	res, _ = call("POST", "/logout", token, "")
	fmt.Printf("%d, Session-Token %q\n", res.StatusCode, res.Header.Get("Session-Token"))
	res, body = call("GET", "/me", token, "")
	fmt.Println(res.StatusCode, body)
	// Output:
	// 200 {"user":"alice"} token: 43 characters
	// {"user":"alice"}
	// 204, Session-Token ""
	// 401 {"error":"not logged in"}
}
