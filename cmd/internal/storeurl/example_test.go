package storeurl_test

import (
	"context"
	"fmt"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/cmd/internal/storeurl"
)

// Open a store by URL and hand it to a session manager.
func ExampleOpen() {
	t, err := storeurl.Open(context.Background(), "memory:?codec=json", storeurl.Options{Setup: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	m := session.New(t.Store)
	if t.Codec != nil {
		m.Codec = t.Codec
	}
	fmt.Println(t.Scheme, t.CodecName, t.Where)
	// Output:
	// memory json in memory (lost when the process exits)
}
