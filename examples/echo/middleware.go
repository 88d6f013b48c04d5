// Package echosession connects sessions to echo v4. Echo's middleware does
// not take net/http middleware without losing the response writer, so
// [Middleware] uses the manager's lower-level calls: Attach the session
// from the request, put the context on c.Request(), commit in
// c.Response().Before (just before echo writes the headers, so the cookie
// goes out with them), and commit again after the handler for changes made
// once the response had started.
package echosession

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sessionkit/session"
)

// Middleware returns echo middleware that gives handlers the session of
// manager m: they call m.Load(c.Request().Context()).
//
// The session is saved, and its cookie (or token header) set, just before
// echo writes the response headers. A save that fails then is answered by
// m.ErrorHandler instead of the handler's response, whose header and body
// are discarded; the handler's writes return the error. Changes made after
// the headers went out are saved when the handler returns; a failure then
// can only be logged (m.Logger). As with [session.Manager.Handler], Renew,
// RememberMe and the first change of a new session must happen before the
// response starts: their cookie can no longer be sent after it.
func Middleware(m *session.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx, err := m.Attach(req.Context(), m.TokenFrom(req))
			if err != nil {
				return fmt.Errorf("echosession: %w", err)
			}
			req = req.WithContext(ctx)
			c.SetRequest(req)
			rc := &requestCommit{m: m, ctx: ctx, req: req, res: c.Response()}
			rc.res.Before(rc.beforeHeaders)

			herr := next(c)

			if !rc.res.Committed {
				// Nothing written yet (the handler returned, perhaps with
				// an error that echo's HTTPErrorHandler answers after
				// us): save now, so that the token is on the headers
				// whoever writes them, and whether anyone does.
				rc.beforeHeaders()
				return herr
			}
			rc.afterResponse()
			return herr
		}
	}
}

// requestCommit commits one request's session for echo.
type requestCommit struct {
	m      *session.Manager
	ctx    context.Context
	req    *http.Request
	res    *echo.Response
	failed bool
}

// beforeHeaders saves the session and sets its token on the response
// headers. On failure the manager's ErrorHandler answers at once and the
// handler's own response is discarded. Calling it again is harmless: a
// session saved already costs no store call and sends no token twice.
func (rc *requestCommit) beforeHeaders() {
	if rc.failed {
		return
	}
	err := rc.m.CommitResponse(rc.ctx, rc.res.Writer)
	if err == nil {
		return
	}
	rc.failed = true
	rc.m.Logger.Error("echosession: save failed", "err", err, "path", rc.req.URL.Path)
	w := &statusRecorder{ResponseWriter: rc.res.Writer}
	rc.m.ErrorHandler(w, rc.req, err)
	if w.status != 0 {
		rc.res.Status = w.status // what echo's logger reports
	}
	rc.res.Writer = &discardWriter{header: http.Header{}, err: err}
}

// statusRecorder notes the status the ErrorHandler sends.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// afterResponse saves changes made after the response started.
func (rc *requestCommit) afterResponse() {
	if rc.failed {
		return
	}
	tok, err := rc.m.Commit(rc.ctx)
	switch {
	case err != nil:
		rc.m.Logger.Error("echosession: saving changes made after the response started failed", "err", err, "path", rc.req.URL.Path)
	case tok.Changed:
		rc.m.Logger.Error("echosession: the session needed a new token after the response started; the client did not get it", "path", rc.req.URL.Path)
	}
}

// discardWriter takes the place of the response writer once the
// ErrorHandler has answered: what the handler writes goes nowhere, and its
// writes report why.
type discardWriter struct {
	header http.Header
	err    error
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) WriteHeader(int) {}

func (d *discardWriter) Write([]byte) (int, error) {
	return 0, fmt.Errorf("echosession: response replaced by the error handler: %w", d.err)
}

// Flush does nothing: echo's Response.Flush must find a flusher.
func (d *discardWriter) Flush() {}
