package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
)

// do sends a request to h with the given session cookie and returns the
// response body and the cookie value the response set (or the one sent).
func do(h http.Handler, path, cookie string) (string, string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "session", Value: cookie})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "session" {
			cookie = c.Value
			if c.MaxAge < 0 {
				cookie = ""
			}
		}
	}
	return rec.Body.String(), cookie
}

// Login renews the session ID (the old one dies after a short grace period)
// and tags the session with its user, keeping what the visitor did before.
func ExampleSession_Renew() {
	m := session.New(memstore.New())
	mux := http.NewServeMux()
	mux.HandleFunc("/cart", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		s.Set("cart", "1 book")
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context())
		if err != nil {
			http.Error(w, "session unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := s.Renew(); err != nil { // a new ID: no session fixation
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.SetOwner("alice")
		s.Set("user", "alice")
		fmt.Fprintf(w, "welcome %s, your cart: %v", s.Get("user"), s.Get("cart"))
	})
	h := m.Handler(mux)

	_, anon := do(h, "/cart", "")
	body, logged := do(h, "/login", anon)
	fmt.Println(body)
	fmt.Println("ID changed:", logged != anon)
	// Output:
	// welcome alice, your cart: 1 book
	// ID changed: true
}

// Logout destroys the session: its ID is dead at once and the cookie is
// expired.
func ExampleSession_Destroy() {
	m := session.New(memstore.New())
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.Set("user", "bob")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.Destroy()
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		user, ok := session.Get[string](s, "user")
		if !ok {
			user = "nobody"
		}
		fmt.Fprint(w, user)
	})
	h := m.Handler(mux)

	_, id := do(h, "/login", "")
	me, _ := do(h, "/whoami", id)
	fmt.Println("before logout:", me)
	_, cookie := do(h, "/logout", id)
	fmt.Printf("cookie after logout: %q\n", cookie)
	me, _ = do(h, "/whoami", id) // the old ID, replayed
	fmt.Println("old ID after logout:", me)
	// Output:
	// before logout: bob
	// cookie after logout: ""
	// old ID after logout: nobody
}

// Flash messages are set by one request and shown once by the next.
func ExampleSession_Pop() {
	m := session.New(memstore.New())
	mux := http.NewServeMux()
	mux.HandleFunc("/save", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.Set("flash", "Profile saved.")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		if msg := s.Pop("flash"); msg != nil {
			fmt.Fprint(w, msg)
			return
		}
		fmt.Fprint(w, "(no message)")
	})
	h := m.Handler(mux)

	_, id := do(h, "/save", "")
	first, _ := do(h, "/", id)
	second, _ := do(h, "/", id)
	fmt.Println(first)
	fmt.Println(second)
	// Output:
	// Profile saved.
	// (no message)
}

// "Log out my other devices": list the user's sessions through the store's
// owner index and destroy all but the current one.
func ExampleManager_DestroyOwnerSessions() {
	m := session.New(memstore.New())
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		s.SetOwner("carol")
	})
	mux.HandleFunc("/devices/logout-others", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		n, err := m.DestroyOwnerSessions(r.Context(), s.Owner(), s.Key())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "logged out %d other devices", n)
	})
	mux.HandleFunc("/devices", func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.Load(r.Context())
		devices, _ := m.OwnerSessions(r.Context(), s.Owner())
		fmt.Fprintf(w, "%d devices", len(devices))
	})
	h := m.Handler(mux)

	_, laptop := do(h, "/login", "")
	_, phone := do(h, "/login", "")
	_, _ = do(h, "/login", "")
	list, _ := do(h, "/devices", laptop)
	fmt.Println(list)
	result, _ := do(h, "/devices/logout-others", laptop)
	fmt.Println(result)
	list, _ = do(h, "/devices", laptop)
	fmt.Println(list)
	list, _ = do(h, "/devices", phone)
	fmt.Println("phone sees:", list)
	// Output:
	// 3 devices
	// logged out 2 other devices
	// 1 devices
	// phone sees: 0 devices
}
