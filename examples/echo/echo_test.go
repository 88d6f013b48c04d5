package echosession_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/session"
	echosession "github.com/sessionkit/session/examples/echo"
	"github.com/sessionkit/session/examples/internal/flowtest"
)

func increment(s *session.Session) {
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
}

// newApp is the example server plus the routes the tests need beyond it.
func newApp(m *session.Manager) http.Handler {
	e := echosession.NewServer(m)
	e.POST("/late", func(c echo.Context) error {
		s, err := m.Load(c.Request().Context())
		if err != nil {
			return err
		}
		if err := c.String(http.StatusOK, "started"); err != nil {
			return err
		}
		c.Response().Flush() // the response has started
		increment(s)
		return nil
	})
	e.POST("/big", func(c echo.Context) error {
		s, err := m.Load(c.Request().Context())
		if err != nil {
			return err
		}
		s.Set("big", strings.Repeat("x", 2*flowtest.MaxSize))
		return c.String(http.StatusOK, "stored")
	})
	// A handler that changes the session and returns an error: echo's
	// HTTPErrorHandler writes the response after the middleware returned.
	e.POST("/deny", func(c echo.Context) error {
		s, err := m.Load(c.Request().Context())
		if err != nil {
			return err
		}
		increment(s)
		return echo.NewHTTPError(http.StatusForbidden, "denied")
	})
	// A handler that changes the session and writes nothing.
	e.POST("/silent", func(c echo.Context) error {
		s, err := m.Load(c.Request().Context())
		if err != nil {
			return err
		}
		increment(s)
		return nil
	})
	return e
}

func TestFlows(t *testing.T) { flowtest.Run(t, newApp) }

func TestHandlerErrorStillSaves(t *testing.T) {
	e := flowtest.Start(t, newApp)
	res := e.Do(http.MethodPost, "/deny", "", nil)
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "denied") || res.Cookie == "" {
		t.Fatalf("POST /deny: %d %q cookie %q; want echo's 403 with the new session's cookie", res.Status, res.Body, res.Cookie)
	}
	flowtest.Expect(t, "GET /count after POST /deny", e.Do(http.MethodGet, "/count", res.Cookie, nil), http.StatusOK, "count 1")
	if calls := e.Calls.Take(); calls[session.OpSave] != 1 {
		t.Errorf("store calls %v: want exactly one save (the Before hook run by echo's error handler must not save again)", calls)
	}
}

func TestHandlerWritingNothingStillSaves(t *testing.T) {
	e := flowtest.Start(t, newApp)
	res := e.Do(http.MethodPost, "/silent", "", nil)
	if res.Status != http.StatusOK || res.Body != "" || res.Cookie == "" {
		t.Fatalf("POST /silent: %d %q cookie %q; want an empty 200 with the new session's cookie", res.Status, res.Body, res.Cookie)
	}
	flowtest.Expect(t, "GET /count after POST /silent", e.Do(http.MethodGet, "/count", res.Cookie, nil), http.StatusOK, "count 1")
}

func TestFailedSaveDiscardsHandlerResponse(t *testing.T) {
	e := flowtest.Start(t, newApp)
	id := e.NewSession(t, 1)
	res := e.Do(http.MethodPost, "/big", id, nil)
	if res.Status != http.StatusInternalServerError || res.Body != http.StatusText(http.StatusInternalServerError)+"\n" {
		t.Fatalf("POST /big: %d %q, want the ErrorHandler's response", res.Status, res.Body)
	}
	if res.SetCookies != 0 {
		t.Errorf("POST /big: the failed save sent a session cookie")
	}
	flowtest.Expect(t, "GET /count after the failed save", e.Do(http.MethodGet, "/count", id, nil), http.StatusOK, "count 1")
}

func TestCustomErrorHandler(t *testing.T) {
	e := flowtest.Start(t, func(m *session.Manager) http.Handler {
		m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("try later (%v)", err != nil), http.StatusServiceUnavailable)
		}
		return newApp(m)
	})
	res := e.Do(http.MethodPost, "/big", "", nil)
	flowtest.Expect(t, "POST /big", res, http.StatusServiceUnavailable, "try later (true)\n")
}
