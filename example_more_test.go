package session_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// Handler wraps a mux; handlers reach the session through Load. A request
// that never calls Load costs nothing.
func ExampleManager_Handler() {
	m := session.New(memstore.New())
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		s.Update("n", func(old any) any { n, _ := old.(int); return n + 1 })
		n, _ := session.Get[int](s, "n")
		fmt.Fprint(w, n)
	})
	h := m.Handler(mux)

	_, id := do(h, "/count", "")
	body, _ := do(h, "/count", id)
	fmt.Println("second visit:", body)
	// Output: second visit: 2
}

// Attach and Commit drive a session without the middleware: for frameworks
// with their own middleware shape, jobs and tests.
func ExampleManager_Attach() {
	m := session.New(memstore.New())
	ctx := context.Background()

	// First request: no token yet.
	ctx1, _ := m.Attach(ctx, "")
	s, _ := m.Load(ctx1)
	s.Set("user", "alice")
	tok, err := m.Commit(ctx1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("send the token:", tok.Changed)

	// Next request carries the token.
	ctx2, _ := m.Attach(ctx, tok.Value)
	s, _ = m.Load(ctx2)
	fmt.Println("user:", s.Get("user"))
	tok2, _ := m.Commit(ctx2)
	fmt.Println("send it again:", tok2.Changed)
	// Output:
	// send the token: true
	// user: alice
	// send it again: false
}

// A JSON API carries the session in a header instead of a cookie.
func ExampleManager_tokenHeader() {
	m := session.New(memstore.New())
	m.TokenHeader = "Authorization" // requests: "Authorization: Bearer <id>"
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		if r.URL.Path == "/login" {
			s.Set("user", "alice")
			return
		}
		fmt.Fprint(w, s.Get("user"))
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login", nil))
	token := rec.Header().Get("Session-Token") // new sessions come back here
	fmt.Println("cookies:", len(rec.Result().Cookies()))

	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("me:", rec.Body.String())
	// Output:
	// cookies: 0
	// me: alice
}

// Cleanup collects expired sessions in the background for stores that
// need it (SQL, Mongo, files); run it once per app server.
func ExampleManager_Cleanup() {
	m := session.New(memstore.New())
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Cleanup(ctx, 5*time.Minute) }()
	// ... serve requests ...
	stop()
	fmt.Println("cleanup stopped:", <-done)
	// Output: cleanup stopped: <nil>
}

// audit logs every end of a session with its reason.
type audit struct{ w io.Writer }

func (audit) StoreCall(context.Context, session.StoreOp, time.Duration, error) {}

func (a audit) Event(_ context.Context, e session.Event) {
	if reason, ok := e.Ended(); ok {
		fmt.Fprintln(a.w, "session ended:", reason)
	}
}

// An audit log of every way a session ends, built on the Observer.
func ExampleEvent_Ended() {
	m := session.New(memstore.New())
	m.Observer = audit{w: os.Stdout}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		switch r.URL.Path {
		case "/login":
			s.Set("user", "alice")
		case "/logout":
			s.Destroy()
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	req := httptest.NewRequest(http.MethodGet, "/logout", nil)
	req.AddCookie(rec.Result().Cookies()[0])
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output: session ended: logout
}

// At most two sessions per user: a third login ends the least recently
// used one.
func ExampleManager_maxSessionsPerOwner() {
	m := session.New(memstore.New())
	m.MaxSessionsPerOwner = 2
	var ids []string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		if r.URL.Path == "/login" {
			s.SetOwner("alice")
			_ = s.Renew()
		}
	}))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
		ids = append(ids, rec.Result().Cookies()[0].Value)
	}
	infos, _ := m.OwnerSessions(context.Background(), "alice")
	fmt.Println(len(infos), "sessions; the first one ended:", infos[0].Key != m.KeyOf(ids[0]) && infos[1].Key != m.KeyOf(ids[0]))
	// Output: 2 sessions; the first one ended: true
}

// visit runs one request through h with the cookies of prev (nil for
// none) and returns the response recorder.
func visit(h http.Handler, prev *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if prev != nil {
		for _, c := range prev.Result().Cookies() {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Update changes a value from what is stored: an increment is never lost,
// even when another request saved the session meanwhile (the function runs
// again on that request's value).
func ExampleSession_Update() {
	m := session.New(memstore.New())
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.Update("visits", func(old any) any { n, _ := old.(int); return n + 1 })
		n, _ := session.Get[int](s, "visits")
		fmt.Println("visit", n)
	}))
	first := visit(h, nil)
	visit(h, first)
	// Output:
	// visit 1
	// visit 2
}

// Get returns a value as the type asked for, converting what a codec gave
// back where nothing is lost: JSONCodec decodes numbers as json.Number.
func ExampleGet() {
	m := session.New(memstore.New())
	m.Codec = session.JSONCodec{}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		if s.IsNew() {
			s.Set("cart", []string{"book", "pen"})
			s.Set("items", 2)
			return
		}
		items, ok := session.Get[int](s, "items")
		cart, _ := session.Get[[]string](s, "cart")
		_, isString := session.Get[string](s, "items")
		fmt.Println(items, ok, cart, isString)
	}))
	visit(h, visit(h, nil))
	// Output: 2 true [book pen] false
}

// NewEncryptedCodec keeps sessions encrypted at rest (AES-256-GCM): a dump
// of the store holds no readable value, and a record copied under another
// session's key does not decrypt.
func ExampleNewEncryptedCodec() {
	key := make([]byte, 32) // from your secret store; list older keys after it to rotate
	codec, err := session.NewEncryptedCodec(session.BinaryCodec{}, key)
	if err != nil {
		log.Fatal(err)
	}
	store := memstore.New()
	m := session.New(store)
	m.Codec = codec
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.Set("card", "4111 1111 1111 1111")
	}))
	visit(h, nil)
	_ = store.Iterate(context.Background(), func(key string, rec session.Record) bool {
		fmt.Println("readable in the store:", strings.Contains(string(rec.Data), "4111"))
		return true
	})
	// Output: readable in the store: false
}
