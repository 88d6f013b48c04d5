package ginsession_test

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/session"
	ginsession "github.com/sessionkit/session/examples/gin"
	"github.com/sessionkit/session/examples/internal/flowtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

func increment(s *session.Session) {
	s.Update("count", func(old any) any { n, _ := old.(int); return n + 1 })
}

// newApp is the example engine plus the routes the tests need beyond it.
func newApp(m *session.Manager) http.Handler {
	r := ginsession.NewEngine(m)
	load := func(c *gin.Context) *session.Session {
		s, err := m.Load(c.Request.Context())
		if err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return nil
		}
		return s
	}
	r.POST("/late", func(c *gin.Context) {
		s := load(c)
		if s == nil {
			return
		}
		c.String(http.StatusOK, "started")
		c.Writer.Flush() // the response has started
		increment(s)
	})
	r.POST("/big", func(c *gin.Context) {
		s := load(c)
		if s == nil {
			return
		}
		s.Set("big", strings.Repeat("x", 2*flowtest.MaxSize))
		c.String(http.StatusOK, "stored")
	})
	// A handler that changes the session and aborts with a status only:
	// gin sends the headers after the chain returns.
	r.POST("/deny", func(c *gin.Context) {
		s := load(c)
		if s == nil {
			return
		}
		increment(s)
		c.Status(http.StatusForbidden)
	})
	// A redirect after a POST writes no body: headers only.
	r.POST("/redirect", func(c *gin.Context) {
		s := load(c)
		if s == nil {
			return
		}
		increment(s)
		c.Redirect(http.StatusSeeOther, "/count")
	})
	return r
}

func TestFlows(t *testing.T) { flowtest.Run(t, newApp) }

func TestStatusOnlyResponseSaves(t *testing.T) {
	e := flowtest.Start(t, newApp)
	res := e.Do(http.MethodPost, "/deny", "", nil)
	if res.Status != http.StatusForbidden || res.Cookie == "" {
		t.Fatalf("POST /deny: %d cookie %q; want 403 with the new session's cookie", res.Status, res.Cookie)
	}
	flowtest.Expect(t, "GET /count after POST /deny", e.Do(http.MethodGet, "/count", res.Cookie, nil), http.StatusOK, "count 1")
}

func TestRedirectSaves(t *testing.T) {
	e := flowtest.Start(t, newApp)
	e.Server.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res := e.Do(http.MethodPost, "/redirect", "", nil)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/count" || res.Cookie == "" {
		t.Fatalf("POST /redirect: %d Location %q cookie %q; want 303 to /count with the cookie", res.Status, res.Header.Get("Location"), res.Cookie)
	}
	flowtest.Expect(t, "GET /count after the redirect", e.Do(http.MethodGet, "/count", res.Cookie, nil), http.StatusOK, "count 1")
}

func TestFailedSaveReportedToHandler(t *testing.T) {
	type seen struct {
		writeErr error
		errs     []*gin.Error
	}
	got := make(chan seen, 1)
	e := flowtest.Start(t, func(m *session.Manager) http.Handler {
		r := ginsession.NewEngine(m)
		r.POST("/big-errors", func(c *gin.Context) {
			s, err := m.Load(c.Request.Context())
			if err != nil {
				c.AbortWithStatus(http.StatusServiceUnavailable)
				return
			}
			s.Set("big", strings.Repeat("x", 2*flowtest.MaxSize))
			_, err = c.Writer.WriteString("stored")
			got <- seen{writeErr: err, errs: c.Errors}
		})
		return r
	})
	res := e.Do(http.MethodPost, "/big-errors", "", nil)
	flowtest.Expect(t, "POST /big-errors", res, http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError)+"\n")
	if res.SetCookies != 0 {
		t.Error("the failed save sent a session cookie")
	}
	h := <-got
	if !errors.Is(h.writeErr, session.ErrTooLarge) {
		t.Errorf("the handler's write returned %v, want an error wrapping ErrTooLarge", h.writeErr)
	}
	if len(h.errs) != 1 || !errors.Is(h.errs[0], session.ErrTooLarge) {
		t.Errorf("c.Errors = %v, want the failed save", h.errs)
	}
}
