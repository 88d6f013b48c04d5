package ginsession_test

import (
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/session"
	ginsession "github.com/sessionkit/session/examples/gin"
	"github.com/sessionkit/session/examples/internal/flowtest"
	"github.com/sessionkit/session/memstore"
)

// A browser's visit through gin: a counter, a login that renews the session
// ID, and a logout that leaves a message shown once.
func Example() {
	gin.SetMode(gin.ReleaseMode) // no debug lines on stdout
	m := session.New(memstore.New())
	srv := httptest.NewTLSServer(ginsession.NewEngine(m)) // the cookie is Secure: serve HTTPS
	defer srv.Close()
	flowtest.Tour(srv) // see internal/flowtest: counter, login, logout
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
