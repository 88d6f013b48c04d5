// Command sessionkit-consumer is the first example of the README ("Use"), as
// a program of a user's module: scripts/consumer.sh builds it outside go.work
// against github.com/sessionkit/session, .../sqlstore and .../redisstore got
// from a module proxy. It serves the example's handler with memstore (as in
// the README) and with sqlstore on SQLite (no server needed), visits it three
// times with one cookie jar and prints what it answered; consumer.sh compares
// the output.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/redisstore"
	"github.com/sessionkit/session/sqlstore"
	_ "modernc.org/sqlite"
)

// handler is the README's example: m := session.New(...) through
// m.Handler(mux), with the store passed in.
func handler(store session.Store) http.Handler {
	m := session.New(store) // or sqlstore, redisstore, mongostore, ...
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Load(r.Context()) // one store read; none if never called
		if err != nil {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		s.Update("visits", func(old any) any { n, _ := old.(int); return n + 1 })
		n, _ := session.Get[int](s, "visits")
		fmt.Fprintf(w, "visit %d", n)
	})
	return m.Handler(mux) // the README: http.ListenAndServe(":8080", m.Handler(mux))
}

func main() {
	log.SetFlags(0)
	ctx := context.Background()

	visit("memstore", memstore.New())

	dir, err := os.MkdirTemp("", "sessionkit-consumer-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	opts := sqlstore.Options{Dialect: sqlstore.SQLite}
	if err := sqlstore.Migrate(ctx, db, opts); err != nil {
		log.Fatal(err)
	}
	store, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	visit("sqlstore", store)

	// redisstore: built and constructed (New sends nothing to the server).
	rs, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}), redisstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var _ session.Store = rs
	fmt.Println("redisstore: ok")
}

// visit serves handler(store) over TLS (the session cookie is Secure by
// default) and GETs / three times with one cookie jar.
func visit(name string, store session.Store) {
	ts := httptest.NewTLSServer(handler(store))
	defer ts.Close()
	client := ts.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	client.Jar = jar
	fmt.Print(name + ":")
	for range 3 {
		resp, err := client.Get(ts.URL + "/")
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("%s: %s: %s", name, resp.Status, body)
		}
		fmt.Printf(" %s;", body)
	}
	fmt.Println()
}
