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

// TestMigrateUpgrades walks a table through the history of Phalcon's incubator Database adapter: an
// incubator 3.4 table (integer times) written by PHP, upgraded to the
// adapter's session_data table with --upgrade incubator34, then to the native
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
			// The store refuses to open the old table, saying what to do.
			r := fails(t, exitFail, "sessionctl migrate --upgrade incubator34", st, "ls")
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("ls on an incubator 3.4 table: %q", r.stderr)
			}
			r = must(t, st, "migrate", "--upgrade", "incubator34")
			if !strings.Contains(r.stdout, "(compat layout): upgraded from the incubator 3.4 schema") {
				t.Errorf("migrate --upgrade incubator34: %q", r.stdout)
			}
			r = must(t, st, "migrate", "--upgrade", "incubator34") // idempotent
			if !strings.Contains(r.stdout, "already up to date") {
				t.Errorf("migrate --upgrade incubator34 again: %q", r.stdout)
			}
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
			if !strings.Contains(r.stdout, "(native layout): upgraded from the compatibility layout to the native layout") {
				t.Errorf("migrate --upgrade native: %q", r.stdout)
			}
			if r = must(t, st, "migrate", "--upgrade", "native"); !strings.Contains(r.stdout, "already up to date") {
				t.Errorf("migrate --upgrade native again: %q", r.stdout)
			}
			nativeURL := strings.Replace(compatURL, "layout=compat", "raw_ids=true&codec=php", 1)
			r = must(t, "--store="+nativeURL, "show", id)
			if !strings.Contains(r.stdout, "alice") {
				t.Errorf("show after the native upgrade:\n%s", r.stdout)
			}
			if r = must(t, "--store="+nativeURL, "migrate"); !strings.Contains(r.stdout, "already up to date") { // already native: nothing to do
				t.Errorf("migrate on the native table: %q", r.stdout)
			}
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
				r := fails(t, exitFail, "sessionctl migrate", "--store="+u, "stats")
				if n := strings.Count(r.stderr, "create it with"); n != 1 {
					t.Errorf("stats on a missing table gives %d hints: %q", n, r.stderr)
				}
				// The URL without its layout parameter: --layout decides,
				// and the output names the layout it made.
				plain := strings.Replace(u, "layout="+layout, "", 1)
				r = must(t, "--store="+plain, "migrate", "--layout", layout)
				if want := "table " + tableOf(t, u) + " (" + layout + " layout): created"; !strings.Contains(r.stdout, want) {
					t.Errorf("migrate: %q, want %q", r.stdout, want)
				}
				if r = must(t, "--store="+u, "migrate"); !strings.Contains(r.stdout, "("+layout+" layout): already up to date") {
					t.Errorf("migrate again: %q", r.stdout)
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

// TestMigrateRefuses checks that migrate looks at the table before it
// changes it: the incubator 3.4 upgrade and --layout compat refuse a native
// table (whose DATETIME(6) columns the upgrade would turn into TIMESTAMP)
// and leave it as it was, and upgrades of a missing table fail.
func TestMigrateRefuses(t *testing.T) {
	for _, b := range sqlBackends {
		t.Run(b.name, func(t *testing.T) {
			if b.env != "" {
				testenv.Need(t, b.env)
			}
			t.Parallel()
			u := b.url(t, "")
			st := "--store=" + u
			for _, up := range []string{"incubator34", "native"} {
				fails(t, exitFail, "no such table", st, "migrate", "--upgrade", up)
			}
			must(t, st, "migrate")
			db := b.open(t, u)
			types := columnTypes(t, db, b.name, tableOf(t, u))
			for _, args := range [][]string{{"--upgrade", "incubator34"}, {"--layout", "compat"}} {
				r := fails(t, exitFail, "native layout", append([]string{st, "migrate"}, args...)...)
				if strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("migrate %s: %q is not one line", strings.Join(args, " "), r.stderr)
				}
				if got := columnTypes(t, db, b.name, tableOf(t, u)); got != types {
					t.Errorf("migrate %s changed the table: %s, was %s", strings.Join(args, " "), got, types)
				}
			}
			fails(t, exitFail, "remove layout=compat", "--store="+u+"&layout=compat", "ls")
		})
	}
}

// columnTypes returns the types of the time columns of table, as the
// database's catalog reports them.
func columnTypes(t *testing.T, db *sql.DB, dialect, table string) string {
	t.Helper()
	q := "SELECT name || ' ' || type FROM pragma_table_info(?) WHERE name LIKE '%_at' ORDER BY name"
	switch dialect {
	case "mysql":
		q = "SELECT CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME LIKE '%_at' ORDER BY COLUMN_NAME"
	case "postgres":
		q = "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name LIKE '%_at' ORDER BY column_name"
	}
	rows, err := db.Query(q, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("table %s: time columns %v, want 3", table, out)
	}
	return strings.Join(out, ", ")
}
