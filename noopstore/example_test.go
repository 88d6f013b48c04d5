package noopstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/noopstore"
)

func Example() {
	store := noopstore.New()
	ctx := context.Background()
	v, err := store.Save(ctx, "abc", session.Record{Data: []byte("hello"), Expiry: time.Now().Add(time.Hour)})
	fmt.Println(v != 0, err)
	_, err = store.Load(ctx, "abc")
	fmt.Println(errors.Is(err, session.ErrNotFound))
	// Output:
	// true <nil>
	// true
}
