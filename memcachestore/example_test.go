package memcachestore_test

import (
	"context"
	"log"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memcachestore"
)

func Example() {
	client := memcache.New("127.0.0.1:11211")
	// gomemcache takes no context: its Timeout bounds every socket
	// operation. Keep it below your request deadline.
	client.Timeout = 200 * time.Millisecond
	client.MaxIdleConns = 64

	store, err := memcachestore.New(client, memcachestore.Options{Prefix: memcachestore.PhalconPrefix})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	v, err := store.Save(ctx, "some-session-key", session.Record{
		Data:   []byte("encoded values"),
		Expiry: time.Now().Add(30 * time.Minute),
	})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := store.Load(ctx, "some-session-key")
	if err != nil {
		log.Fatal(err)
	}
	rec.Data = []byte("changed values")
	if rec.Version == v {
		// One round trip: a "cas" with the unique Load remembered.
		if _, err := store.Save(ctx, "some-session-key", rec); err != nil {
			log.Fatal(err)
		}
	}
}
