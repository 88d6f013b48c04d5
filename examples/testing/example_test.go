package testingexample_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/session"
	testingexample "github.com/sessionkit/session/examples/testing"
	"github.com/sessionkit/session/memstore"
)

// Code that works on a session can run without HTTP: Attach, then Commit.
func Example() {
	m := session.New(memstore.New())
	cart := testingexample.Cart{M: m}

	ctx, _ := m.Attach(context.Background(), "") // a new session
	_, _ = cart.Add(ctx, "book")
	tok, _ := m.Commit(ctx)
	fmt.Println("send the token:", tok.Changed)

	ctx, _ = m.Attach(context.Background(), tok.Value) // the same client later
	items, _ := cart.Add(ctx, "pen")
	fmt.Println(items)
	// Output:
	// send the token: true
	// [book pen]
}
