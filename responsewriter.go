package session

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
)

// responseWriter commits the session before the headers go out. It keeps
// every optional interface of the writer it wraps reachable: http.Flusher,
// http.Hijacker, http.Pusher and io.ReaderFrom directly, the rest (read and
// write deadlines, full duplex) through http.ResponseController and Unwrap.
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

// ReadFrom implements io.ReaderFrom, so that io.Copy to the response keeps
// the server's sendfile path.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader && !w.failed {
		w.WriteHeader(http.StatusOK)
	}
	if w.failed {
		return 0, fmt.Errorf("session: response replaced by the error handler: %w", w.failErr)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

// writerOnly hides every method but Write, so that io.Copy does not loop
// back into ReadFrom.
type writerOnly struct{ io.Writer }

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

// Push implements http.Pusher (HTTP/2 server push) when the wrapped writer
// does; otherwise it returns http.ErrNotSupported.
func (w *responseWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Hijack implements http.Hijacker. The session is saved first; no cookie
// can be set on a hijacked connection. When the wrapped writer cannot be
// hijacked, nothing is marked as sent: the handler may still answer
// normally, and Renew still works.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.wroteHeader && !w.failed {
		if err := w.st.commit(w.st.r.Context()); err != nil {
			return nil, nil, err
		}
	}
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
		w.st.sent.Store(true)
	}
	return conn, rw, err
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
