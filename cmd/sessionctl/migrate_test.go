package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sessionkit/session/cmd/internal/testenv"
	"github.com/sessionkit/session/mongostore"
)

// sqlBackends are the SQL databases that migrate works on.
var sqlBackends = []struct {
	name, env string
	url       func(t testing.TB, extra string) string
	open      func(t testing.TB, storeURL string) *sql.DB
	intType   string
}{
	{"sqlite", "", func(t testing.TB, extra string) string {
		return testenv.SQLite(t) + "?" + extra + "&table=" + testenv.Unique("t")
	}, func(t testing.TB, storeURL string) *sql.DB {
		u, _ := url.Parse(storeURL)
		return openDB(t, "sqlite", "file:"+u.Path)
	}, "INTEGER"},
	{"mysql", "SESSION_TEST_MYSQL_DSN", testenv.MySQL, func(t testing.TB, _ string) *sql.DB {
		return openDB(t, "mysql", os.Getenv("SESSION_TEST_MYSQL_DSN"))
	}, "INT UNSIGNED"},
	{"postgres", "SESSION_TEST_POSTGRES_DSN", testenv.Postgres, func(t testing.TB, _ string) *sql.DB {
		return openDB(t, "pgx", os.Getenv("SESSION_TEST_POSTGRES_DSN"))
	}, "INTEGER"},
}

func openDB(t testing.TB, driver, dsn string) *sql.DB {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// tableOf returns the table parameter of a store URL.
func tableOf(t testing.TB, storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("table")
}

// TestMigrateUpgrades walks a table through the seed's history: an
// incubator 3.4 table (integer times) written by PHP, upgraded to the
// seed's session_data table with --upgrade incubator34, then to the native
// layout with --upgrade native; the PHP session stays readable at every
// step.
func TestMigrateUpgrades(t *testing.T) {
	for _, b := range sqlBackends {
		t.Run(b.name, func(t *testing.T) {
			if b.env != "" {
				testenv.Need(t, b.env)
			}
			t.Parallel()
			compatURL := b.url(t, "layout=compat")
			table := tableOf(t, compatURL)
			db := b.open(t, compatURL)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ddl := fmt.Sprintf("CREATE TABLE %s (session_id VARCHAR(35) NOT NULL, data TEXT NOT NULL, created_at %s NOT NULL, modified_at %s NULL, PRIMARY KEY (session_id))", table, b.intType, b.intType)
			if _, err := db.ExecContext(ctx, ddl); err != nil {
				t.Fatal(err)
			}
			id := randomID()
			now := time.Now().Unix()
			ins := "INSERT INTO " + table + " (session_id, data, created_at, modified_at) VALUES (?, ?, ?, ?)"
			if b.name == "postgres" {
				ins = "INSERT INTO " + table + " (session_id, data, created_at, modified_at) VALUES ($1, $2, $3, $4)"
			}
			if _, err := db.ExecContext(ctx, ins, id, `user|s:5:"alice";n|i:7;`, now-120, now-60); err != nil {
				t.Fatal(err)
			}

			st := "--store=" + compatURL
			r := must(t, st, "migrate", "--upgrade", "incubator34")
			if !strings.Contains(r.stdout, "incubator 3.4") {
				t.Errorf("migrate --upgrade incubator34: %q", r.stdout)
			}
			must(t, st, "migrate", "--upgrade", "incubator34") // idempotent
			r = must(t, st, "show", id)
			if !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "values (php)") {
				t.Errorf("show after the incubator 3.4 upgrade:\n%s", r.stdout)
			}
			// The upgrade kept the row's times: modified a minute ago.
			r = must(t, st, "show", "--json", id)
			var out showJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(out.Modified); d < 50*time.Second || d > 5*time.Minute {
				t.Errorf("modified %v ago after the upgrade, want about a minute", d)
			}

			r = must(t, st, "migrate", "--upgrade", "native")
			if !strings.Contains(r.stdout, "native layout") {
				t.Errorf("migrate --upgrade native: %q", r.stdout)
			}
			nativeURL := strings.Replace(compatURL, "layout=compat", "raw_ids=true&codec=php", 1)
			r = must(t, "--store="+nativeURL, "show", id)
			if !strings.Contains(r.stdout, "alice") {
				t.Errorf("show after the native upgrade:\n%s", r.stdout)
			}
			must(t, "--store="+nativeURL, "migrate") // already native: nothing to do
			must(t, "--store="+nativeURL, "ls", "--owner", "nobody")
		})
	}
}

// TestMigrateCreates checks that migrate creates either layout from
// nothing, after which the store opens, and that a store on a missing table
// says how to create it.
func TestMigrateCreates(t *testing.T) {
	for _, b := range sqlBackends {
		for _, layout := range []string{"native", "compat"} {
			t.Run(b.name+"-"+layout, func(t *testing.T) {
				if b.env != "" {
					testenv.Need(t, b.env)
				}
				t.Parallel()
				u := b.url(t, "layout="+layout)
				fails(t, exitFail, "sessionctl migrate", "--store="+u, "stats")
				r := must(t, "--store="+u, "migrate", "--layout", layout)
				if !strings.Contains(r.stdout, tableOf(t, u)) {
					t.Errorf("migrate: %q does not name the table", r.stdout)
				}
				r = must(t, "--store="+u, "stats")
				if !strings.Contains(r.stdout, "sessions:      0") {
					t.Errorf("stats on a new table:\n%s", r.stdout)
				}
			})
		}
	}
}

// TestMigrateMongo checks that migrate creates the collection's indexes.
func TestMigrateMongo(t *testing.T) {
	uri := testenv.Need(t, "SESSION_TEST_MONGO_URI")
	storeURL := testenv.Mongo(t)
	r := must(t, "--store="+storeURL, "migrate")
	if !strings.Contains(r.stdout, mongostore.OwnerIndexName) {
		t.Errorf("migrate: %q", r.stdout)
	}
	u, _ := url.Parse(storeURL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	cur, err := c.Database(strings.Trim(u.Path, "/")).Collection(u.Query().Get("collection")).Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var idx []bson.M
	if err := cur.All(ctx, &idx); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, i := range idx {
		if n, ok := i["name"].(string); ok {
			names[n] = true
		}
	}
	for _, want := range []string{mongostore.OwnerIndexName, mongostore.ExpiresIndexName} {
		if !names[want] {
			t.Errorf("index %s missing after migrate; indexes: %v", want, names)
		}
	}
	fails(t, exitUsage, "--upgrade applies to SQL stores", "--store="+storeURL, "migrate", "--upgrade", "native")
}

// TestMigrateNoSchema checks that stores without a schema succeed with a
// message.
func TestMigrateNoSchema(t *testing.T) {
	r := must(t, "--store="+testenv.Files(t), "migrate")
	if !strings.Contains(r.stdout, "nothing to migrate") {
		t.Errorf("migrate on files: %q", r.stdout)
	}
	fails(t, exitFail, "no schema", "--store="+testenv.Files(t), "migrate", "--layout", "compat")
}
