package mongostore_test

import (
	"context"
	"log"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/mongostore"
)

// A store on a collection, with its indexes created at start-up.
func ExampleNew() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()

	store, err := mongostore.New(client.Database("app").Collection("sessions"), mongostore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	v, err := store.Save(ctx, "key", session.Record{Data: []byte("hello"), Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	rec, err := store.Load(ctx, "key")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s at version %d (saved %d)", rec.Data, rec.Version, v)
}

// Sharing the Phalcon incubator's session collection with a PHP
// application: data as strings (pair with a PHP codec), the PHP
// application's gc_maxlifetime as MaxLifetime, and a periodic GC, which also
// removes the documents PHP inserted and never updated.
func ExampleOptions_compat() {
	var client *mongo.Client // connected elsewhere
	store, err := mongostore.New(client.Database("app").Collection("session_data"), mongostore.Options{
		Compat:      true,
		MaxLifetime: 1440 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for range time.Tick(10 * time.Minute) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if n, err := store.GC(ctx); err != nil {
				log.Printf("session GC: %v", err)
			} else {
				log.Printf("session GC: %d expired sessions removed", n)
			}
			cancel()
		}
	}()
}
