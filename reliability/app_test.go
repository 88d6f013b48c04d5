package reliability_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
)

// app is one "application server": a session manager over a store behind an
// httptest server. Each request runs under a server-side deadline, so that a
// store that does not answer makes the request fail, not hang.
type app struct {
	m   *session.Manager
	srv *httptest.Server

	loadErrors atomic.Int64 // Manager.Load failed: the handler answered 503
	saveErrors atomic.Int64 // the manager's ErrorHandler answered 500
	logged     atomic.Int64 // error records the manager logged
	panics     atomic.Int64 // handler panics (re-raised to net/http)

	mu         sync.Mutex
	errorKinds map[string]int // error messages (load and save) and their counts
	panicStack []string
	serverLogs []string // net/http's own error log (panics, bad conns)
}

// sessionState is what GET /read answers.
type sessionState struct {
	Key  string   `json:"key"`
	I    int64    `json:"i"`
	Name string   `json:"name"`
	Val  int64    `json:"val"`
	N    int64    `json:"n"`
	Keys []string `json:"keys,omitempty"`
}

// newApp starts an application server for store, with the manager adjusted
// by configure (if not nil) and each request bounded by deadline. It is closed at the end
// of the test (closing it earlier is fine).
func newApp(t *testing.T, store session.Store, configure func(*session.Manager), deadline time.Duration) *app {
	t.Helper()
	a := &app{m: session.New(store)}
	if configure != nil {
		configure(a.m)
	}
	a.m.Cookie.Insecure = true // plain-HTTP test server
	a.m.Logger = slog.New(&countingHandler{n: &a.logged})
	a.m.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		a.saveErrors.Add(1)
		a.noteError(err)
		http.Error(w, "session could not be saved", http.StatusInternalServerError)
	}

	mux := http.NewServeMux()
	// POST /create?i=&name= creates a session holding i, name, val=0, n=0.
	mux.HandleFunc("POST /create", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.load(w, r)
		if !ok {
			return
		}
		i, _ := strconv.ParseInt(r.FormValue("i"), 10, 64)
		s.Set("i", i)
		s.Set("name", r.FormValue("name"))
		s.Set("val", int64(0))
		s.Set("n", int64(0))
		a.reply(w, http.StatusCreated, sessionState{Key: s.Key()})
	})
	// GET /read answers the session's values (with keys=1, also the names
	// of the keys set by /inc).
	mux.HandleFunc("GET /read", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.existing(w, r)
		if !ok {
			return
		}
		st := sessionState{Key: s.Key()}
		st.Name, _ = session.Get[string](s, "name")
		st.I, _ = session.Get[int64](s, "i")
		st.Val, _ = session.Get[int64](s, "val")
		st.N, _ = session.Get[int64](s, "n")
		if r.FormValue("keys") == "1" {
			for _, k := range s.Keys() {
				if strings.HasPrefix(k, "k:") {
					st.Keys = append(st.Keys, k)
				}
			}
		}
		a.reply(w, http.StatusOK, st)
	})
	// POST /write?v= sets val.
	mux.HandleFunc("POST /write", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.existing(w, r)
		if !ok {
			return
		}
		v, _ := strconv.ParseInt(r.FormValue("v"), 10, 64)
		s.Set("val", v)
		a.reply(w, http.StatusOK, sessionState{Key: s.Key(), Val: v})
	})
	// POST /inc?k= increments n with Update and sets the key "k:"+k: one
	// read-modify-write and one distinct key per request.
	mux.HandleFunc("POST /inc", func(w http.ResponseWriter, r *http.Request) {
		s, ok := a.existing(w, r)
		if !ok {
			return
		}
		s.Update("n", func(old any) any {
			n, _ := old.(int64)
			return n + 1
		})
		s.Set("k:"+r.FormValue("k"), true)
		w.WriteHeader(http.StatusNoContent)
	})

	h := a.m.Handler(mux)
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p != http.ErrAbortHandler {
					a.panics.Add(1)
					a.mu.Lock()
					a.panicStack = append(a.panicStack, fmt.Sprintf("%v\n%s", p, debug.Stack()))
					a.mu.Unlock()
				}
				panic(p)
			}
		}()
		ctx, cancel := context.WithTimeout(r.Context(), deadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	a.srv.Config.ErrorLog = log.New(writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		a.serverLogs = append(a.serverLogs, string(p))
		a.mu.Unlock()
		return len(p), nil
	}), "", 0)
	a.srv.Start()
	t.Cleanup(a.srv.Close)
	return a
}

// load runs Manager.Load and answers 503 when the store cannot be read.
func (a *app) load(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, err := a.m.Load(r.Context())
	if err != nil {
		a.loadErrors.Add(1)
		a.noteError(err)
		http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		return nil, false
	}
	return s, true
}

// existing is load for a session that must exist: a session the store no
// longer knows is answered 410 Gone, and nothing is saved.
func (a *app) existing(w http.ResponseWriter, r *http.Request) (*session.Session, bool) {
	s, ok := a.load(w, r)
	if !ok {
		return nil, false
	}
	if s.IsNew() {
		http.Error(w, "session lost", http.StatusGone)
		return nil, false
	}
	return s, true
}

func (a *app) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code) // saves the session; the ErrorHandler answers on failure
	_ = json.NewEncoder(w).Encode(v)
}

// noteError counts err by its message.
func (a *app) noteError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.errorKinds == nil {
		a.errorKinds = map[string]int{}
	}
	if len(a.errorKinds) < 50 {
		a.errorKinds[err.Error()]++
	}
}

// errorSummary returns the most frequent error messages.
func (a *app) errorSummary(n int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	type kind struct {
		msg   string
		count int
	}
	var kinds []kind
	for m, c := range a.errorKinds {
		kinds = append(kinds, kind{m, c})
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].count > kinds[j].count })
	var b strings.Builder
	for i, k := range kinds {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "\n  %dx %s", k.count, k.msg)
	}
	return b.String()
}

// checkHealthy reports panics and net/http error-log lines (a panic in a
// handler shows up there too).
func (a *app) checkHealthy(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.panics.Load(); n > 0 {
		t.Errorf("%d handler panics; first:\n%s", n, a.panicStack[0])
	}
	for _, l := range a.serverLogs {
		t.Errorf("net/http server logged: %s", strings.TrimSpace(l))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// countingHandler is a slog.Handler that counts error records and discards
// everything (an outage logs one error per failed request).
type countingHandler struct{ n *atomic.Int64 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// client is an HTTP client of the application servers with its own
// transport, so that its connections can be closed for the leak check.
type client struct {
	tr *http.Transport
	hc *http.Client
}

// clientTimeout is above every server-side deadline: a request that
// reaches it hung.
const clientTimeout = 15 * time.Second

func newClient(t *testing.T) *client {
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{tr: tr, hc: &http.Client{Transport: tr, Timeout: clientTimeout}}
}

// response is the outcome of one request.
type response struct {
	status    int
	body      []byte
	cookie    string // the session cookie set by the response, if any
	err       error  // transport error (including the client timeout)
	start     time.Time
	end       time.Time
	cookieSet bool
}

// do sends one request with the session cookie (if any) and reads the whole
// answer.
func (c *client) do(method, base, path string, params url.Values, cookie string) response {
	u := base + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	res := response{start: time.Now()}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		res.err = err
		return res
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		res.err, res.end = err, time.Now()
		return res
	}
	res.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	res.status, res.err, res.end = resp.StatusCode, err, time.Now()
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" {
			res.cookie, res.cookieSet = ck.Value, true
		}
	}
	return res
}

// state decodes a /read or /create answer.
func (r response) state() (sessionState, error) {
	var st sessionState
	if err := json.Unmarshal(r.body, &st); err != nil {
		return st, fmt.Errorf("decode %q: %w", r.body, err)
	}
	return st, nil
}

// create makes a session through a and returns its cookie and store key.
func create(c *client, a *app, i int, name string) (cookie, key string, err error) {
	res := c.do("POST", a.srv.URL, "/create", url.Values{"i": {strconv.Itoa(i)}, "name": {name}}, "")
	if res.err != nil {
		return "", "", res.err
	}
	if res.status != http.StatusCreated || !res.cookieSet {
		return "", "", fmt.Errorf("create: status %d, cookie set %v: %s", res.status, res.cookieSet, res.body)
	}
	st, err := res.state()
	if err != nil {
		return "", "", err
	}
	return res.cookie, st.Key, nil
}

// lastWriterWins makes a compare-and-set store save like a store without
// compare-and-set: it declares session.Unconditional, so the manager neither
// reloads nor retries, and it saves over whatever version is stored.
type lastWriterWins struct{ session.Store }

func (lastWriterWins) Unconditional() bool { return true }

func (l lastWriterWins) Save(ctx context.Context, key string, rec session.Record) (uint64, error) {
	for range 100 {
		cur, err := l.Store.Load(ctx, key)
		switch {
		case errors.Is(err, session.ErrNotFound):
			rec.Version = 0
		case err != nil:
			return 0, err
		default:
			rec.Version = cur.Version
		}
		v, err := l.Store.Save(ctx, key, rec)
		if !errors.Is(err, session.ErrConflict) {
			return v, err
		}
	}
	return 0, fmt.Errorf("lastWriterWins: 100 conflicts in a row: %w", session.ErrConflict)
}

// sortedKeys returns m's keys in order (for stable messages).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
