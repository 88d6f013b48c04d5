// Package ginsession connects sessions to gin. Gin's handlers are not
// net/http handlers, so [Middleware] uses the manager's lower-level calls:
// Attach the session from the request, replace c.Request with one that
// carries it, and wrap c.Writer so that the session is saved and its cookie
// set just before the headers go out.
//
// Wrapping is sound in gin: every write of a handler, of gin's renderers
// (c.JSON, c.String, c.Redirect, c.File, c.Stream) and of the middleware
// around it goes through c.Writer, and the one write gin makes on its own
// writer directly, the headers of a handler that wrote nothing, happens
// after the middleware chain has returned, when [Middleware] has already
// saved the session. Handlers need no explicit commit call.
package ginsession

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sessionkit/session"
)

// Middleware returns gin middleware that gives handlers the session of
// manager m: they call m.Load(c.Request.Context()).
//
// The session is saved, and its cookie (or token header) set, just before
// the response headers go out: on the first Write, WriteString,
// WriteHeaderNow, Flush or Hijack, or when the handlers return without
// writing. (gin's WriteHeader only records the status; the headers go out
// later.) A save that fails then is answered by m.ErrorHandler instead of
// the handlers' response, the error is added to c.Errors and the chain is
// aborted; later writes return the error. Changes made after the headers
// went out are saved when the handlers return; a failure then is logged
// (m.Logger) and added to c.Errors. As with [session.Manager.Handler],
// Renew, RememberMe and the first change of a new session must happen
// before the response starts: their cookie can no longer be sent after it.
func Middleware(m *session.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, err := m.Attach(c.Request.Context(), m.TokenFrom(c.Request))
		if err != nil {
			_ = c.AbortWithError(http.StatusInternalServerError, fmt.Errorf("ginsession: %w", err))
			return
		}
		c.Request = c.Request.WithContext(ctx)
		w := &writer{ResponseWriter: c.Writer, m: m, ctx: ctx, c: c}
		c.Writer = w

		c.Next()

		switch {
		case w.failed:
		case !w.ResponseWriter.Written():
			w.before() // gin writes the headers after the chain returns
		default:
			tok, err := m.Commit(ctx)
			switch {
			case err != nil:
				m.Logger.Error("ginsession: saving changes made after the response started failed", "err", err, "path", c.Request.URL.Path)
				_ = c.Error(err)
			case tok.Changed:
				m.Logger.Error("ginsession: the session needed a new token after the response started; the client did not get it", "path", c.Request.URL.Path)
			}
		}
	}
}

// writer saves the session before the headers go out.
type writer struct {
	gin.ResponseWriter
	m      *session.Manager
	ctx    context.Context
	c      *gin.Context
	failed bool
	err    error
}

// before saves the session and sets its token on the headers, unless they
// went out already. It reports whether the response may go on. On failure
// the manager's ErrorHandler answers instead.
func (w *writer) before() bool {
	if w.failed {
		return false
	}
	if w.ResponseWriter.Written() {
		return true
	}
	err := w.m.CommitResponse(w.ctx, w.ResponseWriter)
	if err == nil {
		return true
	}
	w.failed, w.err = true, fmt.Errorf("ginsession: %w", err)
	w.m.Logger.Error("ginsession: save failed", "err", err, "path", w.c.Request.URL.Path)
	w.m.ErrorHandler(w.ResponseWriter, w.c.Request, err)
	w.ResponseWriter.WriteHeaderNow()
	_ = w.c.Error(w.err)
	w.c.Abort()
	return false
}

// replaced is the error of a write after the ErrorHandler answered.
func (w *writer) replaced() error {
	return fmt.Errorf("response replaced by the error handler: %w", w.err)
}

// WriteHeader records the status, as gin's writer does. Once the
// ErrorHandler has answered, the handler's status is ignored.
func (w *writer) WriteHeader(code int) {
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

// WriteHeaderNow saves the session, then sends the headers.
func (w *writer) WriteHeaderNow() {
	if w.before() {
		w.ResponseWriter.WriteHeaderNow()
	}
}

// Write saves the session before the first write, then writes.
func (w *writer) Write(b []byte) (int, error) {
	if !w.before() {
		return 0, w.replaced()
	}
	return w.ResponseWriter.Write(b)
}

// WriteString saves the session before the first write, then writes.
func (w *writer) WriteString(s string) (int, error) {
	if !w.before() {
		return 0, w.replaced()
	}
	return w.ResponseWriter.WriteString(s)
}

// Flush saves the session, then flushes.
func (w *writer) Flush() {
	if w.before() {
		w.ResponseWriter.Flush()
	}
}

// Hijack saves the session, then hands over the connection; no cookie can
// be set on it.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.failed {
		return nil, nil, w.replaced()
	}
	if !w.ResponseWriter.Written() {
		if _, err := w.m.Commit(w.ctx); err != nil {
			return nil, nil, fmt.Errorf("ginsession: %w", err)
		}
	}
	return w.ResponseWriter.Hijack()
}

// Unwrap returns gin's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
