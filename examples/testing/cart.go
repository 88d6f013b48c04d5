// Package testingexample shows how to test your own handlers and the code
// behind them when they use sessions: through a real HTTP server with a
// cookie jar (the test file cart_http_test.go), or without HTTP at all, by
// attaching a session to a context and committing it
// (cart_attach_test.go). The second way also prepares a logged-in session
// for a handler test without driving the login form.
package testingexample

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/sessionkit/session"
)

// Cart is the code under test: it keeps a shopping cart in the session of
// ctx.
type Cart struct{ M *session.Manager }

// Add puts item into the cart of the session in ctx and returns the cart.
func (c Cart) Add(ctx context.Context, item string) ([]string, error) {
	if item == "" {
		return nil, fmt.Errorf("cart: empty item")
	}
	s, err := c.M.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("cart: %w", err)
	}
	s.Update("cart", func(old any) any {
		items, _ := old.([]string)
		return append(append([]string(nil), items...), item)
	})
	items, _ := session.Get[[]string](s, "cart")
	return items, nil
}

// Items returns the cart of the session in ctx.
func (c Cart) Items(ctx context.Context) ([]string, error) {
	s, err := c.M.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("cart: %w", err)
	}
	items, _ := session.Get[[]string](s, "cart")
	return items, nil
}

// Handler serves the cart: POST /cart?item=... adds an item, GET /cart
// lists them, with the user's name when the session has one.
func (c Cart) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		items, err := c.Add(r.Context(), r.URL.Query().Get("item"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, strings.Join(items, ", "))
	})
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		s, err := c.M.Load(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		user, ok := session.Get[string](s, "user")
		if !ok {
			user = "guest"
		}
		items, _ := session.Get[[]string](s, "cart")
		fmt.Fprintf(w, "%s: %s", user, strings.Join(items, ", "))
	})
	return c.M.Handler(mux)
}
