package mongostore_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
	"github.com/sessionkit/session/phalcon"
)

// TestManagerKeepsPHPWrite: a Go request loads a session shared with PHP,
// PHP writes the session (the incubator adapter's $set of modified and
// data) before the Go request saves, and the Go save neither fails nor
// erases PHP's key: the store reports the conflict, the manager reloads and
// applies the Go request's change on top of PHP's data. Once for a session
// PHP created (no creation time, as the incubator adapter writes it) and
// once for one the Go side created.
func TestManagerKeepsPHPWrite(t *testing.T) {
	e := newEnv(t)
	store := e.store(t, mongostore.Options{Compat: true})
	m := session.New(store)
	phalcon.Configure(m)

	const before, afterPHP = `user|s:5:"alice";`, `user|s:5:"alice";cart|s:4:"book";`
	setups := map[string]func(t *testing.T, id string){
		"created by PHP": func(t *testing.T, id string) {
			phpInsert(t, e, id, before)
			phpUpdate(t, e, id, before, time.Now())
		},
		"created by Go": func(t *testing.T, id string) {
			now := time.Now()
			r := session.Record{Data: []byte(before), Expiry: now.Add(phalcon.MaxLifetime), Created: now}
			if _, err := store.Save(ctxFor(t), id, r); err != nil {
				t.Fatal(err)
			}
		},
	}
	var phpWrite atomic.Pointer[func()]
	mux := http.NewServeMux()
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		(*phpWrite.Load())() // PHP's request writes between this load and this save
		s.Set("theme", "dark")
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		user, _ := session.Get[string](s, "user")
		cart, _ := session.Get[string](s, "cart")
		theme, _ := session.Get[string](s, "theme")
		_, _ = io.WriteString(w, user+","+cart+","+theme)
	})
	srv := httptest.NewServer(m.Handler(mux))
	t.Cleanup(srv.Close)

	for name, setup := range setups {
		t.Run(name, func(t *testing.T) {
			id := randomHex(16) // PHP's default: 32 characters of [0-9a-f]
			setup(t, id)
			write := func() { phpUpdate(t, e, id, afterPHP, time.Now()) }
			phpWrite.Store(&write)
			get := func(path string) (int, string) {
				t.Helper()
				req, err := http.NewRequestWithContext(ctxFor(t), http.MethodGet, srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.AddCookie(&http.Cookie{Name: phalcon.CookieName, Value: id})
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				return res.StatusCode, string(body)
			}
			if code, body := get("/write"); code != http.StatusOK {
				t.Fatalf("/write: %d %s", code, body)
			}
			got, err := store.Load(ctxFor(t), id)
			if err != nil {
				t.Fatalf("Load after the Go save: %v (stored %s)", err, rawDoc(t, e, id))
			}
			if want := `cart|s:4:"book";theme|s:4:"dark";user|s:5:"alice";`; string(got.Data) != want {
				t.Fatalf("stored data %q, want PHP's cart and Go's theme %q", got.Data, want)
			}
			if code, body := get("/read"); code != http.StatusOK || body != "alice,book,dark" {
				t.Fatalf("/read: %d %q, want alice,book,dark", code, body)
			}
		})
	}
}
