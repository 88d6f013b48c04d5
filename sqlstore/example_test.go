package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/sqlstore"
)

// A native-layout store on a SQLite file: create the table, save, load.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// busy_timeout and WAL, so that concurrent requests wait their turn.
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		panic(err)
	}
	defer db.Close()

	opts := sqlstore.Options{Dialect: sqlstore.SQLite}
	if err := sqlstore.Migrate(ctx, db, opts); err != nil {
		panic(err)
	}
	store, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	rec := session.Record{Data: []byte("hello"), Expiry: time.Now().Add(time.Hour), Owner: "user-42"}
	v, err := store.Save(ctx, "key-1", rec)
	if err != nil {
		panic(err)
	}
	got, err := store.Load(ctx, "key-1")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(got.Data), got.Version == v)

	// A second save with the stale version 0 is a conflict.
	_, err = store.Save(ctx, "key-1", rec)
	fmt.Println(err != nil)

	keys, _ := store.OwnerKeys(ctx, "user-42")
	fmt.Println(keys)
	// Output:
	// hello true
	// true
	// [key-1]
}

// The incubator Database adapter's session_data table, shared with a PHP application whose
// session.gc_maxlifetime is 1440 seconds. With MySQL, open the database with
// github.com/go-sql-driver/mysql.
func ExampleNewCompat() {
	ctx := context.Background()
	db, err := sql.Open("mysql", "user:password@tcp(127.0.0.1:3306)/app")
	if err != nil {
		panic(err)
	}
	opts := sqlstore.Options{
		Dialect:     sqlstore.MySQL,
		Table:       "session_data",
		MaxLifetime: 1440 * time.Second,
	}
	// Creates the incubator table if missing, upgrades an incubator 3.4 one.
	if err := sqlstore.Migrate(ctx, db, sqlstore.Options{Dialect: sqlstore.MySQL, Layout: sqlstore.Compatibility}); err != nil {
		fmt.Println(err)
		return
	}
	store, err := sqlstore.NewCompat(ctx, db, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	fmt.Println(store.MaxKeyLength()) // 35: longer IDs are refused, not truncated
}

// Moving from the incubator table to the native layout once no PHP
// application uses it any more.
func ExampleUpgradeToNative() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "app.db")))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	opts := sqlstore.Options{Dialect: sqlstore.SQLite, MaxLifetime: 1440 * time.Second}

	compat := opts
	compat.Layout = sqlstore.Compatibility
	if err := sqlstore.CreateSchema(ctx, db, compat); err != nil {
		panic(err)
	}
	if _, err := db.Exec(`INSERT INTO session_data (session_id, data) VALUES ('abc', 'a|i:1;')`); err != nil {
		panic(err)
	}
	if err := sqlstore.UpgradeToNative(ctx, db, opts); err != nil {
		panic(err)
	}
	store, err := sqlstore.New(ctx, db, opts)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	var n int
	_ = db.QueryRow(`SELECT COUNT(*) FROM session_data WHERE version = 1`).Scan(&n)
	fmt.Println(n, store.MaxKeyLength())
	// Output: 1 255
}

// A store on a SQLite file opened with OpenSQLite: writes through one
// connection, reads through a pool of read-only connections.
func ExampleOpenSQLite() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sdb, err := sqlstore.OpenSQLite("sqlite", filepath.Join(dir, "sessions.db"))
	if err != nil {
		panic(err)
	}
	defer sdb.Close()
	opts := sqlstore.Options{Dialect: sqlstore.SQLite, ReadDB: sdb.Read}
	if err := sqlstore.Migrate(ctx, sdb.Write, opts); err != nil {
		panic(err)
	}
	store, err := sqlstore.New(ctx, sdb.Write, opts)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	m := session.New(store)
	_ = m // serve with m.Handler(...)
	if _, err := store.Save(ctx, "k", session.Record{Data: []byte("hello"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		panic(err)
	}
	rec, err := store.Load(ctx, "k")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(rec.Data), sdb.Write.Stats().MaxOpenConnections)
	// Output: hello 1
}
