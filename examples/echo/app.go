package echosession

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/session"
)

// FlashLoggedOut is the message the logout handler leaves for the next
// page.
const FlashLoggedOut = "You have been logged out."

// NewServer returns an echo server with the example's routes: a home page
// with flash messages, login, a counter and logout, behind [Middleware].
func NewServer(m *session.Manager) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Use(Middleware(m))
	a := app{m: m}
	e.GET("/health", a.health)
	e.GET("/", a.home)
	e.POST("/login", a.login)
	e.GET("/count", a.count)
	e.POST("/count", a.increment)
	e.POST("/logout", a.logout)
	return e
}

type app struct{ m *session.Manager }

// load returns the request's session, or an error echo answers with 503
// when the store is unavailable.
func (a app) load(c echo.Context) (*session.Session, error) {
	s, err := a.m.Load(c.Request().Context())
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable, "session store unavailable").SetInternal(err)
	}
	return s, nil
}

// health never loads the session: it costs no store call.
func (a app) health(c echo.Context) error { return c.String(http.StatusOK, "ok") }

func (a app) home(c echo.Context) error {
	s, err := a.load(c)
	if err != nil {
		return err
	}
	user, ok := session.Get[string](s, "user")
	if !ok {
		user = "guest"
	}
	page := "hello " + user
	if msg, ok := s.Pop("flash").(string); ok {
		page += " | " + msg
	}
	return c.String(http.StatusOK, page)
}

func (a app) login(c echo.Context) error {
	user := c.FormValue("user")
	if user == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "user missing")
	}
	s, err := a.load(c)
	if err != nil {
		return err
	}
	// A new ID at login: an ID planted before the login never becomes a
	// logged-in session.
	if err := s.Renew(); err != nil {
		return err
	}
	s.SetOwner(user)
	s.Set("user", user)
	return c.String(http.StatusOK, "welcome "+user)
}

func (a app) count(c echo.Context) error {
	s, err := a.load(c)
	if err != nil {
		return err
	}
	n, _ := session.Get[int](s, "count")
	return c.String(http.StatusOK, fmt.Sprintf("count %d", n))
}

func (a app) increment(c echo.Context) error {
	s, err := a.load(c)
	if err != nil {
		return err
	}
	// Update runs again on the stored value if a concurrent request saved
	// first: no increment is lost.
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
	n, _ := session.Get[int](s, "count")
	return c.String(http.StatusOK, fmt.Sprintf("count %d", n))
}

func (a app) logout(c echo.Context) error {
	s, err := a.load(c)
	if err != nil {
		return err
	}
	s.Destroy()
	// A change after Destroy starts a fresh session (new ID) for the
	// message; the destroyed ID stays dead.
	s.Set("flash", FlashLoggedOut)
	return c.String(http.StatusOK, "bye")
}
