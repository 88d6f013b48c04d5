package ginsession

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/session"
)

// FlashLoggedOut is the message the logout handler leaves for the next
// page.
const FlashLoggedOut = "You have been logged out."

// NewEngine returns a gin engine with the example's routes: a home page
// with flash messages, login, a counter and logout, behind [Middleware].
func NewEngine(m *session.Manager) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery(), Middleware(m))
	a := app{m: m}
	r.GET("/health", a.health)
	r.GET("/", a.home)
	r.POST("/login", a.login)
	r.GET("/count", a.count)
	r.POST("/count", a.increment)
	r.POST("/logout", a.logout)
	return r
}

type app struct{ m *session.Manager }

// load returns the request's session, or answers 503 when the store is
// unavailable.
func (a app) load(c *gin.Context) (*session.Session, bool) {
	s, err := a.m.Load(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		c.String(http.StatusServiceUnavailable, "session store unavailable")
		c.Abort()
		return nil, false
	}
	return s, true
}

// health never loads the session: it costs no store call.
func (a app) health(c *gin.Context) { c.String(http.StatusOK, "ok") }

func (a app) home(c *gin.Context) {
	s, ok := a.load(c)
	if !ok {
		return
	}
	user, ok := session.Get[string](s, "user")
	if !ok {
		user = "guest"
	}
	page := "hello " + user
	if msg, ok := s.Pop("flash").(string); ok {
		page += " | " + msg
	}
	c.String(http.StatusOK, page)
}

func (a app) login(c *gin.Context) {
	user := c.PostForm("user")
	if user == "" {
		c.String(http.StatusBadRequest, "user missing")
		return
	}
	s, ok := a.load(c)
	if !ok {
		return
	}
	// A new ID at login: an ID planted before the login never becomes a
	// logged-in session.
	if err := s.Renew(); err != nil {
		_ = c.AbortWithError(http.StatusInternalServerError, err)
		return
	}
	s.SetOwner(user)
	s.Set("user", user)
	c.String(http.StatusOK, "welcome %s", user)
}

func (a app) count(c *gin.Context) {
	s, ok := a.load(c)
	if !ok {
		return
	}
	n, _ := session.Get[int](s, "count")
	c.String(http.StatusOK, fmt.Sprintf("count %d", n))
}

func (a app) increment(c *gin.Context) {
	s, ok := a.load(c)
	if !ok {
		return
	}
	// Update runs again on the stored value if a concurrent request saved
	// first: no increment is lost.
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
	n, _ := session.Get[int](s, "count")
	c.String(http.StatusOK, fmt.Sprintf("count %d", n))
}

func (a app) logout(c *gin.Context) {
	s, ok := a.load(c)
	if !ok {
		return
	}
	s.Destroy()
	// A change after Destroy starts a fresh session (new ID) for the
	// message; the destroyed ID stays dead.
	s.Set("flash", FlashLoggedOut)
	c.String(http.StatusOK, "bye")
}
