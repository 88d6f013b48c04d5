package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/redisstore"
)

// A store on a single Redis server.
func Example() {
	client := redis.NewClient(&redis.Options{
		Addr: "127.0.0.1:6379",
		// Let the context's deadline bound every network wait.
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	now := time.Now()
	v, err := store.Save(ctx, "0123abcd", session.Record{
		Data:    []byte("encoded values"),
		Expiry:  now.Add(30 * time.Minute),
		Created: now,
		Owner:   "user-42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := store.Load(ctx, "0123abcd")
	fmt.Println(v == rec.Version, string(rec.Data), err)
}

// A store on a Redis Cluster, under Phalcon's key prefix.
func ExampleNew_cluster() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{Prefix: redisstore.PhalconPrefix})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = store
}

// A store on a primary managed by Redis Sentinel.
func ExampleNew_sentinel() {
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"127.0.0.1:26379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = store
}

// A store whose writes wait for one replica: a Save that returns without
// error is on the primary and on at least one replica.
func ExampleOptions_waitReplicas() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.Options{
		WaitReplicas: 1,
		WaitTimeout:  200 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, err = store.Save(ctx, "0123abcd", session.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour)})
	if errors.Is(err, redisstore.ErrNotReplicated) {
		// Written on the primary only: a failover now may lose it.
		fmt.Println(err)
	}
}

func ExampleStore_Prefix() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	for _, prefix := range []string{"", redisstore.PhalconPrefix} {
		store, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(store.Prefix())
	}
	// Output:
	// session:
	// sess-reds-
}
