package filestore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

func Example() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := filestore.New(filestore.Options{Dir: dir, Prefix: filestore.PHPPrefix})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	v, err := store.Save(ctx, "abc123", session.Record{Data: []byte("hello"), Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	// A second create of the same key is a conflict.
	_, err = store.Save(ctx, "abc123", session.Record{Data: []byte("other"), Expiry: time.Now().Add(time.Hour)})
	fmt.Println("conflict:", errors.Is(err, session.ErrConflict))

	rec, err := store.Load(ctx, "abc123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(rec.Data), rec.Version == v)

	_, err = store.Load(ctx, "../etc/passwd")
	fmt.Println("invalid key:", errors.Is(err, session.ErrInvalidKey))
	// Output:
	// conflict: true
	// hello true
	// invalid key: true
}

func ExampleStore_GC() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := filestore.New(filestore.Options{Dir: dir, GCBatch: 500})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, _ = store.Save(ctx, "old", session.Record{Data: []byte("x"), Expiry: time.Now().Add(-time.Minute)})
	_, _ = store.Save(ctx, "new", session.Record{Data: []byte("y"), Expiry: time.Now().Add(time.Hour)})

	// Run this periodically (for example from a time.Ticker); each call
	// examines at most 500 directory entries.
	n, err := store.GC(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed", n)
	// Output: removed 1
}
