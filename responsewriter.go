package session

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
)

// responseWriter commits the session before the headers go out.
type responseWriter struct {
	http.ResponseWriter
	st          *requestState
	wroteHeader bool
	failed      bool // the ErrorHandler answered instead
	failErr     error
	hijacked    bool
}

// before commits the session before the headers are sent. It reports
// whether the response may go on.
func (w *responseWriter) before() bool {
	if w.failed {
		return false
	}
	if err := w.st.commit(w.st.r.Context()); err != nil {
		w.failed, w.failErr = true, err
		w.st.sent.Store(true)
		w.st.m.Logger.Error("session: save failed", "err", err, "path", w.st.r.URL.Path)
		w.st.m.ErrorHandler(w.ResponseWriter, w.st.r, err)
		return false
	}
	w.st.sent.Store(true)
	return true
}

// WriteHeader saves the session and sets its cookie, then sends the
// headers. Informational (1xx) headers pass straight through.
func (w *responseWriter) WriteHeader(code int) {
	if w.failed || w.hijacked {
		return
	}
	if w.wroteHeader || (code >= 100 && code < 200 && code != http.StatusSwitchingProtocols) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if !w.before() {
		return
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

// Write sends the headers first if needed.
func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader && !w.failed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, fmt.Errorf("session: response replaced by the error handler: %w", w.failErr)
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController calls to flush.
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader && !w.failed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return w.failErr
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker. The session is saved first; no cookie
// can be set on a hijacked connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.wroteHeader && !w.failed {
		if err := w.st.commit(w.st.r.Context()); err != nil {
			return nil, nil, err
		}
		w.st.sent.Store(true)
	}
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
